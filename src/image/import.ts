/**
 * `import`: a tarball of a root filesystem (as `export` writes it; plain, gzip or zstd) becomes a
 * one-layer image. The tar itself is the layer, so its digest is the diffID; the config is made
 * here: linux on this host's architecture, the --change instructions, and a history entry saying
 * where the layer came from (or the --message).
 */
import fs from 'node:fs';
import { ArchiveError, LayerError } from '../errors.js';
import { decompressed } from '../util/compression.js';
import { addImage } from './add.js';
import { applyChanges } from './dockerfile/config-change.js';
import { collectGarbage } from './gc.js';
import { discardUnindexedLayers, ingestLayer } from './layers.js';
import { hostPlatform } from './platform.js';
import { initStore } from './store.js';
import type { ImageConfig, ImageRecord } from './types.js';

export interface ImportOptions {
  /** A file, or `-` for stdin. */
  source: string;
  tag?: string;
  changes: string[];
  message?: string;
}

export async function importTarball(o: ImportOptions): Promise<ImageRecord> {
  const containerConfig = applyChanges({}, o.changes);
  initStore();
  collectGarbage();
  const label = o.source === '-' ? 'the tarball on stdin' : o.source;
  const input: AsyncIterable<Buffer> = o.source === '-' ? process.stdin : fs.createReadStream(o.source, { highWaterMark: 1 << 20 });
  let layer;
  try {
    layer = await ingestLayer(decompressed(input, label), undefined, label);
  } catch (e) {
    // The reader's words are about "layers"; say which file broke them.
    if (e instanceof LayerError) throw new ArchiveError(`${label} is not a usable tar archive: ${e.message}`);
    throw e;
  }
  const created = new Date().toISOString();
  const { architecture, variant } = hostPlatform();
  const config: ImageConfig = {
    architecture,
    ...(variant ? { variant } : {}),
    os: 'linux',
    created,
    config: containerConfig,
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    history: [{ created, comment: o.message ?? `Imported from ${o.source}` }],
  };
  try {
    return await addImage({ config, layerSizes: new Map([[layer.diffId, layer.size]]), tags: o.tag ? [o.tag] : [] });
  } catch (e) {
    await discardUnindexedLayers([layer.diffId]);
    throw e;
  }
}
