/**
 * Tars made from directories: the difference a container's writable layer holds (its upper
 * directory, turned back into image-layer form: whiteouts as `.wh.` files, opaque directories as
 * `.wh..wh..opq`), and the flattened view of a stack of layers (what the container sees, for
 * `export`). Entries come in a fixed order (sorted by name, a directory before its contents), so
 * the same files give the same tar. Run as root in the user namespace, where every file can be
 * read and ids are the container's.
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

export interface DirTarOptions {
  /** Paths (relative, no leading slash) left out with everything under them. */
  exclude?: Set<string>;
}

const isWhiteoutDevice = (st: fs.Stats) => st.isCharacterDevice() && st.rdev === 0;

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

/** One file system object as a tar entry (null for what a tar does not carry: sockets). */
function describe(abs: string, rel: string, st: fs.Stats, links: Map<string, string>): WriteEntry | null {
  const base = { path: rel, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000), xattrs: xattrsOf(abs) };
  if (st.isDirectory()) return { ...base, type: 'dir', path: `${rel}/` };
  if (st.isSymbolicLink()) return { ...base, type: 'symlink', linkname: fs.readlinkSync(abs) };
  if (st.isFile()) {
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first) return { ...base, type: 'hardlink', linkname: first, xattrs: undefined };
      links.set(key, rel);
    }
    return { ...base, type: 'file', size: st.size };
  }
  if (st.isFIFO()) return { ...base, type: 'fifo' };
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    return { ...base, type: st.isCharacterDevice() ? 'char' : 'block', devmajor: Math.floor(st.rdev / 256) & 0xfff, devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) };
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

function sortedNames(dir: string): string[] {
  // Byte order, as Go's sort of names: the same on every machine and locale.
  return fs.readdirSync(dir).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

const whiteoutEntry = (rel: string, like: fs.Stats): WriteEntry => ({ path: rel, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime: Math.floor(like.mtimeMs / 1000) });

/** The tar of a container's upper directory: a layer holding exactly what the container changed. */
export async function* diffTar(upper: string, opts: DirTarOptions = {}): AsyncGenerator<Buffer> {
  const links = new Map<string, string>();
  async function* walk(dirAbs: string, dirRel: string): AsyncGenerator<Buffer> {
    const names = sortedNames(dirAbs);
    if (dirRel && isOpaque(dirAbs, names)) yield entryHeader(whiteoutEntry(`${dirRel}/${OPAQUE}`, fs.lstatSync(dirAbs)));
    for (const name of names) {
      if (name === OPAQUE) continue;
      const rel = dirRel ? `${dirRel}/${name}` : name;
      if (opts.exclude?.has(rel)) continue;
      const abs = `${dirAbs}/${name}`;
      const st = fs.lstatSync(abs);
      if (isWhiteoutDevice(st)) {
        yield entryHeader(whiteoutEntry(dirRel ? `${dirRel}/${WHITEOUT}${name}` : `${WHITEOUT}${name}`, st));
        continue;
      }
      const e = describe(abs, rel, st, links);
      if (!e) continue;
      yield* emit(abs, e);
      if (st.isDirectory()) yield* walk(abs, rel);
    }
  }
  yield* walk(upper, '');
  yield END_OF_ARCHIVE;
}

/**
 * The tar of what a stack of layers shows merged (topmost first), as the overlay would: upper
 * entries hide lower ones, whiteouts hide, opaque directories hide everything below them.
 */
export async function* flattenTar(layers: string[], opts: DirTarOptions = {}): AsyncGenerator<Buffer> {
  const links = new Map<string, string>();
  async function* walk(dirs: string[], dirRel: string): AsyncGenerator<Buffer> {
    // Which layer shows each name: the topmost that has it ('' when that is a `.wh.` whiteout).
    const shown = new Map<string, string>();
    const visible: string[] = [];
    for (const dir of dirs) {
      visible.push(dir);
      const names = sortedNames(dir);
      for (const name of names) {
        if (name === OPAQUE) continue;
        if (name.startsWith(WHITEOUT)) {
          if (!shown.has(name.slice(WHITEOUT.length))) shown.set(name.slice(WHITEOUT.length), '');
        } else if (!shown.has(name)) shown.set(name, dir);
      }
      if (dirRel !== '' && isOpaque(dir, names)) break;
    }
    for (const name of [...shown.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const rel = dirRel ? `${dirRel}/${name}` : name;
      const top = shown.get(name)!;
      if (!top || opts.exclude?.has(rel)) continue;
      const abs = `${top}/${name}`;
      const st = fs.lstatSync(abs);
      if (isWhiteoutDevice(st)) continue;
      const e = describe(abs, rel, st, links);
      if (!e) continue;
      yield* emit(abs, e);
      if (!st.isDirectory()) continue;
      // The directory's contents: this layer's, then those below it, down to an opaque one or a non-directory.
      const below: string[] = [];
      for (const dir of visible.slice(visible.indexOf(top))) {
        let s: fs.Stats | undefined;
        try {
          s = fs.lstatSync(`${dir}/${name}`);
        } catch {
          if (fs.existsSync(`${dir}/${WHITEOUT}${name}`)) break;
          continue;
        }
        if (!s.isDirectory()) break;
        below.push(`${dir}/${name}`);
      }
      yield* walk(below, rel);
    }
  }
  yield* walk(layers, '');
  yield END_OF_ARCHIVE;
}
