/**
 * The file operations that need the user namespace's ids, done by `tsctr-shim userns-serve` (see
 * src/shim/userns-ops.c) for this process: chown to subordinate ids, and looking into files and
 * directories the user cannot read. Everything else — reading, writing, decompressing — this
 * process does itself, as the user, who is root of the namespace: no second Node start.
 *
 * The helper is started on first use, once per process, and ends when this process closes its
 * socket or dies. The conversation is synchronous (fs.readSync/writeSync on a blocking socket): a
 * request is a batch, and the callers (the layer extractor, the tar readers) are synchronous there.
 */
import fs from 'node:fs';
import os from 'node:os';
import { TsctrError } from '../errors.js';
import { shimPath } from '../runtime/shim-path.js';
import { idMaps } from './subids.js';
import { spawnWithSocket } from './syscalls.js';

const enum Op {
  Root = 1,
  Own = 2,
  Stat = 3,
  List = 4,
  Readlink = 5,
  Xattrs = 6,
  Read = 7,
  Remove = 8,
}

/** Where a batch of ownership records is cut: the helper accepts 4 MiB requests. */
const BATCH_BYTES = 1 << 20;
export const ENOENT = 2;
export const EACCES = 13;

/** An error the helper returned for a request (errno), and the failing record of a batch. */
export class NamespaceOpError extends Error {
  constructor(
    readonly errno: number,
    readonly index: number,
    what: string,
  ) {
    super(`${what}: ${Object.entries(os.constants.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`}`);
  }
}


class Server {
  private readonly roots = new Map<string, number>();
  private readonly head = Buffer.alloc(12);

  constructor(private readonly fd: number) {}

  static start(): Server {
    const maps = idMaps();
    const { fd } = spawnWithSocket(shimPath(), ['userns-serve', maps.uid.join(','), maps.gid.join(',')], process.env);
    const s = new Server(fd);
    const ready = s.receive();
    if (ready.errno !== 0) {
      fs.closeSync(fd);
      throw new TsctrError(ready.body.length ? ready.body.toString() : 'the user namespace helper did not start');
    }
    return s;
  }

  private readExact(buf: Buffer): void {
    for (let off = 0; off < buf.length; ) {
      let n: number;
      try {
        n = fs.readSync(this.fd, buf, off, buf.length - off, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN' || (e as NodeJS.ErrnoException).code === 'EINTR') continue;
        throw e;
      }
      if (n === 0) throw new TsctrError('the user namespace helper ended unexpectedly');
      off += n;
    }
  }

  private receive(): { errno: number; index: number; body: Buffer } {
    this.readExact(this.head);
    const len = this.head.readUInt32LE(0);
    const body = Buffer.allocUnsafe(len - 8);
    this.readExact(body);
    return { errno: this.head.readInt32LE(4), index: this.head.readUInt32LE(8), body };
  }

  request(op: Op, body: Buffer): { errno: number; index: number; body: Buffer } {
    const msg = Buffer.allocUnsafe(5 + body.length);
    msg.writeUInt32LE(1 + body.length, 0);
    msg[4] = op;
    body.copy(msg, 5);
    for (let off = 0; off < msg.length; ) off += fs.writeSync(this.fd, msg, off, msg.length - off);
    return this.receive();
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  /** The id of root (an absolute directory path of ours) for the requests below. */
  root(root: string): number {
    let id = this.roots.get(root);
    if (id !== undefined) return id;
    const r = this.request(Op.Root, Buffer.from(root));
    if (r.errno) throw new NamespaceOpError(r.errno, 0, root);
    id = r.body.readUInt32LE(0);
    this.roots.set(root, id);
    return id;
  }
}

let server: Server | undefined;
function helper(): Server {
  return (server ??= Server.start());
}

const pathField = (rel: string): Buffer => {
  const p = Buffer.from(rel);
  if (p.length >= 4096) throw new TsctrError(`path too long: ${rel}`);
  const b = Buffer.allocUnsafe(2 + p.length);
  b.writeUInt16LE(p.length, 0);
  p.copy(b, 2);
  return b;
};

const u32 = (v: number) => {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
};

export interface OwnRecord {
  /** Relative to the root; '' is the root itself. */
  rel: string;
  uid: number;
  gid: number;
  /** Permission bits to apply after the chown (which clears set-id bits). */
  mode?: number;
  /** security.capability, set after the chown (which drops it). */
  capability?: Buffer;
}

/**
 * Applies ownership (and what a chown clears) as root of the namespace. A failing record throws
 * NamespaceOpError with its index; capabilities that could not be set come back as warnings.
 */
export function applyOwnership(root: string, records: OwnRecord[]): { index: number; errno: number }[] {
  const s = helper();
  const id = s.root(root);
  const warnings: { index: number; errno: number }[] = [];
  for (let start = 0; start < records.length; ) {
    const parts: Buffer[] = [u32(id)];
    let bytes = 4;
    let end = start;
    while (end < records.length && bytes < BATCH_BYTES) {
      const r = records[end++]!;
      const cap = r.capability ?? Buffer.alloc(0);
      const item = Buffer.concat([pathField(r.rel), u32(r.uid), u32(r.gid), u32(r.mode ?? 0xffffffff), u32(cap.length), cap]);
      parts.push(item);
      bytes += item.length;
    }
    const reply = s.request(Op.Own, Buffer.concat(parts, bytes));
    if (reply.errno) throw new NamespaceOpError(reply.errno, start + reply.index, records[start + reply.index]?.rel ?? root);
    for (let o = 0; o + 8 <= reply.body.length; o += 8) warnings.push({ index: start + reply.body.readUInt32LE(o), errno: reply.body.readInt32LE(o + 4) });
    start = end;
  }
  return warnings;
}

/** What lstat says of a file the user cannot reach, in the shape dir-tar reads from fs.Stats. */
export interface RemoteStats {
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  size: number;
  mtimeMs: number;
  dev: number;
  ino: number;
  rdev: number;
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

const S_IFMT = 0o170000;

function entryRequest(op: Op, root: string, rel: string): { errno: number; body: Buffer } {
  const s = helper();
  return s.request(op, Buffer.concat([u32(s.root(root)), pathField(rel)]));
}

/** lstat of root/rel as root of the namespace; undefined when it is not there. */
export function nsLstat(root: string, rel: string): RemoteStats | undefined {
  const r = entryRequest(Op.Stat, root, rel);
  if (r.errno) return undefined;
  const b = r.body;
  const mode = b.readUInt32LE(0);
  const type = mode & S_IFMT;
  return {
    mode,
    uid: b.readUInt32LE(4),
    gid: b.readUInt32LE(8),
    nlink: b.readUInt32LE(12),
    size: Number(b.readBigUInt64LE(16)),
    mtimeMs: Number(b.readBigUInt64LE(24)) * 1000 + Math.floor(Number(b.readBigUInt64LE(32)) / 1e6),
    dev: Number(b.readBigUInt64LE(40)),
    ino: Number(b.readBigUInt64LE(48)),
    rdev: Number(b.readBigUInt64LE(56)),
    isDirectory: () => type === 0o040000,
    isFile: () => type === 0o100000,
    isSymbolicLink: () => type === 0o120000,
    isFIFO: () => type === 0o010000,
    isCharacterDevice: () => type === 0o020000,
    isBlockDevice: () => type === 0o060000,
  };
}

/** The names in directory root/rel (unsorted); none when it cannot be listed. */
export function nsList(root: string, rel: string): string[] {
  const r = entryRequest(Op.List, root, rel);
  if (r.errno || r.body.length === 0) return [];
  return r.body.toString('utf8', 0, r.body.length - 1).split('\0');
}

export function nsReadlink(root: string, rel: string): string | undefined {
  const r = entryRequest(Op.Readlink, root, rel);
  return r.errno ? undefined : r.body.toString();
}

export function nsXattrs(root: string, rel: string): Map<string, Buffer> {
  const r = entryRequest(Op.Xattrs, root, rel);
  const out = new Map<string, Buffer>();
  const b = r.body;
  for (let o = 0; !r.errno && o < b.length; ) {
    const nl = b.readUInt16LE(o);
    const name = b.toString('utf8', o + 2, o + 2 + nl);
    const vl = b.readUInt32LE(o + 2 + nl);
    out.set(name, Buffer.from(b.subarray(o + 6 + nl, o + 6 + nl + vl)));
    o += 6 + nl + vl;
  }
  return out;
}

/** Up to length bytes of regular file root/rel from offset (fewer at its end); throws when it cannot be read. */
export function nsRead(root: string, rel: string, offset: number, length: number): Buffer {
  const s = helper();
  const off = Buffer.allocUnsafe(8);
  off.writeBigUInt64LE(BigInt(offset), 0);
  const r = s.request(Op.Read, Buffer.concat([u32(s.root(root)), pathField(rel), off, u32(length)]));
  if (r.errno) throw new NamespaceOpError(r.errno, 0, rel);
  return r.body;
}

/** Deletes trees (absolute paths of ours) that hold files of subordinate ids, as root of the namespace. */
export function nsRemoveTrees(paths: string[]): void {
  const s = helper();
  for (const p of paths) {
    const r = s.request(Op.Remove, Buffer.from(p));
    if (r.errno) throw new NamespaceOpError(r.errno, 0, `removing ${p}`);
  }
}

/** Ends the helper (it would otherwise stay until this process exits): for a command that goes on to other work. */
export function endNamespaceHelper(): void {
  if (!server) return;
  server.close();
  server = undefined;
}
