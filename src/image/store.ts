/**
 * The local image store: an index (images.json) of images and the layers they use, small JSON blobs
 * (manifests, configs) by digest, and one extracted directory per layer diffID, shared by every image
 * that has that layer. Layer directories only ever appear by rename from tmp/, so one that exists is
 * complete.
 */
import fs from 'node:fs';
import { NotFoundError, ConflictError, TsctrError } from '../errors.js';
import { dataRoot, storePaths, hexOf } from '../paths.js';
import { readJson, writeJson, SCHEMA_VERSION } from '../store/json-store.js';
import { withLock } from '../store/lock.js';
import { atomicWriteFile, ensureDir, pathExists, tmpName } from '../util/fsutil.js';
import { sha256 } from '../util/digest.js';
import { parseReference, formatReference, fullName } from './reference.js';
import type { ImageConfig, ImageRecord, ImagesDoc } from './types.js';

const emptyDoc = (): ImagesDoc => ({ schemaVersion: SCHEMA_VERSION, images: {}, layers: {} });

export function initStore(): void {
  ensureDir(dataRoot());
  fs.chmodSync(dataRoot(), 0o700);
  for (const d of [storePaths.blobs(), storePaths.layers(), storePaths.tarSplits(), storePaths.tmp()]) ensureDir(d);
}

export function loadImages(): ImagesDoc {
  return readJson(storePaths.imagesIndex(), emptyDoc, { key: 'images' });
}

/** Every read-modify-write of the index goes through here: locked, then written atomically. */
export async function updateImages<T>(fn: (doc: ImagesDoc) => T): Promise<T> {
  initStore();
  return withLock(storePaths.lockFile(), () => {
    const doc = loadImages();
    const result = fn(doc);
    writeJson(storePaths.imagesIndex(), doc);
    return result;
  });
}

export function writeBlob(data: Buffer, expected?: string): string {
  const digest = sha256(data);
  if (expected && digest !== expected) {
    throw new TsctrError(`digest mismatch: expected ${expected}, got ${digest}`);
  }
  const file = storePaths.blob(digest);
  if (!pathExists(file)) atomicWriteFile(file, data, 0o600);
  return digest;
}

export function readBlob(digest: string): Buffer {
  try {
    return fs.readFileSync(storePaths.blob(digest));
  } catch {
    throw new TsctrError(`blob ${digest} is missing from the store`);
  }
}

export function readImageConfig(image: ImageRecord): ImageConfig {
  return JSON.parse(readBlob(image.id).toString('utf8')) as ImageConfig;
}

export function layerPresent(diffId: string): boolean {
  return pathExists(storePaths.layer(diffId));
}

/**
 * Docker's image lookup: a full or abbreviated ID (with or without sha256:), a name[:tag], or
 * name@digest. Abbreviated IDs must be unambiguous.
 */
export function findImage(doc: ImagesDoc, query: string): ImageRecord | undefined {
  const bare = query.startsWith('sha256:') ? query.slice(7) : query;
  if (/^[a-f0-9]{64}$/.test(bare)) return doc.images[`sha256:${bare}`];
  if (query.startsWith('sha256:') && /^[a-f0-9]+$/.test(bare)) return byIdPrefix(doc, bare, query);
  let ref;
  try {
    ref = parseReference(query);
  } catch (e) {
    if (/^[a-f0-9]+$/.test(query)) return byIdPrefix(doc, query, query);
    throw e;
  }
  const images = Object.values(doc.images);
  if (ref.digest) {
    const want = `${fullName(ref)}@${ref.digest}`;
    const hit = images.find((i) => i.repoDigests.includes(want) || (i.manifestDigest === ref.digest && i.repoTags.some((t) => t.startsWith(`${fullName(ref)}:`))));
    if (hit) return hit;
  } else {
    const want = formatReference(ref);
    const hit = images.find((i) => i.repoTags.includes(want));
    if (hit) return hit;
  }
  // A name that is not a tag may still be an ID prefix (docker tries both).
  if (/^[a-f0-9]{3,}$/.test(query)) return byIdPrefix(doc, query, query);
  return undefined;
}

function byIdPrefix(doc: ImagesDoc, prefix: string, query: string): ImageRecord | undefined {
  const hits = Object.values(doc.images).filter((i) => hexOf(i.id).startsWith(prefix));
  if (hits.length > 1) throw new ConflictError(`ambiguous image ID prefix "${query}": ${hits.length} images match`);
  return hits[0];
}

export function getImage(doc: ImagesDoc, query: string): ImageRecord {
  const img = findImage(doc, query);
  if (!img) throw new NotFoundError(`No such image: ${query}`);
  return img;
}

/** Move a tag onto an image, taking it off whatever image had it (which may become dangling). */
export function setTag(doc: ImagesDoc, image: ImageRecord, tag: string): void {
  for (const other of Object.values(doc.images)) {
    if (other !== image) other.repoTags = other.repoTags.filter((t) => t !== tag);
  }
  if (!image.repoTags.includes(tag)) image.repoTags.push(tag);
}

/** Layers no image refers to any more; returned so the caller can delete their directories. */
export function dropUnusedLayers(doc: ImagesDoc): string[] {
  const used = new Set(Object.values(doc.images).flatMap((i) => i.layers));
  const dropped: string[] = [];
  for (const diffId of Object.keys(doc.layers)) {
    if (!used.has(diffId)) {
      delete doc.layers[diffId];
      dropped.push(diffId);
    }
  }
  return dropped;
}

/**
 * Moves layer directories out of sight (one rename each, under the caller's lock) into a trash dir
 * that is deleted afterwards; a crash in between leaves only trash, which `collectGarbage` removes.
 */
export function trashLayers(diffIds: string[]): string | undefined {
  for (const d of diffIds) fs.rmSync(storePaths.tarSplit(d), { force: true });
  const present = diffIds.filter(layerPresent);
  if (present.length === 0) return undefined;
  const trash = tmpName(storePaths.tmp(), 'trash');
  fs.mkdirSync(trash, { mode: 0o700 });
  for (const d of present) fs.renameSync(storePaths.layer(d), `${trash}/${hexOf(d)}`);
  return trash;
}
