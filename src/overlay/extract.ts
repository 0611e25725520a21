/**
 * Extracting one image layer into an empty directory. Layers are untrusted: no entry may create or
 * change anything outside the directory — not by `..` or absolute paths, not through a symlink the
 * layer made earlier, not by hard-linking something outside. Whiteouts become what overlayfs reads
 * (0/0 character devices; opaque directories as xattrs for kernel overlay with `userxattr` and for
 * fuse-overlayfs), and overlay metadata coming from the layer itself is never trusted.
 *
 * The extractor is the only writer in the directory while it runs, so what it has checked (with
 * lstat, never following a link) stays true; the checks are cached and the cache is invalidated on
 * every removal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LayerError, errorMessage } from '../errors.js';
import { lsetxattr, mkfifo, mknodWhiteout, SyscallError } from '../rootless/syscalls.js';
import { FileWriter } from './file-writer.js';
import { applyOwnership, NamespaceOpError, type OwnRecord } from '../rootless/userns-ops.js';
import { readTar, type TarEntry, type TarRecorder } from './tar-reader.js';

export interface ExtractOptions {
  /**
   * False: files keep the caller's ownership. True: they get the layer's: directly as real root,
   * otherwise by the user namespace helper (userns-ops.ts) at the end, in one batch.
   */
  chown: boolean;
  /**
   * The root's mode, mtime and owner are not applied but returned (ExtractStats.root), for
   * finishRoot once the caller has moved the directory: moving a directory to another parent
   * needs write permission on it, which a read-only root, or one given to a subordinate id, denies.
   */
  rootLater?: boolean;
  onWarning?: (msg: string) => void;
}

/** What the layer says of its root directory, left for finishRoot. */
export interface RootMeta {
  mode: number;
  mtime: number;
  /** Ownership for the namespace helper (not real root, and not the namespace's root). */
  own?: OwnRecord;
}

export interface ExtractStats {
  /** Tar entries read (extended headers not counted). */
  entries: number;
  /** Bytes of file content written. */
  bytes: number;
  /**
   * False when the layer replaced or removed a file it had itself written earlier: then its tar
   * cannot be rebuilt from the extracted files (see tar-split.ts).
   */
  reproducible: boolean;
  /** With rootLater: the root's metadata, when the layer has a "./" entry. */
  root?: RootMeta;
}

const WHITEOUT = '.wh.';
const WHITEOUT_META = '.wh..wh.';
const OPAQUE = '.wh..wh..opq';
/** aufs kept the targets of hard links here; they are extracted so links resolve, then removed. */
const AUFS_LINK_DIR = '.wh..wh.plnk';
const OPAQUE_XATTRS = ['user.overlay.opaque', 'user.fuseoverlayfs.opaque'];
const FORGED_OVERLAY_XATTR = /^(user\.overlay\.|trusted\.overlay\.|user\.fuseoverlayfs\.)/;
const BLOCK = 4096;
const ZERO = Buffer.alloc(BLOCK);
const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
/** Files written in the main thread before the worker is worth starting (a build step's layer has a handful). */
const PARALLEL_AFTER = 64;
const PARALLEL_MAX_SIZE = 1 << 20;

/**
 * The path's components under the layer root. Leading '/' and './' are dropped (an absolute name
 * is taken relative to the layer root, as Docker does); a path that climbs out with '..' is refused.
 */
export function safeComponents(name: string, what = 'entry'): string[] {
  if (name.includes('\0')) throw new LayerError(`layer ${what} "${name.replace(/\0/g, '\\0')}" has a NUL byte in its name`);
  const rel = path.posix.normalize(name.replace(/^\/+/, '') || '.');
  if (rel === '..' || rel.startsWith('../')) throw new LayerError(`layer ${what} "${name}" escapes the layer root`);
  return rel.split('/').filter((p) => p !== '' && p !== '.');
}

interface DirMeta {
  mode: number;
  mtime: number;
}

class Extractor {
  readonly stats: ExtractStats = { entries: 0, bytes: 0, reproducible: true };
  /** Files whose tar body is recorded by reference to what was written here. */
  private readonly referenced = new Set<string>();
  /** Directories (relative paths; '' is the root) known to be real directories, not links. */
  private readonly knownDirs = new Set<string>(['']);
  /**
   * Everything this extraction has made (dest starts empty): a path not in here does not exist, so
   * the usual case, a new name, costs no lstat (and no ENOENT error object). Missing a path here
   * could only make a later O_EXCL create fail, never write through what is there.
   */
  private readonly made = new Set<string>();
  /** The permission bits the process umask takes away: where it takes none, open() sets the final mode. */
  private readonly umask = processUmask();
  /** New files are 0:0 already (no set-group-id directory above), so chown to 0:0 is skipped. */
  private readonly ownerIsRoot: boolean;
  /**
   * Not real root: ownership is applied by root of the user namespace once everything is written
   * (until then every file is ours, so nothing stands in the way of writing), with the set-id bits
   * and file capabilities that a chown clears. By relative path, in the order made.
   */
  private readonly deferred: Map<string, OwnRecord> | undefined;
  private readonly deferredNames = new Map<string, string>();
  /** Small plain files go to a worker thread once a layer has shown it has many (file-writer.ts). */
  private readonly writer = new FileWriter();
  private files = 0;
  /** Mode and mtime of directory entries, applied at the end: children change mtimes, and a read-only mode would stop them. */
  private readonly dirMeta = new Map<string, DirMeta>();
  private readonly warned = new Set<string>();
  private aufsLinks = false;

  constructor(
    private readonly root: string,
    private readonly opts: ExtractOptions,
  ) {
    const realRoot = process.getuid?.() === 0;
    // Outside the namespace our own ids are its 0:0 (userns-ops.ts maps them so).
    const ours = realRoot ? process.getgid?.() === 0 : process.getegid?.() === process.getgid?.();
    this.ownerIsRoot = ours && (fs.statSync(root).mode & 0o2000) === 0;
    this.deferred = opts.chown && !realRoot ? new Map() : undefined;
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.opts.onWarning?.(msg);
  }

  private abs(rel: string): string {
    return rel ? path.join(this.root, rel) : this.root;
  }

  /**
   * Makes sure every component of `dirParts` is a real directory (creating missing ones, 0755,
   * when `create`), refusing symlinks and non-directories: nothing is ever written through a link.
   * Returns the directory's absolute path.
   */
  private directory(dirParts: string[], entryName: string, create: boolean): string {
    let rel = '';
    for (const p of dirParts) {
      rel = rel ? `${rel}/${p}` : p;
      if (this.knownDirs.has(rel)) continue;
      const abs = this.abs(rel);
      let st: fs.Stats | undefined;
      if (this.made.has(rel)) {
        this.writer.drain();
        try {
          st = fs.lstatSync(abs);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
      if (!st) {
        if (!create) throw new LayerError(`layer entry "${entryName}" refers to "${rel}", which the layer does not contain`);
        fs.mkdirSync(abs, { mode: 0o755 });
        if (this.umask & 0o755) fs.chmodSync(abs, 0o755); // whatever the umask
        this.made.add(rel);
      } else if (st.isSymbolicLink()) {
        throw new LayerError(`layer entry "${entryName}" goes through the symlink "${rel}"`);
      } else if (!st.isDirectory()) {
        throw new LayerError(`layer entry "${entryName}" goes through "${rel}", which is not a directory`);
      }
      this.knownDirs.add(rel);
    }
    return this.abs(rel);
  }

  /** Forgets what was known about rel and everything under it. */
  private forget(rel: string): void {
    this.undefer(rel, true);
    this.knownDirs.delete(rel);
    this.dirMeta.delete(rel);
    this.made.delete(rel);
    const prefix = rel ? `${rel}/` : '';
    for (const d of this.knownDirs) if (d.startsWith(prefix)) this.knownDirs.delete(d);
    for (const d of this.dirMeta.keys()) if (d.startsWith(prefix)) this.dirMeta.delete(d);
    for (const d of this.made) if (d.startsWith(prefix)) this.made.delete(d);
  }

  /**
   * Clears the way for a new entry (never following a link there): removes what is at abs, except
   * a directory when keepDir. Returns whether a directory was kept.
   */
  private clear(rel: string, abs: string, keepDir: boolean): boolean {
    if (!this.made.has(rel)) {
      this.made.add(rel); // the caller makes it now
      return false;
    }
    this.writer.drain(); // what is there may still be on its way
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    if (this.referenced.size && (this.referenced.has(rel) || (st.isDirectory() && !keepDir && [...this.referenced].some((r) => r.startsWith(`${rel}/`))))) {
      this.stats.reproducible = false;
    }
    if (st.isDirectory()) {
      if (keepDir) return true;
      this.forget(rel);
      // rmSync does not follow symlinks inside the tree.
      fs.rmSync(abs, { recursive: true, force: true });
      this.made.add(rel); // the caller makes it again
    } else {
      fs.unlinkSync(abs);
      this.undefer(rel, false);
    }
    return false;
  }

  /** What was removed gets no ownership later (a new entry there records its own). */
  private undefer(rel: string, tree: boolean): void {
    if (!this.deferred?.size) return;
    this.deferred.delete(rel);
    if (!tree) return;
    const prefix = rel ? `${rel}/` : '';
    for (const k of this.deferred.keys()) if (k.startsWith(prefix)) this.deferred.delete(k);
  }

  /** The deferred record of rel, made anew (at the end of the order: after what is inside a replaced one). */
  private defer(rel: string, e: TarEntry): OwnRecord {
    let r = this.deferred!.get(rel);
    if (!r) {
      r = { rel, uid: e.uid, gid: e.gid };
      this.deferred!.set(rel, r);
      this.deferredNames.set(rel, e.path);
    }
    return r;
  }

  private needsOwner(e: TarEntry): boolean {
    return this.opts.chown && !(e.uid === 0 && e.gid === 0 && this.ownerIsRoot);
  }

  private owner(rel: string, abs: string, e: TarEntry, fd?: number): void {
    if (!this.needsOwner(e)) return;
    if (this.deferred) {
      this.deferred.delete(rel);
      const r = this.defer(rel, e);
      // A chown clears set-id bits: the helper puts them back (what fchmod below did before).
      if (e.mode & 0o6000 && (e.type === 'file' || e.type === 'dir')) r.mode = e.mode & 0o7777;
      return;
    }
    try {
      if (fd !== undefined) fs.fchownSync(fd, e.uid, e.gid);
      else fs.lchownSync(abs, e.uid, e.gid);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EINVAL') {
        throw new LayerError(
          `layer entry "${e.path}" is owned by ${e.uid}:${e.gid}, outside the ids mapped into the user namespace; ` +
            `give the user a larger /etc/subuid and /etc/subgid range`,
        );
      }
      throw err;
    }
  }

  private xattrs(rel: string, abs: string, e: TarEntry): void {
    for (const [name, value] of Object.entries(e.xattrs)) {
      if (FORGED_OVERLAY_XATTR.test(name)) {
        // Overlay metadata from a layer could forge whiteouts, opaque dirs or redirects.
        this.warnOnce('overlay', `ignoring overlay extended attributes carried by the layer (${name} on ${e.path})`);
        continue;
      }
      if (name.startsWith('trusted.')) {
        this.warnOnce('trusted', `ignoring trusted.* extended attributes in the layer (${name} on ${e.path}): not settable in a user namespace`);
        continue;
      }
      // security.selinux and friends belong to the host that built the image; file capabilities matter.
      if (name.startsWith('security.') && name !== 'security.capability') continue;
      if (this.deferred && name === 'security.capability') {
        // Only root of the namespace may set it, and only after the chown (which drops it).
        if (e.type === 'file') this.defer(rel, e).capability = value;
        continue;
      }
      try {
        lsetxattr(abs, name, value);
      } catch (err) {
        const errno = err instanceof SyscallError ? `errno ${err.errno}` : errorMessage(err);
        this.warnOnce(`x:${name}`, `could not set extended attribute ${name} on ${e.path} (${errno})`);
      }
    }
  }

  private async file(rel: string, abs: string, e: TarEntry): Promise<void> {
    // The final mode at once where nothing comes between: no set-id bits (chown would clear
    // them), no xattrs (user.* may need write access), nothing the umask would take away.
    const direct = (e.mode & 0o7000) === 0 && (e.mode & this.umask & 0o777) === 0 && Object.keys(e.xattrs).length === 0;
    if (direct && ++this.files > PARALLEL_AFTER && !e.sparse && e.size <= PARALLEL_MAX_SIZE && !this.needsOwner(e)) {
      const data = new Uint8Array(e.size);
      let off = 0;
      for await (const chunk of e.body) {
        if (off + chunk.length > e.size) throw new LayerError(`layer file "${e.path}" has more data than its size`);
        data.set(chunk, off);
        off += chunk.length;
      }
      this.stats.bytes += off;
      this.writer.write({ path: abs, name: e.path, data: off === e.size ? data : data.subarray(0, off), mode: e.mode & 0o777, mtime: e.mtime });
      return;
    }
    const fd = fs.openSync(abs, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, direct ? e.mode & 0o777 : 0o600);
    let end = 0;
    try {
      const segments = e.sparse?.map ?? [{ offset: 0, size: e.size }];
      const total = e.sparse?.realSize ?? e.size;
      let seg = 0;
      let segLeft = segments[0]?.size ?? 0;
      let pos = segments[0]?.offset ?? 0;
      for await (const chunk of e.body) {
        let off = 0;
        while (off < chunk.length) {
          while (segLeft === 0 && seg < segments.length - 1) {
            seg++;
            segLeft = segments[seg]!.size;
            pos = segments[seg]!.offset;
          }
          if (segLeft === 0) throw new LayerError(`layer file "${e.path}" has more data than its sparse map`);
          const n = Math.min(segLeft, chunk.length - off);
          end = Math.max(end, writeSparse(fd, chunk.subarray(off, off + n), pos));
          pos += n;
          off += n;
          segLeft -= n;
          this.stats.bytes += n;
        }
      }
      // Unwritten ranges (skipped zero blocks, sparse holes, the tail) become holes.
      if (end !== total) fs.ftruncateSync(fd, total);
      this.owner(rel, abs, e, fd);
      // After chown (which drops file capabilities) and before chmod (user.* needs write access).
      this.xattrs(rel, abs, e);
      // After chown, which clears setuid/setgid.
      if (!direct) fs.fchmodSync(fd, e.mode);
      fs.futimesSync(fd, e.mtime, e.mtime);
    } finally {
      fs.closeSync(fd);
    }
  }

  async entry(e: TarEntry): Promise<void> {
    const parts = safeComponents(e.path);
    if (parts.length === 0) {
      // The root itself ("./"): only a directory's metadata means anything there.
      if (e.type === 'dir') {
        this.owner('', this.root, e);
        this.xattrs('', this.root, e);
        this.dirMeta.set('', { mode: e.mode, mtime: e.mtime });
      }
      return;
    }
    const name = parts.at(-1)!;
    const dirParts = parts.slice(0, -1);

    // aufs metadata (".wh..wh.aufs", ".wh..wh.orph"...) is meaningless here, except for hard link targets.
    const metaAt = parts.findIndex((p) => p.startsWith(WHITEOUT_META));
    if (metaAt >= 0 && !(metaAt === parts.length - 1 && name === OPAQUE)) {
      if (metaAt === 0 && parts[0] === AUFS_LINK_DIR && parts.length > 1) this.aufsLinks = true;
      else return;
    }

    if (name === OPAQUE) {
      const dir = this.directory(dirParts, e.path, true);
      for (const x of OPAQUE_XATTRS) lsetxattr(dir, x, Buffer.from('y'));
      return;
    }
    if (name.startsWith(WHITEOUT)) {
      const hidden = name.slice(WHITEOUT.length);
      if (hidden === '' || hidden === '.' || hidden === '..') throw new LayerError(`layer whiteout "${e.path}" names no file`);
      const rel = [...dirParts, hidden].join('/');
      const abs = path.join(this.directory(dirParts, e.path, true), hidden);
      this.clear(rel, abs, false);
      mknodWhiteout(abs);
      return;
    }

    const rel = parts.join('/');
    const abs = path.join(this.directory(dirParts, e.path, true), name);
    switch (e.type) {
      case 'dir': {
        if (!this.clear(rel, abs, true)) fs.mkdirSync(abs, { mode: 0o700 });
        this.knownDirs.add(rel);
        this.owner(rel, abs, e);
        this.xattrs(rel, abs, e);
        this.dirMeta.set(rel, { mode: e.mode, mtime: e.mtime });
        return;
      }
      case 'file':
        this.clear(rel, abs, false);
        if (parts[0] !== AUFS_LINK_DIR) {
          e.byReference(rel);
          this.referenced.add(rel);
        }
        await this.file(rel, abs, e);
        return;
      case 'symlink':
        this.clear(rel, abs, false);
        // The target is only data: nothing here ever follows it.
        fs.symlinkSync(e.linkname, abs);
        this.owner(rel, abs, e);
        this.xattrs(rel, abs, e);
        try {
          fs.lutimesSync(abs, e.mtime, e.mtime);
        } catch {
          /* not everywhere */
        }
        return;
      case 'hardlink': {
        const linkParts = safeComponents(e.linkname, 'hard link target');
        if (linkParts.length === 0) throw new LayerError(`layer hard link "${e.path}" points at the layer root`);
        const source = path.join(this.directory(linkParts.slice(0, -1), e.path, false), linkParts.at(-1)!);
        this.writer.drain();
        let st: fs.Stats;
        try {
          st = fs.lstatSync(source);
        } catch {
          throw new LayerError(`layer hard link "${e.path}" points at "${e.linkname}", which the layer does not contain`);
        }
        if (st.isDirectory()) throw new LayerError(`layer hard link "${e.path}" points at a directory`);
        if (source === abs) return;
        this.clear(rel, abs, false);
        // link(2) does not follow a symlink source: at worst this links the symlink itself.
        fs.linkSync(source, abs);
        // The same inode by another name: its ownership must survive the first name's removal.
        const owned = this.deferred?.get(linkParts.join('/'));
        if (owned) {
          this.deferred!.set(rel, { ...owned, rel });
          this.deferredNames.set(rel, e.path);
        }
        return;
      }
      case 'char':
      case 'block':
        if (e.type === 'char' && e.devmajor === 0 && e.devminor === 0) {
          this.clear(rel, abs, false);
          mknodWhiteout(abs);
        } else {
          this.opts.onWarning?.(`skipping device node ${e.path} (devices cannot be created in a user namespace)`);
        }
        return;
      case 'fifo':
        this.clear(rel, abs, false);
        mkfifo(abs, 0o600);
        this.owner(rel, abs, e);
        this.xattrs(rel, abs, e);
        fs.chmodSync(abs, e.mode); // a fifo this just made: chmod does not open it
        try {
          fs.lutimesSync(abs, e.mtime, e.mtime);
        } catch {
          /* not everywhere */
        }
        return;
    }
  }

  abort(): void {
    this.writer.abort();
  }

  finish(): void {
    this.writer.drain();
    this.writer.close();
    if (this.aufsLinks) {
      this.forget(AUFS_LINK_DIR);
      fs.rmSync(this.abs(AUFS_LINK_DIR), { recursive: true, force: true });
    }
    if (this.opts.rootLater) {
      const meta = this.dirMeta.get('');
      if (meta) this.stats.root = { ...meta, own: this.deferred?.get('') };
      this.dirMeta.delete('');
      this.deferred?.delete('');
    }
    // Deepest first: a parent made read-only (or unsearchable) must not stop its children.
    const dirs = [...this.dirMeta].sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [rel, meta] of dirs) {
      const abs = this.abs(rel);
      // Still a real directory reached through real directories (removals dropped their records).
      if (rel) this.directory(rel.split('/'), rel, false);
      fs.chmodSync(abs, meta.mode);
      fs.lutimesSync(abs, meta.mtime, meta.mtime);
    }
    if (this.deferred?.size) this.applyDeferred();
  }

  private applyDeferred(): void {
    const records = [...this.deferred!.values()];
    const name = (i: number) => this.deferredNames.get(records[i]!.rel) ?? records[i]!.rel;
    let warnings: { index: number; errno: number }[];
    try {
      warnings = applyOwnership(this.root, records);
    } catch (err) {
      if (!(err instanceof NamespaceOpError)) throw err;
      const r = records[err.index]!;
      if (err.errno === 22 /* EINVAL */) {
        throw new LayerError(
          `layer entry "${name(err.index)}" is owned by ${r.uid}:${r.gid}, outside the ids mapped into the user namespace; ` +
            `give the user a larger /etc/subuid and /etc/subgid range`,
        );
      }
      throw new LayerError(`extracting layer entry "${name(err.index)}": ${err.message}`);
    }
    for (const w of warnings) this.warnOnce('x:security.capability', `could not set extended attribute security.capability on ${name(w.index)} (errno ${w.errno})`);
  }
}

/**
 * Applies what extractLayer left of the root with rootLater, where the directory now is: mtime and
 * mode while it is still ours, then the owner (the helper puts set-id bits back after its chown).
 */
export function finishRoot(dir: string, meta: RootMeta | undefined): void {
  if (!meta) return;
  fs.lutimesSync(dir, meta.mtime, meta.mtime);
  fs.chmodSync(dir, meta.mode);
  if (!meta.own) return;
  try {
    applyOwnership(dir, [{ ...meta.own, rel: '', mode: meta.own.mode ?? (meta.mode & 0o6000 ? meta.mode & 0o7777 : undefined) }]);
  } catch (err) {
    if (!(err instanceof NamespaceOpError)) throw err;
    throw new LayerError(`layer root "./" (owned by ${meta.own.uid}:${meta.own.gid}): ${err.message}`);
  }
}

/** The process umask, read without setting it (process.umask() with no argument is deprecated for that reason). */
function processUmask(): number {
  const m = /^Umask:\s*([0-7]+)/m.exec(fs.readFileSync('/proc/self/status', 'latin1'));
  return m ? parseInt(m[1]!, 8) : 0o022;
}

function depth(rel: string): number {
  if (!rel) return 0;
  let n = 1;
  for (let i = 0; i < rel.length; i++) if (rel.charCodeAt(i) === 0x2f) n++;
  return n;
}

function writeAll(fd: number, buf: Buffer, pos: number): void {
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off, pos + off);
}

/**
 * Writes buf at pos, skipping all-zero pieces between 4 KiB file boundaries: the file is truncated
 * to its size at the end, so what was skipped reads back as zeros, and whole zero blocks stay holes.
 * Non-zero runs go out in one write each. Returns the file offset after the last byte written
 * (0 when nothing was).
 */
function writeSparse(fd: number, buf: Buffer, pos: number): number {
  let runStart = -1;
  let lastEnd = 0;
  let i = 0;
  while (i < buf.length) {
    const end = Math.min(buf.length, i + BLOCK - ((pos + i) % BLOCK));
    const zero = ZERO.compare(buf, i, end, 0, end - i) === 0;
    if (zero) {
      if (runStart >= 0) {
        writeAll(fd, buf.subarray(runStart, i), pos + runStart);
        lastEnd = pos + i;
      }
      runStart = -1;
    } else if (runStart < 0) {
      runStart = i;
    }
    i = end;
  }
  if (runStart >= 0) {
    writeAll(fd, buf.subarray(runStart), pos + runStart);
    lastEnd = pos + buf.length;
  }
  return lastEnd;
}

/**
 * Extracts a layer (an uncompressed tar stream) into dest, an existing empty directory. Stops at
 * the archive's end marker without reading further. Any rule broken, or any failure, is a
 * LayerError: the caller is to delete dest.
 */
export async function extractLayer(stream: AsyncIterable<Buffer>, dest: string, opts: ExtractOptions, recorder?: TarRecorder): Promise<ExtractStats> {
  const x = new Extractor(dest, opts);
  try {
    for await (const e of readTar(stream, recorder)) {
      x.stats.entries++;
      try {
        await x.entry(e);
      } catch (err) {
        if (err instanceof LayerError) throw err;
        throw new LayerError(`extracting layer entry "${e.path}": ${errorMessage(err)}`);
      }
    }
    try {
      x.finish();
    } catch (err) {
      if (err instanceof LayerError) throw err;
      throw new LayerError(`extracting layer: ${errorMessage(err)}`);
    }
  } catch (err) {
    // The caller deletes dest next: nothing may still be writing into it.
    x.abort();
    throw err;
  }
  return x.stats;
}
