/**
 * Tars made from directories: the difference a container's writable layer holds (its upper
 * directory, turned back into image-layer form: whiteouts as `.wh.` files, opaque directories as
 * `.wh..wh..opq`), and trees as they are seen — one directory, or a stack of layers merged as
 * the overlay would merge them (for `export`, and for COPY sources and `COPY --from`). Entries come
 * in a fixed order (byte-sorted names, a directory before its contents), so the same files give the
 * same tar. Run as root in the user namespace, where every file can be read and ids are the
 * container's.
 */
import fs from 'node:fs';
import { LayerError } from '../errors.js';
import { lgetxattr, llistxattr } from '../rootless/syscalls.js';
import { entryHeader, padding, END_OF_ARCHIVE, type WriteEntry } from './tar-writer.js';

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
const OPAQUE_XATTRS = ['user.overlay.opaque', 'trusted.overlay.opaque', 'user.fuseoverlayfs.opaque'];
/** Overlay's own bookkeeping, meaningless (and forgeable) in an image. */
const OVERLAY_XATTR = /^(user\.overlay\.|trusted\.overlay\.|user\.fuseoverlayfs\.)/;
const CHUNK = 256 * 1024;

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const isWhiteoutDevice = (st: fs.Stats) => st.isCharacterDevice() && st.rdev === 0;
const join = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);

function isOpaque(abs: string, names: string[]): boolean {
  if (names.includes(OPAQUE)) return true;
  return OPAQUE_XATTRS.some((x) => lgetxattr(abs, x)?.toString() === 'y');
}

function xattrsOf(abs: string): Record<string, Buffer> | undefined {
  let out: Record<string, Buffer> | undefined;
  for (const name of llistxattr(abs)) {
    if (OVERLAY_XATTR.test(name) || (name.startsWith('security.') && name !== 'security.capability')) continue;
    const v = lgetxattr(abs, name);
    if (v) (out ??= {})[name] = Buffer.from(v);
  }
  return out;
}

/** One file system object: where it really is, and what lstat says. */
export interface Node {
  abs: string;
  st: fs.Stats;
}

/** A read-only view of a file tree by relative path ('' is the root). */
export interface Tree {
  get(rel: string): Node | undefined;
  /** Names in a directory, byte-sorted. */
  list(rel: string): string[];
}

/** A plain directory; nothing is reached through a symlink in it. */
export class DirTree implements Tree {
  private readonly realDirs = new Set<string>(['']);

  constructor(private readonly root: string) {}

  get(rel: string): Node | undefined {
    const slash = rel.lastIndexOf('/');
    if (slash >= 0) {
      const parent = rel.slice(0, slash);
      if (!this.realDirs.has(parent)) {
        if (!this.get(parent)?.st.isDirectory()) return undefined;
        this.realDirs.add(parent);
      }
    }
    const abs = rel ? `${this.root}/${rel}` : this.root;
    try {
      return { abs, st: fs.lstatSync(abs) };
    } catch {
      return undefined;
    }
  }

  list(rel: string): string[] {
    return fs.readdirSync(rel ? `${this.root}/${rel}` : this.root).sort(byteOrder);
  }
}

/**
 * Layer directories (topmost first) merged as the overlay merges them: the topmost entry of a name
 * wins, whiteouts (0/0 devices or `.wh.` files) hide what is below, an opaque directory hides the
 * directories below it.
 */
export class LayerStack implements Tree {
  /** For each directory seen: the layer directories that contribute to it, topmost first. */
  private readonly dirs = new Map<string, string[]>();

  constructor(layers: string[]) {
    this.dirs.set('', layers);
  }

  /** The layers contributing to directory rel, or undefined when rel is not a visible directory. */
  private layersOf(rel: string): string[] | undefined {
    const known = this.dirs.get(rel);
    if (known) return known;
    const slash = rel.lastIndexOf('/');
    const parent = this.layersOf(slash < 0 ? '' : rel.slice(0, slash));
    if (!parent) return undefined;
    const name = rel.slice(slash + 1);
    const below: string[] = [];
    for (const layer of parent) {
      const abs = `${layer}/${rel}`;
      let st: fs.Stats;
      try {
        st = fs.lstatSync(abs);
      } catch {
        if (fs.existsSync(`${layer}/${join(rel.slice(0, Math.max(slash, 0)), WHITEOUT + name)}`)) break;
        continue;
      }
      if (!st.isDirectory()) break;
      below.push(layer);
      if (isOpaque(abs, fs.readdirSync(abs))) break;
    }
    if (below.length === 0) return undefined;
    this.dirs.set(rel, below);
    return below;
  }

  get(rel: string): Node | undefined {
    if (rel === '') {
      const top = this.dirs.get('')![0]!;
      return { abs: top, st: fs.lstatSync(top) };
    }
    const slash = rel.lastIndexOf('/');
    const dir = slash < 0 ? '' : rel.slice(0, slash);
    const name = rel.slice(slash + 1);
    const layers = this.layersOf(dir);
    if (!layers || name.startsWith(WHITEOUT)) return undefined;
    for (const layer of layers) {
      const abs = `${layer}/${rel}`;
      try {
        const st = fs.lstatSync(abs);
        return isWhiteoutDevice(st) ? undefined : { abs, st };
      } catch {
        if (fs.existsSync(`${layer}/${join(dir, WHITEOUT + name)}`)) return undefined;
      }
    }
    return undefined;
  }

  list(rel: string): string[] {
    const layers = this.layersOf(rel);
    if (!layers) return [];
    const names = new Set<string>();
    const hidden = new Set<string>();
    for (const layer of layers) {
      for (const name of fs.readdirSync(rel ? `${layer}/${rel}` : layer)) {
        if (name === OPAQUE) continue;
        if (name.startsWith(WHITEOUT)) hidden.add(name.slice(WHITEOUT.length));
        else if (!hidden.has(name)) names.add(name);
      }
    }
    return [...names].filter((n) => this.get(join(rel, n)) !== undefined).sort(byteOrder);
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

/** One file system object as a tar entry (null for what a tar does not carry: sockets). */
function describe(node: Node, path: string, links: Map<string, string>, o: TreeTarOptions): WriteEntry | null {
  const { abs, st } = node;
  const base = {
    path,
    mode: o.mode !== undefined && !st.isSymbolicLink() ? o.mode : st.mode & 0o7777,
    uid: o.owner?.uid ?? st.uid,
    gid: o.owner?.gid ?? st.gid,
    mtime: Math.floor(st.mtimeMs / 1000),
    xattrs: xattrsOf(abs),
  };
  if (st.isDirectory()) return { ...base, type: 'dir', path: `${path}/` };
  if (st.isSymbolicLink()) return { ...base, type: 'symlink', linkname: fs.readlinkSync(abs) };
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

async function* emit(abs: string, e: WriteEntry): AsyncGenerator<Buffer> {
  yield entryHeader(e);
  if (e.type !== 'file' || !e.size) return;
  const fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    let done = 0;
    while (done < e.size) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, e.size - done));
      const n = fs.readSync(fd, buf, 0, buf.length, done);
      if (n === 0) throw new LayerError(`${e.path} shrank while it was being archived`);
      done += n;
      yield buf.subarray(0, n);
    }
  } finally {
    fs.closeSync(fd);
  }
  yield padding(e.size);
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
        yield* emit(node.abs, e);
      }
    }
    if (node.st.isDirectory()) for (const name of tree.list(rel)) yield* walk(join(rel, name));
  }
  yield* walk(from);
}

/** The tar of what a stack of layers (topmost first) shows merged. */
export async function* flattenTar(layers: string[], opts: { exclude?: Set<string> } = {}): AsyncGenerator<Buffer> {
  yield* treeEntries(new LayerStack(layers), '', { exclude: opts.exclude ? (rel) => opts.exclude!.has(rel) : undefined });
  yield END_OF_ARCHIVE;
}

const whiteoutEntry = (rel: string, like: fs.Stats): WriteEntry => ({ path: rel, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime: Math.floor(like.mtimeMs / 1000) });

/** The tar of a container's upper directory: a layer holding exactly what the container changed. */
export async function* diffTar(upper: string, opts: { exclude?: Set<string> } = {}): AsyncGenerator<Buffer> {
  const tree = new DirTree(upper);
  const links = new Map<string, string>();
  // A directory that is in the upper layer only because excluded files were put in it (the
  // runtime's mount points in /etc) was copied up unchanged: it is no change of the container's.
  const onlyExcluded = (rel: string): boolean => {
    const names = tree.list(rel);
    return names.length > 0 && names.every((n) => opts.exclude?.has(join(rel, n))) && !isOpaque(tree.get(rel)!.abs, names);
  };
  async function* walk(dirRel: string): AsyncGenerator<Buffer> {
    const names = tree.list(dirRel);
    if (dirRel && isOpaque(tree.get(dirRel)!.abs, names)) yield entryHeader(whiteoutEntry(`${dirRel}/${OPAQUE}`, tree.get(dirRel)!.st));
    for (const name of names) {
      if (name === OPAQUE) continue;
      const rel = join(dirRel, name);
      if (opts.exclude?.has(rel)) continue;
      const node = tree.get(rel)!;
      if (isWhiteoutDevice(node.st)) {
        yield entryHeader(whiteoutEntry(join(dirRel, WHITEOUT + name), node.st));
        continue;
      }
      if (node.st.isDirectory() && onlyExcluded(rel)) continue;
      const e = describe(node, rel, links, {});
      if (!e) continue;
      yield* emit(node.abs, e);
      if (node.st.isDirectory()) yield* walk(rel);
    }
  }
  yield* walk('');
  yield END_OF_ARCHIVE;
}
