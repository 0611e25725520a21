/**
 * A streaming tar reader for image layers, which are untrusted: every header is checksummed and
 * every number validated. Understands ustar (prefix + name), pax extended and global headers
 * (path, linkpath, size, uid, gid, mtime, SCHILY.xattr.*, LIBARCHIVE.xattr.*), GNU long names
 * and links (L/K), base-256 numbers and GNU sparse files in the pax 1.0 format.
 *
 * Entry bodies are yielded as slices of the input chunks, never copied. A body must be read (or
 * skipped) before asking for the next entry; whatever is left unread is skipped then, and the body
 * can no longer be read.
 */
import { LayerError } from '../errors.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface SparseSegment {
  /** Where the segment's data goes in the file. */
  offset: number;
  size: number;
}

export interface TarEntry {
  path: string;
  type: EntryType;
  /** Permission bits including setuid, setgid and sticky (& 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of body (for a sparse file: only the data segments, concatenated). 0 for non-files. */
  size: number;
  /** Seconds since the epoch; fractional when a pax header gave sub-second precision. */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, Buffer>;
  /** Set for GNU sparse files: the body is `map`'s segments, back to back; the file is `realSize` long. */
  sparse?: { map: SparseSegment[]; realSize: number };
  body: AsyncIterable<Buffer>;
  /** Discards the unread rest of the body. */
  skip(): Promise<void>;
  /**
   * Tells the recorder (if any) that the whole body is about to be read and written to `rel` in
   * the layer directory, so it keeps a reference instead of the bytes. Plain files only.
   */
  byReference(rel: string): void;
}

/**
 * Watches every byte of the archive go by (headers, padding, skipped data) so that the tar can be
 * reproduced exactly later from the extracted files: see tar-split.ts.
 */
export interface TarRecorder {
  raw(bytes: Buffer): void;
  file(rel: string, size: number): void;
}

const BLOCK = 512;
/** Caps on metadata we buffer whole: extended headers and sparse maps. */
const MAX_META = 16 * 1024 * 1024;
const MAX_SPARSE_SEGMENTS = 1 << 20;

function truncated(): LayerError {
  return new LayerError('unexpected end of layer archive');
}

/** Buffers the input just enough to hand out headers whole and bodies as slices. */
class Reader {
  private chunks: Buffer[] = [];
  private length = 0;
  private readonly it: AsyncIterator<Buffer>;
  private ended = false;
  /** While set, bytes handed out are not recorded (a body kept by reference). */
  unrecorded = false;

  constructor(
    src: AsyncIterable<Buffer>,
    private readonly recorder?: TarRecorder,
  ) {
    this.it = src[Symbol.asyncIterator]();
  }

  private seen(b: Buffer): Buffer {
    if (this.recorder && !this.unrecorded && b.length) this.recorder.raw(b);
    return b;
  }

  get buffered(): number {
    return this.length;
  }

  /** Makes at least n bytes available; false if the input ends first. */
  async fill(n: number): Promise<boolean> {
    while (this.length < n && !this.ended) {
      const r = await this.it.next();
      if (r.done) this.ended = true;
      else if (r.value.length) {
        const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
        this.chunks.push(chunk);
        this.length += chunk.length;
      }
    }
    return this.length >= n;
  }

  /** n buffered bytes: a slice when they lie in one chunk, else a copy (only headers span chunks). */
  take(n: number): Buffer {
    return this.seen(this.takeUnseen(n));
  }

  private takeUnseen(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    this.length -= n;
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }

  /** Up to max bytes, as a slice of the first buffered chunk; waits for input if none is buffered. */
  async takeSome(max: number): Promise<Buffer> {
    if (!(await this.fill(1))) throw truncated();
    return this.take(Math.min(max, this.chunks[0]!.length));
  }

  async exact(n: number): Promise<Buffer> {
    if (!(await this.fill(n))) throw truncated();
    return this.take(n);
  }

  async discard(n: number): Promise<void> {
    while (n > 0) {
      if (!(await this.fill(1))) throw truncated();
      const c = this.chunks[0]!;
      if (c.length <= n) {
        this.seen(c);
        this.chunks.shift();
        this.length -= c.length;
        n -= c.length;
      } else {
        this.seen(c.subarray(0, n));
        this.chunks[0] = c.subarray(n);
        this.length -= n;
        n = 0;
      }
    }
  }
}

/** A NUL-terminated string field. */
function cstr(b: Buffer): string {
  const z = b.indexOf(0);
  return b.toString('utf8', 0, z < 0 ? b.length : z);
}

/** A numeric header field: octal text, or base-256 (GNU/star) when the high bit of the first byte is set. */
function num(b: Buffer, field: string): number {
  const first = b[0]!;
  if (first & 0x80) {
    let v = BigInt(first & 0x7f) - (first & 0x40 ? 128n : 0n); // two's complement of the 7-bit lead
    for (let i = 1; i < b.length; i++) v = (v << 8n) | BigInt(b[i]!);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new LayerError(`layer tar header has an out-of-range ${field}`);
    return Number(v);
  }
  const s = cstr(b).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new LayerError(`layer tar header has an invalid ${field} field`);
  const v = parseInt(s, 8);
  if (!Number.isSafeInteger(v)) throw new LayerError(`layer tar header has an out-of-range ${field}`);
  return v;
}

function checksumOk(h: Buffer): boolean {
  const text = cstr(h.subarray(148, 156)).trim();
  if (!/^[0-7]+$/.test(text)) return false;
  const want = parseInt(text, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  // Some old writers summed signed chars.
  return want === unsigned || want === signed;
}

function isZeroBlock(h: Buffer): boolean {
  for (let i = 0; i < h.length; i++) if (h[i] !== 0) return false;
  return true;
}

/** Pax records: "<len> <key>=<value>\n", where len counts the whole record. Values are copied. */
function parsePax(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let i = 0;
  while (i < buf.length) {
    // Writers pad the data with NULs occasionally.
    if (buf[i] === 0) break;
    const sp = buf.indexOf(0x20, i);
    const lenText = sp < 0 ? '' : buf.toString('latin1', i, sp);
    if (!/^[0-9]{1,9}$/.test(lenText)) throw new LayerError('malformed pax header in layer');
    const len = Number(lenText);
    const end = i + len;
    if (end > buf.length || end <= sp + 1 || buf[end - 1] !== 0x0a) throw new LayerError('malformed pax header in layer');
    const rec = buf.subarray(sp + 1, end - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw new LayerError('malformed pax header in layer');
    out.set(rec.toString('utf8', 0, eq), Buffer.from(rec.subarray(eq + 1)));
    i = end;
  }
  return out;
}

function paxNumber(v: Buffer, key: string, allowFraction = false): number {
  const s = v.toString('latin1');
  const re = allowFraction ? /^-?[0-9]+(\.[0-9]+)?$/ : /^[0-9]+$/;
  if (!re.test(s)) throw new LayerError(`layer pax header has an invalid ${key}: "${s.slice(0, 40)}"`);
  const n = Number(s);
  if (!Number.isFinite(n) || (!allowFraction && !Number.isSafeInteger(n))) throw new LayerError(`layer pax header has an out-of-range ${key}`);
  return n;
}

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file', // contiguous file
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
  D: 'dir', // GNU incremental dump directory: a directory whose data lists its contents
};

const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);

/** Global pax keys we honour: a global path, linkpath or size would make no sense (and no writer emits them). */
const GLOBAL_KEYS = new Set(['uid', 'gid', 'mtime']);

const pad = (n: number) => (BLOCK - (n % BLOCK)) % BLOCK;

/** Sparse 1.0 map: decimal lines (count, then offset/size pairs) at the start of the data, padded to a block. */
async function readSparseMap(r: Reader, dataSize: number, realSize: number): Promise<{ map: SparseSegment[]; mapBytes: number }> {
  const values: number[] = [];
  let want = 1;
  let partial = '';
  let mapBytes = 0;
  while (values.length < want) {
    if (mapBytes + BLOCK > dataSize || mapBytes >= MAX_META) throw new LayerError('malformed sparse map in layer');
    const blk = await r.exact(BLOCK);
    mapBytes += BLOCK;
    const lines = (partial + blk.toString('latin1')).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (values.length >= want) break;
      if (!/^[0-9]{1,16}$/.test(line)) throw new LayerError('malformed sparse map in layer');
      const v = Number(line);
      if (!Number.isSafeInteger(v)) throw new LayerError('malformed sparse map in layer');
      values.push(v);
      if (values.length === 1) {
        if (v > MAX_SPARSE_SEGMENTS) throw new LayerError('malformed sparse map in layer');
        want = 1 + 2 * v;
      }
    }
    if (values.length < want && !/^[0-9]{0,16}$/.test(partial)) throw new LayerError('malformed sparse map in layer');
  }
  const map: SparseSegment[] = [];
  let end = 0;
  let total = 0;
  for (let i = 1; i < values.length; i += 2) {
    const seg = { offset: values[i]!, size: values[i + 1]! };
    // Ordered, not overlapping, inside the file: the writer's map must describe the data exactly.
    if (seg.offset < end || seg.offset + seg.size > realSize) throw new LayerError('malformed sparse map in layer');
    end = seg.offset + seg.size;
    total += seg.size;
    map.push(seg);
  }
  if (total !== dataSize - mapBytes) throw new LayerError('sparse map in layer does not match the data size');
  return { map, mapBytes };
}

export async function* readTar(src: AsyncIterable<Buffer>, recorder?: TarRecorder): AsyncGenerator<TarEntry> {
  const r = new Reader(src, recorder);
  const global = new Map<string, Buffer>();
  let pax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  // Extended headers pile up until an entry uses them (global ones for good): bounded, as a whole.
  let metaBytes = 0;
  for (;;) {
    if (!(await r.fill(BLOCK))) {
      // An archive that simply stops between entries (no end-of-archive blocks) is complete, as
      // for Go's archive/tar (Docker); one that stops inside a header, or after an extended header, is not.
      if (r.buffered > 0 || pax.size || longName !== undefined || longLink !== undefined) throw truncated();
      return;
    }
    const h = r.take(BLOCK);
    if (isZeroBlock(h)) {
      // End of archive: two zero blocks (or one, then the end of input). A zero block followed by
      // anything else is refused, as by Go's archive/tar: no entries hidden behind a fake end.
      if ((await r.fill(BLOCK)) && !isZeroBlock(r.take(BLOCK))) throw new LayerError('invalid tar header in layer (a zero block followed by data)');
      // What follows (a writer's padding to its record size) is part of the tar's digest too.
      if (recorder) while (await r.fill(1)) r.take(r.buffered);
      return;
    }
    if (!checksumOk(h)) throw new LayerError('invalid tar header checksum in layer');
    const flag = String.fromCharCode(h[156]!);
    let size = num(h.subarray(124, 136), 'size');

    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      metaBytes += size;
      if (metaBytes > MAX_META) throw new LayerError('oversized extended header in layer');
      const data = await r.exact(size);
      await r.discard(pad(size));
      if (flag === 'x') for (const [k, v] of parsePax(data)) pax.set(k, v);
      else if (flag === 'g') for (const [k, v] of parsePax(data)) global.set(k, v);
      else if (flag === 'L') longName = cstr(data);
      else longLink = cstr(data);
      continue;
    }
    if (flag === 'S' || flag === 'M') {
      throw new LayerError(`unsupported tar entry type '${flag}' in layer (${flag === 'S' ? 'old GNU sparse file' : 'multi-volume archive'})`);
    }

    // An empty value in an extended header deletes the key (pax semantics).
    const meta = (key: string): Buffer | undefined => {
      const v = pax.get(key) ?? (GLOBAL_KEYS.has(key) ? global.get(key) : undefined);
      return v && v.length ? v : undefined;
    };
    const magic = h.toString('latin1', 257, 263);
    const name = cstr(h.subarray(0, 100));
    // Only POSIX ustar has a prefix field; old GNU tar keeps access/change times there.
    const prefix = magic === 'ustar\0' ? cstr(h.subarray(345, 500)) : '';
    let path = meta('path')?.toString('utf8') ?? longName ?? (prefix ? `${prefix}/${name}` : name);
    const linkname = meta('linkpath')?.toString('utf8') ?? longLink ?? cstr(h.subarray(157, 257));
    const paxSize = meta('size');
    if (paxSize) size = paxNumber(paxSize, 'size');

    let type = TYPES[flag];
    // V7 archives had no directory type: a "regular file" whose name ends in '/' is a directory.
    if (flag === '\0' && path.endsWith('/')) type = 'dir';

    const xattrs: Record<string, Buffer> = {};
    for (const src of [global, pax]) {
      for (const [k, v] of src) {
        if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice(13)] = v;
        else if (k.startsWith('LIBARCHIVE.xattr.')) {
          let xname: string;
          try {
            xname = decodeURIComponent(k.slice(17));
          } catch {
            throw new LayerError(`malformed xattr name in layer pax header: ${k}`);
          }
          xattrs[xname] = Buffer.from(v.toString('latin1'), 'base64');
        }
      }
    }
    const uidV = meta('uid');
    const gidV = meta('gid');
    const mtimeV = meta('mtime');
    const entry = {
      mode: num(h.subarray(100, 108), 'mode') & 0o7777,
      uid: uidV ? paxNumber(uidV, 'uid') : num(h.subarray(108, 116), 'uid'),
      gid: gidV ? paxNumber(gidV, 'gid') : num(h.subarray(116, 124), 'gid'),
      mtime: mtimeV ? paxNumber(mtimeV, 'mtime', true) : num(h.subarray(136, 148), 'mtime'),
      devmajor: type === 'char' || type === 'block' ? num(h.subarray(329, 337), 'devmajor') : 0,
      devminor: type === 'char' || type === 'block' ? num(h.subarray(337, 345), 'devminor') : 0,
    };

    let sparse: TarEntry['sparse'];
    let consumed = 0; // bytes of this entry's data already read (the sparse map)
    const sparseMajor = meta('GNU.sparse.major')?.toString('latin1');
    if (sparseMajor !== undefined || meta('GNU.sparse.map') || meta('GNU.sparse.numblocks') || meta('GNU.sparse.offset')) {
      const minor = meta('GNU.sparse.minor')?.toString('latin1') ?? '0';
      if (sparseMajor !== '1' || minor !== '0') throw new LayerError('unsupported sparse file format in layer (only GNU sparse 1.0 is)');
      if (type === 'file') {
        const sparseName = meta('GNU.sparse.name');
        if (sparseName) path = sparseName.toString('utf8');
        const realV = meta('GNU.sparse.realsize') ?? meta('GNU.sparse.size');
        if (!realV) throw new LayerError('sparse file in layer without a real size');
        const realSize = paxNumber(realV, 'GNU.sparse.realsize');
        const { map, mapBytes } = await readSparseMap(r, size, realSize);
        consumed = mapBytes;
        sparse = { map, realSize };
      }
    }

    pax = new Map();
    longName = longLink = undefined;
    metaBytes = [...global.values()].reduce((n, v) => n + v.length, 0);
    // As in Go's archive/tar (so as Docker reads layers): these types never have data, whatever their size says.
    if (HEADER_ONLY.has(flag) || (flag === '\0' && type === 'dir')) size = 0;
    if (!type) {
      // Other types (volume labels, vendor extensions) create nothing: skip their data.
      await r.discard(size + pad(size));
      continue;
    }

    // Only regular files have a body for the consumer; data attached to anything else (a GNU dumpdir) is skipped.
    const bodySize = type === 'file' ? size - consumed : 0;
    let remaining = bodySize;
    let current = true;
    let lost = false; // moved on to the next entry with some of the body unread: it is gone
    const body: AsyncIterable<Buffer> = {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          if (lost) throw new Error(`the body of tar entry "${path}" was read after moving on to the next entry`);
          if (remaining <= 0) return;
          const chunk = await r.takeSome(remaining);
          remaining -= chunk.length;
          yield chunk;
        }
      },
    };
    const skip = async () => {
      if (!current) return;
      const n = remaining;
      remaining = 0;
      await r.discard(n);
    };
    const byReference = (rel: string) => {
      if (!recorder || type !== 'file' || sparse || remaining !== bodySize || !current) return;
      recorder.file(rel, bodySize);
      r.unrecorded = true;
    };
    yield { path, type, ...entry, size: bodySize, linkname, xattrs, sparse, body, skip, byReference };
    current = false;
    if (r.unrecorded) {
      r.unrecorded = false;
      // A body promised by reference but not read whole cannot be reproduced: keep the tar honest.
      if (remaining > 0) throw new LayerError(`layer file "${path}" was not read whole`);
    }
    const unread = remaining;
    remaining = 0;
    lost = unread > 0;
    // Whatever the consumer left unread, the data of non-file entries, then the padding.
    await r.discard(unread + (size - consumed - bodySize) + pad(size));
  }
}
