/**
 * Named volumes: directories under <data>/volumes/<name>/_data, owned by the user (= root in the
 * container). Anonymous volumes (`-v /path`) get a random name and go with `rm -v`.
 */
import { randomHex } from '../util/random.js';
import fs from 'node:fs';
import path from 'node:path';
import { ConflictError, NotFoundError, TsctrError } from '../errors.js';
import { volumePaths } from '../paths.js';
import { removeTreesAsNamespaceRoot } from '../rootless/userns.js';
import { appendEvent } from '../store/events.js';
import { ensureDir } from '../util/fsutil.js';
import { loadContainers } from './store.js';
import { LayerStack, treeEntries } from '../overlay/dir-tar.js';
import { extractLayer } from '../overlay/extract.js';
import { END_OF_ARCHIVE } from '../overlay/tar-writer.js';
import { resolveInTree } from '../overlay/tree-path.js';
import type { ContainerRecord, MountSpec } from './types.js';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export interface VolumeInfo {
  CreatedAt: string;
  Driver: 'local';
  Labels: Record<string, string>;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string>;
  Scope: 'local';
}

export function randomVolumeName(): string {
  return randomHex(32);
}

export function ensureVolume(name: string): string {
  if (!NAME.test(name)) throw new TsctrError(`invalid volume name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  ensureDir(volumePaths.dir(), 0o700);
  const data = volumePaths.data(name);
  if (fs.existsSync(data)) return data;
  ensureDir(data, 0o755);
  appendEvent('volume', 'create', name, { driver: 'local' });
  return data;
}

export function volumeNames(): string[] {
  try {
    return fs.readdirSync(volumePaths.dir()).filter((n) => fs.existsSync(volumePaths.data(n))).sort();
  } catch {
    return [];
  }
}

export function inspectVolume(name: string): VolumeInfo {
  const data = volumePaths.data(name);
  let st: fs.Stats;
  try {
    st = fs.statSync(data);
  } catch {
    throw new NotFoundError(`get ${name}: no such volume`);
  }
  return { CreatedAt: st.birthtime.toISOString(), Driver: 'local', Labels: {}, Mountpoint: data, Name: name, Options: {}, Scope: 'local' };
}

/** Containers (by ID) whose mounts use the volume; pass the containers when asking for many volumes. */
export function volumeUsers(name: string, containers: ContainerRecord[] = Object.values(loadContainers().containers)): string[] {
  return containers
    .filter((c) => c.hostConfig.mounts.some((m) => m.type === 'volume' && m.source === name))
    .map((c) => c.id);
}

export function removeVolume(name: string, force: boolean): void {
  inspectVolume(name);
  const users = volumeUsers(name);
  if (users.length && !force) throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`);
  removeTreesAsNamespaceRoot([path.dirname(volumePaths.data(name))]);
  appendEvent('volume', 'destroy', name, { driver: 'local' });
}

/**
 * docker's and podman's copy-up: a volume new to this container, mounted where its image has a
 * directory with content, starts with a copy of that content (files, owners, modes, links; the
 * volume's root takes the directory's owner and mode). `nocopy` opts out. The image's files belong
 * to subordinate ids, so the copy runs as root in the user namespace (`internal volume-copy`);
 * a quick look from here first spares that process when there is nothing to copy.
 */
export async function populateVolumes(layers: string[], mounts: MountSpec[]): Promise<void> {
  for (const m of mounts) {
    if (!hasContent(layers, m.destination)) continue;
    const { runInUserNamespace } = await import('../rootless/userns.js');
    await runInUserNamespace(['internal', 'volume-copy', m.source, m.destination, ...layers]);
  }
}

function hasContent(layers: string[], destination: string): boolean {
  const stack = new LayerStack(layers);
  try {
    const { node, rel } = resolveInTree(stack, destination);
    if (!node?.st.isDirectory()) return false;
    // A directory of subordinate ids may not be listable from here: the namespace will tell.
    fs.accessSync(node.abs, fs.constants.R_OK | fs.constants.X_OK);
    return stack.list(rel).length > 0;
  } catch {
    return true; // not readable from here (subordinate ids): the namespace will tell
  } finally {
    stack.close();
  }
}

/** In the user namespace: the image's directory (the layers, topmost first) into the volume. */
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
