/**
 * `load`: images from a docker-archive or an oci-archive (from a file, or stdin, which is spooled
 * to the store's tmp/ first, since members may come in any order). All metadata is read and
 * checked first; then the layers the store lacks are streamed in, each checked against its diffID
 * (and, for OCI blobs, against the blob digest); the images are added only when every layer is
 * there. If anything fails, the layers this load stored are removed again: a corrupt archive
 * leaves the store as it was.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { ArchiveError } from '../errors.js';
import { storePaths } from '../paths.js';
import { decompressed } from '../util/compression.js';
import { checkInputFile, tmpName } from '../util/fsutil.js';
import { removeOnSignal } from '../util/output.js';
import { addImage } from './add.js';
import { ArchiveReader, type ArchiveMember } from './archive-reader.js';
import { planDockerArchive, planOciArchive, type PlannedImage } from './archive-plan.js';
import { collectGarbage } from './gc.js';
import { discardUnindexedLayers, ingestLayer } from './layers.js';
import { familiarString, parseReference } from './reference.js';
import { initStore, layerPresent, loadImages, writeBlob } from './store.js';

/** stdin as a file: the archive is read twice. */
async function spoolStdin(): Promise<string> {
  const file = tmpName(storePaths.tmp(), 'load');
  const disarm = removeOnSignal(file);
  try {
    await pipeline(process.stdin, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  } catch (e) {
    fs.rmSync(file, { force: true });
    throw e;
  } finally {
    disarm();
  }
  if (fs.statSync(file).size === 0) {
    fs.rmSync(file, { force: true });
    throw new ArchiveError('requested load from stdin, but stdin is empty');
  }
  return file;
}

/**
 * A member's body as given to the layer store, hashed on the way; `drain` reads whatever the
 * consumer left (a compressed blob's trailer), so the digest covers every byte.
 */
function hashed(body: AsyncIterable<Buffer>) {
  const it = body[Symbol.asyncIterator]();
  const hash = crypto.createHash('sha256');
  const take = async () => {
    const r = await it.next();
    if (!r.done) hash.update(r.value);
    return r;
  };
  // `return` does not end the body: the rest is still to be hashed by drain().
  const iterable: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => ({ next: take, return: async () => ({ done: true, value: undefined }) }) };
  return {
    iterable,
    async digest(): Promise<string> {
      for (let r = await take(); !r.done; r = await take()) {
        /* hashing */
      }
      return `sha256:${hash.digest('hex')}`;
    },
  };
}

/** Streams in every layer the store lacks; returns their sizes, and the diffIDs it stored into `stored`. */
async function storeLayers(arc: ArchiveReader, images: PlannedImage[], stored: string[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const wanted = new Map<number, (body: AsyncIterable<Buffer>, m: ArchiveMember) => Promise<void>>();
  const planned = new Map<number, string>();
  for (const layer of images.flatMap((i) => i.layers)) {
    const { diffId, member, blobDigest } = layer;
    const other = planned.get(member.index);
    if (other !== undefined && other !== diffId) throw new ArchiveError(`${arc.label}: ${member.name} is given as two different layers (${other} and ${diffId})`);
    if (other !== undefined || [...planned.values()].includes(diffId) || layerPresent(diffId)) continue;
    planned.set(member.index, diffId);
    wanted.set(member.index, async (body, m) => {
      const label = `layer ${m.name}`;
      const h = hashed(body);
      const r = await ingestLayer(decompressed(h.iterable, label), diffId, label);
      stored.push(diffId);
      sizes.set(diffId, r.size);
      const got = await h.digest();
      if (blobDigest && got !== blobDigest) throw new ArchiveError(`${arc.label}: ${label} failed verification: its digest is ${got}, not ${blobDigest}`);
    });
  }
  await arc.stream(wanted);
  return sizes;
}

export interface LoadOptions {
  /** The archive; stdin when absent. */
  input?: string;
  out: (line: string) => void;
}

export async function loadArchive(opts: LoadOptions): Promise<void> {
  initStore();
  collectGarbage();
  if (opts.input !== undefined) checkInputFile(opts.input);
  const file = opts.input ?? (await spoolStdin());
  const stored: string[] = [];
  try {
    const arc = await ArchiveReader.open(file, opts.input ?? 'the archive on stdin');
    let images: PlannedImage[];
    if (arc.has('manifest.json')) images = planDockerArchive(arc);
    else if (arc.has('index.json')) images = planOciArchive(arc);
    else throw new ArchiveError(`${arc.label} is neither a docker archive (it has no manifest.json) nor an OCI archive (no index.json)`);

    const sizes = await storeLayers(arc, images, stored);
    const before = loadImages();
    const lines: string[] = [];
    for (const img of images) {
      for (const t of img.tags) {
        const holder = Object.values(before.images).find((i) => i.repoTags.includes(t));
        if (holder && holder.id !== img.id) lines.push(`The image ${familiarString(parseReference(t))} already exists, renaming the old one with ID ${holder.id} to empty string`);
      }
      if (img.manifest) writeBlob(img.manifest.body, img.manifest.digest);
      await addImage({ config: img.config, configBlob: img.configBlob, layerSizes: sizes, tags: img.tags, manifestDigest: img.manifest?.digest });
      if (img.tags.length === 0) lines.push(`Loaded image ID: ${img.id}`);
      for (const t of img.tags) lines.push(`Loaded image: ${familiarString(parseReference(t))}`);
    }
    for (const l of lines) opts.out(l);
  } catch (e) {
    await discardUnindexedLayers(stored);
    throw e;
  } finally {
    if (opts.input === undefined) fs.rmSync(file, { force: true });
  }
}
