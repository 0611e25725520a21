/**
 * Layers in and out of the store as tars: extracting a verified tar into a new layer directory
 * (with the record that lets the same tar be rebuilt), and rebuilding a stored layer's tar for
 * push, save and the like. Both run where files of every image uid can be read and owned: as root
 * in the user namespace.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';
import { LayerError } from '../errors.js';
import { storePaths } from '../paths.js';
import { extractLayer, finishRoot, type RootMeta } from '../overlay/extract.js';
import { TarSplitRecorder, reassembleTar, verifiedTar, recordedTarSize } from '../overlay/tar-split.js';
import { removeTreesAsNamespaceRoot } from '../rootless/userns.js';
import { withLock } from '../store/lock.js';
import { atomicWriteFile, tmpName } from '../util/fsutil.js';
import { log } from '../util/log.js';
import { initStore, layerPresent, loadImages, trashLayers } from './store.js';

export interface ExtractedLayer {
  diffId: string;
  /** Bytes of the uncompressed tar. */
  size: number;
}

/**
 * Moves a finished extraction into the store under its diffID, with its tar record (written first,
 * so a layer directory that exists can always be rebuilt), and gives its root what the layer says
 * only then (extract.ts, rootLater: a read-only root, or one of a subordinate id, cannot be moved to
 * another parent by the user). Someone else may have stored the same layer meanwhile: theirs is
 * as good as ours.
 */
export function storeExtractedLayer(dir: string, diffId: string, recorder: TarSplitRecorder | undefined, root: RootMeta | undefined): void {
  if (recorder) atomicWriteFile(storePaths.tarSplit(diffId), recorder.serialize(), 0o600, false);
  const to = storePaths.layer(diffId);
  try {
    fs.renameSync(dir, to);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    removeTreesAsNamespaceRoot([dir]);
    return;
  }
  try {
    finishRoot(to, root);
  } catch (e) {
    // A layer whose root is not what its tar says must not stay for others to use.
    removeTreesAsNamespaceRoot([to]);
    throw e;
  }
}

/**
 * Extracts an uncompressed layer tar into the store and returns its diffID; with `expected`, a tar
 * with another digest is refused and nothing is kept.
 */
export async function ingestLayer(tar: AsyncIterable<Buffer>, expected?: string, label = 'layer'): Promise<ExtractedLayer> {
  initStore();
  const dir = tmpName(storePaths.tmp(), 'layer');
  fs.mkdirSync(dir, { mode: 0o755 });
  try {
    const hash = crypto.createHash('sha256');
    let size = 0;
    const it = tar[Symbol.asyncIterator]();
    const tapped: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          const r = await it.next();
          if (!r.done) {
            hash.update(r.value);
            size += r.value.length;
          }
          return r;
        },
      }),
    };
    const recorder = new TarSplitRecorder();
    const stats = await extractLayer(tapped, dir, { chown: true, rootLater: true, onWarning: (m) => log.warn(`${label}: ${m}`) }, recorder);
    // Whatever follows the end marker counts for the digest (the recorder has it too).
    for (let r = await it.next(); !r.done; r = await it.next()) {
      hash.update(r.value);
      size += r.value.length;
    }
    const diffId = `sha256:${hash.digest('hex')}`;
    if (expected && diffId !== expected) throw new LayerError(`${label} failed verification: its digest is ${diffId}, not ${expected}; nothing was stored`);
    if (layerPresent(diffId)) removeTreesAsNamespaceRoot([dir]);
    else storeExtractedLayer(dir, diffId, stats.reproducible ? recorder : undefined, stats.root);
    return { diffId, size };
  } catch (e) {
    removeTreesAsNamespaceRoot([dir]);
    throw e;
  }
}

function tarRecord(diffId: string): Buffer {
  try {
    return fs.readFileSync(storePaths.tarSplit(diffId));
  } catch {
    throw new LayerError(
      `layer ${diffId.slice(7, 19)} cannot be rebuilt as a tar: the store has no record of it (it was pulled by an older tsctr: remove the image and pull it again; or the layer rewrites its own files, which tsctr cannot reproduce)`,
    );
  }
}

/** The stored layer's tar, exactly as its diffID names it (checked as it streams: the last chunk fails if not). */
export function layerTar(diffId: string): AsyncIterable<Buffer> {
  const record = tarRecord(diffId);
  return verifiedTar(reassembleTar(record, storePaths.layer(diffId)), diffId);
}

export function layerTarSize(diffId: string): number {
  return recordedTarSize(tarRecord(diffId));
}

/**
 * Files the runtime puts into every container's writable layer as mount points (the bind-mounted
 * hostname, hosts and resolv.conf; /dev, /proc and /sys for images without them): not the
 * container's changes, so docker leaves them out of commits and builds, and so does this.
 */
export const RUNTIME_STUBS = new Set(['etc/hostname', 'etc/hosts', 'etc/resolv.conf', 'dev', 'proc', 'sys']);

/** A container's changes (its upper directory) as a new layer. */
export async function layerFromUpper(upper: string): Promise<ExtractedLayer> {
  const { diffTar } = await import('../overlay/dir-tar.js');
  return ingestLayer(diffTar(upper, { exclude: RUNTIME_STUBS }), undefined, 'container changes');
}

/**
 * Undoes ingestLayer for an operation that failed half way (a load whose third layer is corrupt):
 * the layers it stored that no image refers to are deleted, under the store lock so that a layer
 * an image meanwhile came to use is kept.
 */
export async function discardUnindexedLayers(diffIds: string[]): Promise<void> {
  if (diffIds.length === 0) return;
  const trash = await withLock(storePaths.lockFile(), () => {
    const indexed = loadImages().layers;
    return trashLayers(diffIds.filter((d) => !indexed[d]));
  });
  if (trash) removeTreesAsNamespaceRoot([trash]);
}
