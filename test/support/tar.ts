/** Hand-made tar archives, so tests can build what no well-behaved tar tool would write. */
export interface RawHeader {
  name: string;
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: number;
  linkname?: string;
  prefix?: string;
  format?: 'ustar' | 'gnu' | 'v7';
  devmajor?: number;
  devminor?: number;
  /** Raw field contents, replacing the octal encoding (base-256 numbers, garbage). */
  raw?: Partial<Record<'mode' | 'uid' | 'gid' | 'size' | 'mtime', Buffer>>;
  badChecksum?: boolean;
}

const FIELDS = { mode: [100, 8], uid: [108, 8], gid: [116, 8], size: [124, 12], mtime: [136, 12] } as const;

function octal(b: Buffer, off: number, len: number, v: number): void {
  b.write(`${v.toString(8).padStart(len - 1, '0')}\0`, off, len, 'latin1');
}

export function header(h: RawHeader): Buffer {
  const b = Buffer.alloc(512);
  b.write(h.name, 0, 100, 'utf8');
  const mode = h.mode ?? (h.type === '5' ? 0o755 : 0o644);
  const values = { mode, uid: h.uid ?? 0, gid: h.gid ?? 0, size: h.size ?? 0, mtime: h.mtime ?? 1_700_000_000 };
  for (const [k, [off, len]] of Object.entries(FIELDS) as [keyof typeof FIELDS, readonly [number, number]][]) {
    const raw = h.raw?.[k];
    if (raw) raw.copy(b, off, 0, len);
    else octal(b, off, len, values[k]);
  }
  b.write(h.type ?? '0', 156, 1, 'latin1');
  b.write(h.linkname ?? '', 157, 100, 'utf8');
  const format = h.format ?? 'ustar';
  if (format === 'ustar') b.write('ustar\x0000', 257, 8, 'latin1');
  if (format === 'gnu') b.write('ustar  \x00', 257, 8, 'latin1');
  if (format !== 'v7') {
    octal(b, 329, 8, h.devmajor ?? 0);
    octal(b, 337, 8, h.devminor ?? 0);
  }
  if (h.prefix) b.write(h.prefix, 345, 155, 'utf8');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${(sum + (h.badChecksum ? 1 : 0)).toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

export const padTo512 = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);

/** One entry: header, body, padding. */
export function entry(h: RawHeader, body: Buffer | string = ''): Buffer {
  const data = Buffer.from(body);
  return Buffer.concat([header({ size: data.length, ...h }), data, padTo512(data.length)]);
}

export function paxData(records: [string, string | Buffer][]): Buffer {
  return Buffer.concat(
    records.map(([k, v]) => {
      const value = Buffer.from(v);
      const rest = Buffer.byteLength(` ${k}=`) + value.length + 1;
      let len = rest + 1;
      while (String(len).length + rest !== len) len = String(len).length + rest;
      return Buffer.concat([Buffer.from(`${len} ${k}=`), value, Buffer.from('\n')]);
    }),
  );
}

/** A pax extended header ('x', or 'g' for global) carrying the records. */
export function paxEntry(records: [string, string | Buffer][], type = 'x'): Buffer {
  return entry({ name: 'PaxHeader', type }, paxData(records));
}

/** Entries followed by the two zero blocks that end an archive. */
export function tarOf(...entries: Buffer[]): Buffer {
  return Buffer.concat([...entries, Buffer.alloc(1024)]);
}

export async function* chunked(buf: Buffer, size = 16384): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}
