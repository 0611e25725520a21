/**
 * Tars made from directories: the difference a container's writable layer holds (its upper
 * directory, turned back into image-layer form: whiteouts as `.wh.` files, opaque directories as
 * `.wh..wh..opq`), and trees as they are seen — one directory, or a stack of layers merged as
 * the overlay would merge them (for `export`, and for COPY sources and `COPY --from`). Entries come
 * in a fixed order (byte-sorted names, a directory before its contents), so the same files give the
 * same tar. Read as the user, who is root of the user namespace: ids are shown as they are in
 * there (idmap.ts), and what the user may not open — a directory or file of a subordinate id
 * without permissions for others — is read through the namespace helper (userns-ops.ts).
 *
 * A running container may change its writable layer while we read it, and swap any name for a
 * symlink to the host. So no path is ever resolved through more than one name: each directory is
 * opened through the descriptor of the one above it (O_NOFOLLOW), and entries are reached as
 * `/proc/self/fd/DIR/NAME`, where the kernel resolves only NAME and follows no symlink there.
 * An entry that changes between a look and a read is taken as it is when opened, or left out.
 */
import fs from 'node:fs';
import { LayerError } from '../errors.js';
import { lgetxattr, llistxattr } from '../rootless/syscalls.js';
import { capabilityInNamespace, namespaceIds } from '../rootless/idmap.js';
import { nsList, nsLstat, nsRead, nsReadlink, nsXattrs } from '../rootless/userns-ops.js';
import { entryHeader, padding, END_OF_ARCHIVE, type WriteEntry } from './tar-writer.js';

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
const OPAQUE_XATTRS = ['user.overlay.opaque', 'trusted.overlay.opaque', 'user.fuseoverlayfs.opaque'];
/** Overlay's own bookkeeping, meaningless (and forgeable) in an image. */
const OVERLAY_XATTR = /^(user\.overlay\.|trusted\.overlay\.|user\.fuseoverlayfs\.)/;
const CHUNK = 256 * 1024;

const O_DIR = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW;
const fdPath = (fd: number) => `/proc/self/fd/${fd}`;
const within = (dir: string, rel: string) => dir === '' || rel === dir || rel.startsWith(`${dir}/`);
const parentOf = (rel: string) => rel.slice(0, Math.max(rel.lastIndexOf('/'), 0));
const baseOf = (rel: string) => rel.slice(rel.lastIndexOf('/') + 1);
const lstatOrUndefined = (p: string) => {
  try {
    return fs.lstatSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined; // ENOTDIR, ELOOP: not there as a name of this tree
  }
};
const denied = (e: unknown) => (e as NodeJS.ErrnoException).code === 'EACCES' && process.getuid?.() !== 0;

/**
 * A directory this process may not open is named by a marker instead of a /proc path: NUL (no
 * real path has one), the tree's root, NUL, the path under it. What is under it is looked at by
 * the namespace helper.
 */
const REMOTE = '\0';
const remote = (root: string, rel: string) => `${REMOTE}${root}${REMOTE}${rel}`;
function remoteOf(abs: string): { root: string; rel: string } | undefined {
  if (!abs.startsWith(REMOTE)) return undefined;
  const i = abs.indexOf(REMOTE, 1);
  return { root: abs.slice(1, i), rel: abs.slice(i + 1).replace(/^\//, '') };
}
function lstatAt(abs: string): fs.Stats | undefined {
  const r = remoteOf(abs);
  return r ? (nsLstat(r.root, r.rel) as fs.Stats | undefined) : lstatOrUndefined(abs);
}
function readdirAt(dir: string): string[] {
  const r = remoteOf(dir);
  return r ? nsList(r.root, r.rel) : fs.readdirSync(dir);
}

/**
 * The open directories of one tree, from its root down to the one last asked for: a walk in
 * depth-first order reuses them, and leaving a subtree closes what was below. A path it returns
 * is valid until the next call.
 */
class DirHandles {
  private readonly open: { rel: string; fd: number }[] = [];

  constructor(readonly root: string) {}

  /** `/proc/self/fd/N` of directory rel, or undefined when rel is no directory (now). */
  path(rel: string): string | undefined {
    let keep = 0;
    while (keep < this.open.length && within(this.open[keep]!.rel, rel)) keep++;
    this.closeFrom(keep);
    try {
      if (!this.open.length) this.open.push({ rel: '', fd: fs.openSync(this.root, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY) });
      let top = this.open.at(-1)!;
      const rest = top.rel === rel ? [] : (top.rel ? rel.slice(top.rel.length + 1) : rel).split('/');
      for (const name of rest) {
        const next = top.rel ? `${top.rel}/${name}` : name;
        try {
          top = { rel: next, fd: fs.openSync(`${fdPath(top.fd)}/${name}`, O_DIR) };
        } catch (e) {
          // Not ours to open (a subordinate id's): the helper looks from here down.
          if (denied(e)) return remote(this.root, rel);
          throw e;
        }
        this.open.push(top);
      }
      return fdPath(top.fd);
    } catch (e) {
      if (!this.open.length && denied(e)) return remote(this.root, rel);
      return undefined;
    }
  }

  /** Where entry rel (not the root) is reached through its directory's descriptor. */
  entry(rel: string): string | undefined {
    const dir = this.path(parentOf(rel));
    return dir && `${dir}/${baseOf(rel)}`;
  }

  private closeFrom(i: number): void {
    for (const { fd } of this.open.splice(i)) fs.closeSync(fd);
  }

  close(): void {
    this.closeFrom(0);
  }
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const isWhiteoutDevice = (st: fs.Stats) => st.isCharacterDevice() && st.rdev === 0;
const join = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);

/** Whether we may read it (user.* extended attributes need that): else the helper reads them. */
function readable(st: fs.Stats): boolean {
  const bits = st.uid === process.getuid?.() ? 0o400 : st.gid === process.getgid?.() ? 0o040 : 0o004;
  return (st.mode & bits) !== 0 || process.getuid?.() === 0;
}

/** The remote marker for a node this process cannot read, or its own path. */
const readableAbs = (n: Node) => (readable(n.st) || n.root === undefined || n.rel === undefined ? n.abs : remote(n.root, n.rel));

function isOpaque(abs: string, names: string[]): boolean {
  if (names.includes(OPAQUE)) return true;
  const r = remoteOf(abs);
  if (r) {
    const x = nsXattrs(r.root, r.rel);
    return OPAQUE_XATTRS.some((n) => x.get(n)?.toString() === 'y');
  }
  return OPAQUE_XATTRS.some((x) => lgetxattr(abs, x)?.toString() === 'y');
}

function xattrsOf(abs: string): Record<string, Buffer> | undefined {
  let out: Record<string, Buffer> | undefined;
  const r = remoteOf(abs);
  const all = r ? nsXattrs(r.root, r.rel) : undefined;
  for (const name of all ? all.keys() : llistxattr(abs)) {
    if (OVERLAY_XATTR.test(name) || (name.startsWith('security.') && name !== 'security.capability')) continue;
    const v = all ? all.get(name) : lgetxattr(abs, name);
    if (v) (out ??= {})[name] = name === 'security.capability' && !all ? capabilityInNamespace(Buffer.from(v)) : Buffer.from(v);
  }
  return out;
}

/** One file system object: where it really is, and what lstat says. */
export interface Node {
  abs: string;
  st: fs.Stats;
  /** The tree's root and the path under it: where the namespace helper finds it when abs is not ours to open. */
  root?: string;
  rel?: string;
}

/** A read-only view of a file tree by relative path ('' is the root). */
export interface Tree {
  get(rel: string): Node | undefined;
  /** Names in a directory, byte-sorted. */
  list(rel: string): string[];
}

/** A plain directory; nothing is reached through a symlink in it. */
export class DirTree implements Tree {
  private readonly handles: DirHandles;

  constructor(root: string) {
    this.handles = new DirHandles(root);
  }

  get(rel: string): Node | undefined {
    if (rel === '') {
      const abs = this.handles.path('');
      const st = abs ? (remoteOf(abs) ? lstatAt(abs) : fs.statSync(abs, { throwIfNoEntry: false })) : undefined;
      return abs && st ? { abs, st, root: this.handles.root, rel } : undefined;
    }
    const abs = this.handles.entry(rel);
    const st = abs ? lstatAt(abs) : undefined;
    return abs && st ? { abs, st, root: this.handles.root, rel } : undefined;
  }

  list(rel: string): string[] {
    const dir = this.handles.path(rel);
    return dir ? readdirAt(dir).sort(byteOrder) : [];
  }

  close(): void {
    this.handles.close();
  }
}

/**
 * Layer directories (topmost first) merged as the overlay merges them: the topmost entry of a name
 * wins, whiteouts (0/0 devices or `.wh.` files) hide what is below, an opaque directory hides the
 * directories below it.
 */
export class LayerStack implements Tree {
  /** For each directory seen: the layers (indexes) that contribute to it, topmost first. */
  private readonly dirs = new Map<string, number[]>();
  private readonly handles: DirHandles[];

  constructor(private readonly layers: string[]) {
    this.handles = layers.map((l) => new DirHandles(l));
    this.dirs.set('', layers.map((_, i) => i));
  }

  private whiteout(layer: number, rel: string): boolean {
    const dir = this.handles[layer]!.path(parentOf(rel));
    return !!dir && lstatAt(`${dir}/${WHITEOUT}${baseOf(rel)}`) !== undefined;
  }

  /** The layers contributing to directory rel, or undefined when rel is not a visible directory. */
  private layersOf(rel: string): number[] | undefined {
    const known = this.dirs.get(rel);
    if (known) return known;
    const parent = this.layersOf(parentOf(rel));
    if (!parent) return undefined;
    const below: number[] = [];
    for (const layer of parent) {
      const abs = this.handles[layer]!.entry(rel);
      const st = abs ? lstatAt(abs) : undefined;
      if (!abs || !st) {
        if (this.whiteout(layer, rel)) break;
        continue;
      }
      if (!st.isDirectory()) break;
      below.push(layer);
      // (abs, the name through its parent, for the xattr: dir is a /proc link, not the directory)
      const dir = this.handles[layer]!.path(rel);
      if (!dir || isOpaque(dir.startsWith(REMOTE) ? dir : abs, readdirAt(dir))) break;
    }
    if (below.length === 0) return undefined;
    this.dirs.set(rel, below);
    return below;
  }

  get(rel: string): Node | undefined {
    if (rel === '') {
      const abs = this.handles[0]!.path('');
      const st = abs ? (remoteOf(abs) ? lstatAt(abs) : fs.statSync(abs, { throwIfNoEntry: false })) : undefined;
      return abs && st ? { abs, st, root: this.handles[0]!.root, rel } : undefined;
    }
    const layers = this.layersOf(parentOf(rel));
    if (!layers || baseOf(rel).startsWith(WHITEOUT)) return undefined;
    for (const layer of layers) {
      const abs = this.handles[layer]!.entry(rel);
      const st = abs ? lstatAt(abs) : undefined;
      if (abs && st) return isWhiteoutDevice(st) ? undefined : { abs, st, root: this.handles[layer]!.root, rel };
      if (this.whiteout(layer, rel)) return undefined;
    }
    return undefined;
  }

  list(rel: string): string[] {
    const layers = this.layersOf(rel);
    if (!layers) return [];
    const names = new Set<string>();
    const hidden = new Set<string>();
    for (const layer of layers) {
      const dir = this.handles[layer]!.path(rel);
      for (const name of dir ? readdirAt(dir) : []) {
        if (name === OPAQUE) continue;
        if (name.startsWith(WHITEOUT)) hidden.add(name.slice(WHITEOUT.length));
        else if (!hidden.has(name)) names.add(name);
      }
    }
    return [...names].filter((n) => this.get(join(rel, n)) !== undefined).sort(byteOrder);
  }

  close(): void {
    for (const h of this.handles) h.close();
  }
}

export interface TreeTarOptions {
  /** Paths (relative to the tree) left out with everything under them. */
  exclude?: (rel: string, node: Node) => boolean;
  /** Where an entry goes in the tar (default: where it is). */
  rename?: (rel: string) => string;
  /** Forced ownership (COPY, ADD). */
  owner?: { uid: number; gid: number };
  /** Forced permission bits (COPY --chmod); symlinks keep theirs. */
  mode?: number;
}

/**
 * The node's owner as the user namespace sees it: lstat here gives host ids (the user's own is
 * the namespace's 0), the helper's answers are the namespace's already.
 */
export function namespaceOwner(node: Node): { uid: number; gid: number } {
  const ids = remoteOf(node.abs) ? undefined : namespaceIds();
  return ids ? { uid: ids.uid(node.st.uid), gid: ids.gid(node.st.gid) } : { uid: node.st.uid, gid: node.st.gid };
}

/** One file system object as a tar entry (null for what a tar does not carry: sockets). */
function describe(node: Node, path: string, links: Map<string, string>, o: TreeTarOptions): WriteEntry | null {
  const { abs, st } = node;
  const owner = o.owner ?? namespaceOwner(node);
  const base = {
    path,
    mode: o.mode !== undefined && !st.isSymbolicLink() ? o.mode : st.mode & 0o7777,
    uid: owner.uid,
    gid: owner.gid,
    mtime: Math.floor(st.mtimeMs / 1000),
    xattrs: xattrsOf(readableAbs(node)),
  };
  if (st.isDirectory()) return { ...base, type: 'dir', path: `${path}/` };
  if (st.isSymbolicLink()) {
    try {
      const r = remoteOf(abs);
      const linkname = r ? nsReadlink(r.root, r.rel) : fs.readlinkSync(abs);
      if (linkname === undefined) return null;
      return { ...base, type: 'symlink', linkname };
    } catch {
      return null; // no longer a symlink: changed while we looked, left out
    }
  }
  if (st.isFile()) {
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first) return { ...base, type: 'hardlink', linkname: first, xattrs: undefined };
      links.set(key, path);
    }
    return { ...base, type: 'file', size: st.size };
  }
  if (st.isFIFO()) return { ...base, type: 'fifo' };
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    const major = Math.floor(st.rdev / 256) & 0xfff;
    const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
    return { ...base, type: st.isCharacterDevice() ? 'char' : 'block', devmajor: major, devminor: minor };
  }
  return null;
}

/**
 * The entry's header and content. A file is opened (never through a symlink) before its header is
 * written, and its size is what the open file says then: a file the container swapped for
 * something else meanwhile is left out; one that shrinks while read is padded with zeros, one
 * that grows is cut at that size, so the tar stays whole, as docker's export does.
 */
async function* emit(node: Node, e: WriteEntry): AsyncGenerator<Buffer> {
  const { abs } = node;
  if (e.type !== 'file') {
    yield entryHeader(e);
    return;
  }
  let fd: number;
  try {
    if (remoteOf(abs)) throw Object.assign(new Error('not ours'), { code: 'EACCES' });
    fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    if (denied(err) && node.root !== undefined && node.rel !== undefined) yield* emitRemote(node.root, node.rel, e);
    return;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return;
    const size = st.size;
    yield entryHeader({ ...e, size });
    let done = 0;
    while (done < size) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - done));
      const n = fs.readSync(fd, buf, 0, buf.length, done);
      if (n === 0) {
        buf.fill(0);
        done += buf.length;
        yield buf;
        continue;
      }
      done += n;
      yield buf.subarray(0, n);
    }
    yield padding(size);
  } finally {
    fs.closeSync(fd);
  }
}

/** emit for a file only root of the namespace may read: its size is what lstat says as it starts. */
async function* emitRemote(root: string, rel: string, e: WriteEntry): AsyncGenerator<Buffer> {
  const st = nsLstat(root, rel);
  if (!st?.isFile()) return;
  const size = st.size;
  let first: Buffer;
  try {
    first = nsRead(root, rel, 0, Math.min(CHUNK, size));
  } catch {
    return; // gone, or no longer a file: left out like a file that changed before it was opened
  }
  yield entryHeader({ ...e, size });
  let done = 0;
  for (let buf: Buffer | undefined = first; done < size; buf = undefined) {
    const want = Math.min(CHUNK, size - done);
    try {
      buf ??= nsRead(root, rel, done, want);
    } catch {
      buf = Buffer.alloc(0);
    }
    // Shrunk (or gone) while read: padded with zeros, as a local read does.
    const piece = buf.length ? buf.subarray(0, want) : Buffer.alloc(want);
    done += piece.length;
    yield piece;
  }
  yield padding(size);
}

/**
 * The entries of `from` and everything under it, as the tree shows them (no end-of-archive
 * marker: callers put several together). Hard links are kept only among the files written here.
 */
export async function* treeEntries(tree: Tree, from = '', o: TreeTarOptions = {}, links = new Map<string, string>()): AsyncGenerator<Buffer> {
  const rename = o.rename ?? ((rel: string) => rel);
  async function* walk(rel: string): AsyncGenerator<Buffer> {
    const node = tree.get(rel);
    if (!node || o.exclude?.(rel, node)) return;
    if (rel !== '' || o.rename) {
      const path = rename(rel);
      if (path !== '') {
        const e = describe(node, path, links, o);
        if (!e) return;
        yield* emit(node, e);
      }
    }
    if (node.st.isDirectory()) for (const name of tree.list(rel)) yield* walk(join(rel, name));
  }
  yield* walk(from);
}

/** The tar of what a stack of layers (topmost first) shows merged. */
export async function* flattenTar(layers: string[], opts: { exclude?: Set<string> } = {}): AsyncGenerator<Buffer> {
  const stack = new LayerStack(layers);
  try {
    yield* treeEntries(stack, '', { exclude: opts.exclude ? (rel) => opts.exclude!.has(rel) : undefined });
  } finally {
    stack.close();
  }
  yield END_OF_ARCHIVE;
}

const whiteoutEntry = (rel: string, like: fs.Stats): WriteEntry => ({ path: rel, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime: Math.floor(like.mtimeMs / 1000) });

/** The tar of a container's upper directory: a layer holding exactly what the container changed. */
export async function* diffTar(upper: string, opts: { exclude?: Set<string> } = {}): AsyncGenerator<Buffer> {
  const tree = new DirTree(upper);
  const links = new Map<string, string>();
  const opaque = (rel: string, names: string[]) => {
    const node = tree.get(rel);
    return !!node && isOpaque(readableAbs(node), names);
  };
  // A directory that is in the upper layer only because excluded files were put in it (the
  // runtime's mount points in /etc) was copied up unchanged: it is no change of the container's.
  const onlyExcluded = (rel: string): boolean => {
    const names = tree.list(rel);
    return names.length > 0 && names.every((n) => opts.exclude?.has(join(rel, n))) && !opaque(rel, names);
  };
  async function* walk(dirRel: string): AsyncGenerator<Buffer> {
    const names = tree.list(dirRel);
    const dir = dirRel ? tree.get(dirRel) : undefined;
    if (dir && isOpaque(readableAbs(dir), names)) yield entryHeader(whiteoutEntry(`${dirRel}/${OPAQUE}`, dir.st));
    for (const name of names) {
      if (name === OPAQUE) continue;
      const rel = join(dirRel, name);
      if (opts.exclude?.has(rel)) continue;
      // Gone since the listing (the container is running): nothing to record.
      const node = tree.get(rel);
      if (!node) continue;
      if (isWhiteoutDevice(node.st)) {
        yield entryHeader(whiteoutEntry(join(dirRel, WHITEOUT + name), node.st));
        continue;
      }
      if (node.st.isDirectory() && onlyExcluded(rel)) continue;
      const e = describe(node, rel, links, {});
      if (!e) continue;
      yield* emit(node, e);
      if (node.st.isDirectory()) yield* walk(rel);
    }
  }
  try {
    yield* walk('');
  } finally {
    tree.close();
  }
  yield END_OF_ARCHIVE;
}
