/**
 * Archives and layer tars may come compressed whatever their name says (docker load accepts a
 * gzipped archive, and a docker-archive's layer.tar may be gzipped), so compression is told by
 * the first bytes, not by a media type or a file name.
 */
import zlib from 'node:zlib';
import { Readable, pipeline } from 'node:stream';
import { ArchiveError } from '../errors.js';

export type Compression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

const MAGIC: [Compression, number[]][] = [
  ['gzip', [0x1f, 0x8b]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['bzip2', [0x42, 0x5a, 0x68]],
];
const LONGEST_MAGIC = 6;

export function sniffCompression(head: Buffer): Compression {
  for (const [kind, bytes] of MAGIC) if (head.length >= bytes.length && bytes.every((b, i) => head[i] === b)) return kind;
  return 'none';
}

/** The bytes of `src`, decompressed if they start with a gzip or zstd header. */
export async function* decompressed(src: AsyncIterable<Buffer>, what: string): AsyncGenerator<Buffer> {
  const it = src[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLength = 0;
  let ended = false;
  while (headLength < LONGEST_MAGIC) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    head.push(r.value);
    headLength += r.value.length;
  }
  const first = Buffer.concat(head);
  async function* all(): AsyncGenerator<Buffer> {
    if (first.length) yield first;
    if (ended) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  const kind = sniffCompression(first);
  if (kind === 'none') {
    yield* all();
    return;
  }
  if (kind === 'xz' || kind === 'bzip2') throw new ArchiveError(`${what} is compressed with ${kind}, which tsctr does not read: decompress it first`);
  const unzip = kind === 'gzip' ? zlib.createGunzip() : zlib.createZstdDecompress();
  // pipeline, not pipe: an error of the input must reach the reader of the output.
  pipeline(Readable.from(all(), { objectMode: false }), unzip, () => undefined);
  try {
    for await (const chunk of unzip) yield chunk as Buffer;
  } catch (e) {
    // The input's own errors come through as they are; zlib's codes say the data is bad.
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^(Z_|ZSTD_)/.test(code)) throw new ArchiveError(`${what}: its ${kind} data is corrupt (${(e as Error).message})`);
    throw e;
  }
}
