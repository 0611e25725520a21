/**
 * Reproducing a layer's tar byte for byte from its extracted directory, as containers/storage's
 * tar-split does: while a layer is extracted, every byte of the archive except the bodies of the
 * files written to disk is kept (headers, padding, whatever was skipped), with references to those
 * files in between. Pushing or saving an image then sends exactly the tar its diff_ids name, so an
 * image keeps its ID wherever it goes, and nothing but these small records is stored twice.
 *
 * The record is `u32 length | JSON segment list | raw bytes`, gzipped. A segment is a number (that
 * many raw bytes) or `[path, size]` (a file's body, read from the layer directory).
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { nsLstat, nsRead } from '../rootless/userns-ops.js';
import { LayerError } from '../errors.js';
import type { TarRecorder } from './tar-reader.js';

type Segment = number | [string, number];

export class TarSplitRecorder implements TarRecorder {
  private readonly segments: Segment[] = [];
  private readonly rawChunks: Buffer[] = [];
  private pending = 0;

  raw(bytes: Buffer): void {
    // Copied: the input chunks are large and would otherwise be kept alive by small slices.
    this.rawChunks.push(Buffer.from(bytes));
    this.pending += bytes.length;
  }

  file(rel: string, size: number): void {
    this.flush();
    this.segments.push([rel, size]);
  }

  private flush(): void {
    if (this.pending) this.segments.push(this.pending);
    this.pending = 0;
  }

  serialize(): Buffer {
    this.flush();
    const json = Buffer.from(JSON.stringify({ version: 1, segments: this.segments }));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(json.length);
    return zlib.gzipSync(Buffer.concat([len, json, ...this.rawChunks]), { level: 1 });
  }
}

const READ_CHUNK = 256 * 1024;

/**
 * The layer's tar, rebuilt from its record and its directory. Files are opened only by paths
 * without symlinks in them, and the caller checks the result against the diffID (`verifiedTar`).
 */
export async function* reassembleTar(record: Buffer, layerDir: string): AsyncGenerator<Buffer> {
  let data: Buffer;
  let segments: Segment[];
  try {
    data = zlib.gunzipSync(record);
    const len = data.readUInt32BE(0);
    const doc = JSON.parse(data.toString('utf8', 4, 4 + len)) as { version: number; segments: Segment[] };
    if (doc.version !== 1) throw new Error(`version ${doc.version}`);
    segments = doc.segments;
    data = data.subarray(4 + len);
  } catch (e) {
    throw new LayerError(`the tar record of layer ${layerDir} is unreadable (${(e as Error).message})`);
  }
  let off = 0;
  for (const seg of segments) {
    if (typeof seg === 'number') {
      yield data.subarray(off, off + seg);
      off += seg;
      continue;
    }
    const [rel, size] = seg;
    const file = `${layerDir}/${rel}`;
    let fd: number;
    try {
      if (fs.realpathSync(file) !== file) throw new LayerError(`layer file ${rel} is reached through a symlink`);
      fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch (e) {
      // A file (or directory) of a subordinate id that only root of the namespace may read.
      if ((e as NodeJS.ErrnoException).code !== 'EACCES' || process.getuid?.() === 0) throw e;
      yield* readAsNamespaceRoot(layerDir, rel, size);
      continue;
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile() || st.size !== size) throw new LayerError(`layer file ${rel} changed since it was extracted`);
      let left = size;
      while (left > 0) {
        const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, left));
        const n = fs.readSync(fd, buf, 0, buf.length, size - left);
        if (n === 0) throw new LayerError(`layer file ${rel} is shorter than recorded`);
        left -= n;
        yield buf.subarray(0, n);
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** A recorded file read by the namespace helper, which follows no symlink on the way. */
function* readAsNamespaceRoot(layerDir: string, rel: string, size: number): Generator<Buffer> {
  const st = nsLstat(layerDir, rel);
  if (!st?.isFile() || st.size !== size) throw new LayerError(`layer file ${rel} changed since it was extracted`);
  for (let done = 0; done < size; ) {
    const buf = nsRead(layerDir, rel, done, Math.min(READ_CHUNK, size - done));
    if (buf.length === 0) throw new LayerError(`layer file ${rel} is shorter than recorded`);
    done += buf.length;
    yield buf;
  }
}

/** The total size of the tar a record describes, without reading any file. */
export function recordedTarSize(record: Buffer): number {
  const data = zlib.gunzipSync(record);
  const len = data.readUInt32BE(0);
  const { segments } = JSON.parse(data.toString('utf8', 4, 4 + len)) as { segments: Segment[] };
  return segments.reduce<number>((n, s) => n + (typeof s === 'number' ? s : s[1]), 0);
}

/** Passes the tar through, and fails at the end unless its sha256 is `diffId`. */
export async function* verifiedTar(src: AsyncIterable<Buffer>, diffId: string): AsyncGenerator<Buffer> {
  const h = crypto.createHash('sha256');
  for await (const chunk of src) {
    h.update(chunk);
    yield chunk;
  }
  const got = `sha256:${h.digest('hex')}`;
  if (got !== diffId) throw new LayerError(`layer ${diffId} no longer matches its digest (rebuilt tar has ${got}); remove the image and pull it again`);
}
