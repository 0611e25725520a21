/**
 * A streaming tar reader for image layers: ustar, pax (x/g) and GNU long names (L/K), base-256
 * numbers, xattrs (SCHILY.xattr.*, LIBARCHIVE.xattr.*) and GNU sparse 1.0. Checksums are verified.
 * Bodies are yielded as slices of the input chunks, not copied.
 */
import { LayerError } from '../errors.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface SparseSegment {
  offset: number;
  size: number;
}

export interface TarEntry {
  path: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of data in the archive (for a sparse file: the data segments only). */
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, Buffer>;
  sparse?: { map: SparseSegment[]; realSize: number };
  body: AsyncIterable<Buffer>;
}

const BLOCK = 512;

class Reader {
  private chunks: Buffer[] = [];
  private length = 0;
  private it: AsyncIterator<Buffer>;
  private ended = false;

  constructor(src: AsyncIterable<Buffer>) {
    this.it = src[Symbol.asyncIterator]();
  }

  /** Makes at least n bytes available; false if the input ends first. */
  async fill(n: number): Promise<boolean> {
    while (this.length < n && !this.ended) {
      const r = await this.it.next();
      if (r.done) this.ended = true;
      else if (r.value.length) {
        this.chunks.push(r.value);
        this.length += r.value.length;
      }
    }
    return this.length >= n;
  }

  take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.concat(this.chunks, this.length).subarray(0, n);
      const rest = Buffer.concat(this.chunks, this.length).subarray(n);
      this.chunks = rest.length ? [rest] : [];
    }
    this.length -= n;
    return out;
  }

  async exact(n: number): Promise<Buffer> {
    if (!(await this.fill(n))) throw new LayerError('unexpected end of layer archive');
    return this.take(n);
  }

  /** Yields the next n bytes as they arrive. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (!(await this.fill(1))) throw new LayerError('unexpected end of layer archive');
      const take = Math.min(left, this.chunks[0]!.length);
      left -= take;
      yield this.take(take);
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.stream(n)) void _;
  }
}

function cstr(b: Buffer): string {
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString('utf8');
}

function num(b: Buffer): number {
  if (b[0]! & 0x80) {
    // base-256: big-endian two's complement, first byte's high bit is the marker.
    let v = b[0]! & 0x7f;
    for (let i = 1; i < b.length; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = cstr(b).trim();
  return s ? parseInt(s, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  const want = num(h.subarray(148, 156));
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return want === unsigned || want === signed;
}

function parsePax(buf: Buffer): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  let i = 0;
  while (i < buf.length) {
    const sp = buf.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(buf.subarray(i, sp).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0 || i + len > buf.length) throw new LayerError('malformed pax header in layer');
    const rec = buf.subarray(sp + 1, i + len - 1); // without the trailing newline
    const eq = rec.indexOf(0x3d);
    if (eq > 0) out[rec.subarray(0, eq).toString('utf8')] = rec.subarray(eq + 1);
    i += len;
  }
  return out;
}

const TYPES: Record<string, EntryType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };

const pad = (n: number) => (BLOCK - (n % BLOCK)) % BLOCK;

export async function* readTar(src: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const r = new Reader(src);
  let global: Record<string, Buffer> = {};
  let pax: Record<string, Buffer> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    if (!(await r.fill(BLOCK))) {
      // Some writers omit the end-of-archive blocks; an archive that just stops between entries is complete.
      if (Object.keys(pax).length || longName || longLink) throw new LayerError('unexpected end of layer archive');
      return;
    }
    const h = r.take(BLOCK);
    if (h.every((b) => b === 0)) return;
    if (!checksumOk(h)) throw new LayerError('invalid tar header checksum in layer');
    const flag = String.fromCharCode(h[156]!);
    let size = num(h.subarray(124, 136));
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > 16 * 1024 * 1024) throw new LayerError('oversized extended header in layer');
      const data = await r.exact(size);
      await r.exact(pad(size));
      if (flag === 'x') pax = { ...pax, ...parsePax(data) };
      else if (flag === 'g') global = { ...global, ...parsePax(data) };
      else if (flag === 'L') longName = cstr(data);
      else longLink = cstr(data);
      continue;
    }
    const type = TYPES[flag];
    const meta = { ...global, ...pax };
    const prefix = cstr(h.subarray(345, 500));
    const magic = h.subarray(257, 263).toString('latin1');
    let path = meta.path?.toString('utf8') ?? longName ?? (magic.startsWith('ustar') && prefix ? `${prefix}/${cstr(h.subarray(0, 100))}` : cstr(h.subarray(0, 100)));
    const linkname = meta.linkpath?.toString('utf8') ?? longLink ?? cstr(h.subarray(157, 257));
    if (meta.size) size = Number(meta.size.toString());
    const xattrs: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(meta)) {
      if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice(13)] = v;
      else if (k.startsWith('LIBARCHIVE.xattr.')) xattrs[decodeURIComponent(k.slice(17))] = Buffer.from(v.toString(), 'base64');
    }
    pax = {};
    longName = longLink = undefined;
    if (!type) {
      // Unknown entry types (e.g. GNU 'D' directory dumps) carry no file: skip their data.
      await r.skip(size + pad(size));
      continue;
    }
    let sparse: TarEntry['sparse'];
    let dataSize = size;
    if (meta['GNU.sparse.major']?.toString() === '1') {
      // Sparse 1.0: the data begins with a decimal map (count, then offset/size pairs), block-padded.
      path = meta['GNU.sparse.name']?.toString('utf8') ?? path;
      const realSize = Number(meta['GNU.sparse.realsize']?.toString() ?? '0');
      const lines: number[] = [];
      let consumed = 0;
      let text = '';
      while (lines.length < 1 || lines.length < 1 + 2 * lines[0]!) {
        const blk = await r.exact(BLOCK);
        consumed += BLOCK;
        text += blk.toString('latin1');
        const parts = text.split('\n');
        lines.length = 0;
        for (const p of parts.slice(0, -1)) lines.push(Number(p));
        if (consumed > 1024 * 1024) throw new LayerError('malformed sparse map in layer');
      }
      const map: SparseSegment[] = [];
      for (let i = 0; i < lines[0]!; i++) map.push({ offset: lines[1 + 2 * i]!, size: lines[2 + 2 * i]! });
      sparse = { map, realSize };
      dataSize = size - consumed;
    } else if (meta['GNU.sparse.map'] || flag === 'S') {
      throw new LayerError('unsupported sparse file format in layer (only GNU sparse 1.0)');
    }
    // Only regular files carry data we use; anything a writer attached to other types is skipped.
    const entrySize = type === 'file' ? dataSize : 0;
    let remaining = entrySize;
    const body = (async function* () {
      while (remaining > 0) {
        for await (const chunk of r.stream(Math.min(remaining, 1 << 20))) {
          remaining -= chunk.length;
          yield chunk;
        }
      }
    })();
    yield {
      path,
      type,
      mode: num(h.subarray(100, 108)) & 0o7777,
      uid: meta.uid ? Number(meta.uid.toString()) : num(h.subarray(108, 116)),
      gid: meta.gid ? Number(meta.gid.toString()) : num(h.subarray(116, 124)),
      size: entrySize,
      mtime: meta.mtime ? Math.floor(Number(meta.mtime.toString())) : num(h.subarray(136, 148)),
      linkname,
      devmajor: num(h.subarray(329, 337)),
      devminor: num(h.subarray(337, 345)),
      xattrs,
      sparse,
      body,
    };
    // Whatever the consumer left unread, any data of non-file entries, then the padding.
    await r.skip(remaining + (type === 'file' ? 0 : dataSize) + pad(size));
  }
}
