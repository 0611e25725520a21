/**
 * Writing tar headers the way Go's archive/tar does for docker: ustar where every field fits,
 * a pax extended header for what does not (long names and link targets, large ids and sizes,
 * extended attributes as SCHILY.xattr.*). Times are whole seconds, so the same files always give
 * the same bytes (and the same diffID).
 */
export type WriteType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface WriteEntry {
  path: string;
  type: WriteType;
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, Buffer>;
}

const BLOCK = 512;
const FLAGS: Record<WriteType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

export const padding = (n: number): Buffer => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

function octal(b: Buffer, off: number, len: number, v: number): void {
  b.write(`${Math.max(0, Math.floor(v)).toString(8).padStart(len - 1, '0')}\0`, off, len, 'latin1');
}

function rawHeader(name: string, flag: string, e: Omit<WriteEntry, 'path' | 'type'>, size: number, prefix = ''): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name, 0, 100, 'utf8');
  octal(b, 100, 8, e.mode & 0o7777);
  octal(b, 108, 8, Math.min(e.uid, MAX_OCTAL_7));
  octal(b, 116, 8, Math.min(e.gid, MAX_OCTAL_7));
  octal(b, 124, 12, Math.min(size, MAX_OCTAL_11));
  octal(b, 136, 12, Math.min(e.mtime, MAX_OCTAL_11));
  b.write(flag, 156, 1, 'latin1');
  b.write(e.linkname ?? '', 157, 100, 'utf8');
  b.write('ustar\x0000', 257, 8, 'latin1');
  octal(b, 329, 8, e.devmajor ?? 0);
  octal(b, 337, 8, e.devminor ?? 0);
  b.write(prefix, 345, 155, 'utf8');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.byteLength(` ${key}=`) + value.length + 1;
  let len = rest + 1;
  while (String(len).length + rest !== len) len = String(len).length + rest;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
}

/** Splits a long name into ustar's prefix and name fields where it can (at a '/', ASCII only). */
function ustarSplit(name: string): [string, string] | undefined {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  if (!/^[\x20-\x7e]*$/.test(name)) return undefined;
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] === '/' && i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) return [name.slice(0, i), name.slice(i + 1)];
  }
  return undefined;
}

/** The header block(s) of one entry: a pax header first when ustar cannot hold it. */
export function entryHeader(e: WriteEntry): Buffer {
  const size = e.type === 'file' ? (e.size ?? 0) : 0;
  const records: Buffer[] = [];
  const split = ustarSplit(e.path);
  if (!split) records.push(paxRecord('path', Buffer.from(e.path)));
  if (e.linkname && Buffer.byteLength(e.linkname) > 100) records.push(paxRecord('linkpath', Buffer.from(e.linkname)));
  if (e.uid > MAX_OCTAL_7) records.push(paxRecord('uid', Buffer.from(String(e.uid))));
  if (e.gid > MAX_OCTAL_7) records.push(paxRecord('gid', Buffer.from(String(e.gid))));
  if (size > MAX_OCTAL_11) records.push(paxRecord('size', Buffer.from(String(size))));
  for (const name of Object.keys(e.xattrs ?? {}).sort()) records.push(paxRecord(`SCHILY.xattr.${name}`, e.xattrs![name]!));
  const [prefix, name] = split ?? ['', e.path.slice(0, 100)];
  const main = rawHeader(name, FLAGS[e.type], { ...e, linkname: e.linkname?.slice(0, 100) }, size, prefix);
  if (records.length === 0) return main;
  const data = Buffer.concat(records);
  const paxName = `PaxHeaders.0/${name}`.slice(0, 100);
  return Buffer.concat([rawHeader(paxName, 'x', { mode: 0o644, uid: 0, gid: 0, mtime: e.mtime }, data.length), data, padding(data.length), main]);
}
