/**
 * docker's and podman's copy-up of image content into new volumes. Its own module, loaded only
 * when a container gets a new or empty volume: `run`'s start-up does not evaluate the extractor.
 */
import fs from 'node:fs';
import { volumePaths } from '../paths.js';
import { LayerStack, treeEntries } from '../overlay/dir-tar.js';
import { extractLayer } from '../overlay/extract.js';
import { END_OF_ARCHIVE } from '../overlay/tar-writer.js';
import { resolveInTree } from '../overlay/tree-path.js';
import type { MountSpec } from './types.js';

/**
 * docker's and podman's copy-up: a volume new to this container, mounted where its image has a
 * directory with content, starts with a copy of that content (files, owners, modes, links; the
 * volume's root takes the directory's owner and mode). `nocopy` opts out. The image's files belong
 * to subordinate ids: what the user cannot read or own is done by the user-namespace helper
 * (src/rootless/userns-ops.ts), as for a pull.
 */
export async function populateVolumes(layers: string[], mounts: MountSpec[]): Promise<void> {
  for (const m of mounts) {
    if (!hasContent(layers, m.destination)) continue;
    await copyIntoVolume(m.source, m.destination, layers);
  }
}

function hasContent(layers: string[], destination: string): boolean {
  const stack = new LayerStack(layers);
  try {
    const { node, rel } = resolveInTree(stack, destination);
    if (!node?.st.isDirectory()) return false;
    // A directory of subordinate ids may not be listable from here: the copy will tell.
    fs.accessSync(node.abs, fs.constants.R_OK | fs.constants.X_OK);
    return stack.list(rel).length > 0;
  } catch {
    return true; // not readable from here (subordinate ids): the copy will tell
  } finally {
    stack.close();
  }
}

/** The image's directory (the layers, topmost first) into the volume. */
export async function copyIntoVolume(volume: string, destination: string, layers: string[]): Promise<void> {
  const data = volumePaths.data(volume);
  if (fs.readdirSync(data).length > 0) return; // only ever into an empty volume
  const stack = new LayerStack(layers);
  try {
    const { node, rel } = resolveInTree(stack, destination);
    if (!node?.st.isDirectory()) return;
    const strip = rel.length + 1;
    async function* tar(): AsyncGenerator<Buffer> {
      yield* treeEntries(stack, rel, { rename: (r) => (r === rel ? '.' : r.slice(strip)) });
      yield END_OF_ARCHIVE;
    }
    await extractLayer(tar(), data, { chown: true });
  } finally {
    stack.close();
  }
}
