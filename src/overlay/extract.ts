/**
 * Extracting one image layer into an empty directory. Layers are untrusted: no entry may create or
 * change anything outside the directory — not by `..` or absolute paths, not through a symlink the
 * layer made earlier, not by hard-linking something outside. Whiteouts become what overlayfs reads
 * (0/0 character devices; opaque directories as xattrs for kernel overlay and fuse-overlayfs).
 */
import fs from 'node:fs';
import path from 'node:path';
import { LayerError } from '../errors.js';
import { lsetxattr, mkfifo, mknodWhiteout, SyscallError } from '../rootless/syscalls.js';
import { readTar, type TarEntry } from './tar-reader.js';

export interface ExtractOptions {
  /** False when not in a user namespace: files keep the caller's ownership. */
  chown: boolean;
  onWarning?: (msg: string) => void;
}

export interface ExtractStats {
  entries: number;
  bytes: number;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
const OPAQUE_XATTRS = ['user.overlay.opaque', 'user.fuseoverlayfs.opaque'];
const BLOCK = 4096;
const ZERO = Buffer.alloc(BLOCK);

/** The entry's path as components under the layer root; anything that climbs out is refused. */
export function safeComponents(name: string, what = 'entry'): string[] {
  // A leading '/' is taken as relative to the layer root (where it stays); '..' that climbs out is refused.
  const rel = path.posix.normalize(name.replace(/^\/+/, '') || '.');
  if (rel === '..' || rel.startsWith('../')) throw new LayerError(`layer ${what} "${name}" escapes the layer root`);
  return rel.split('/').filter((p) => p && p !== '.');
}

class Extractor {
  stats: ExtractStats = { entries: 0, bytes: 0 };
  private dirTimes: [string, number][] = [];
  private warned = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly opts: ExtractOptions,
  ) {}

  warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.opts.onWarning?.(msg);
  }

  /**
   * Walks to the parent directory of `parts`, creating missing directories and refusing any
   * component that is not a real directory: nothing is ever written through a symlink.
   */
  parentOf(parts: string[], entryName: string): string {
    let dir = this.root;
    for (const p of parts.slice(0, -1)) {
      dir = path.join(dir, p);
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(dir);
      } catch {
        fs.mkdirSync(dir, { mode: 0o755 });
        continue;
      }
      if (st.isSymbolicLink()) throw new LayerError(`layer entry "${entryName}" goes through the symlink "${path.relative(this.root, dir)}"`);
      if (!st.isDirectory()) throw new LayerError(`layer entry "${entryName}" goes through "${path.relative(this.root, dir)}", which is not a directory`);
    }
    return dir;
  }

  /** Clears the way for a new entry at target (never following a link there). */
  clear(target: string, keepDir: boolean): fs.Stats | undefined {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(target);
    } catch {
      return undefined;
    }
    if (st.isDirectory()) {
      if (keepDir) return st;
      fs.rmSync(target, { recursive: true, force: true });
    } else {
      fs.unlinkSync(target);
    }
    return undefined;
  }

  owner(target: string, e: TarEntry, fd?: number): void {
    if (!this.opts.chown) return;
    try {
      if (fd !== undefined) fs.fchownSync(fd, e.uid, e.gid);
      else fs.lchownSync(target, e.uid, e.gid);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EINVAL') {
        throw new LayerError(
          `"${e.path}" is owned by ${e.uid}:${e.gid}, outside the ids mapped into the user namespace; give the user a larger /etc/subuid and /etc/subgid range`,
        );
      }
      throw err;
    }
  }

  xattrs(target: string, e: TarEntry): void {
    for (const [name, value] of Object.entries(e.xattrs)) {
      if (/^(user\.overlay\.|trusted\.overlay\.|user\.fuseoverlayfs\.)/.test(name)) {
        // Overlay metadata from a layer could forge whiteouts or redirects: never trusted.
        this.warnOnce('overlay', `ignoring overlay attributes in the layer (${name} on ${e.path})`);
        continue;
      }
      if (name.startsWith('trusted.') || (name.startsWith('security.') && name !== 'security.capability')) {
        this.warnOnce(name.split('.')[0]!, `ignoring ${name.split('.')[0]}.* extended attributes (not settable in a user namespace)`);
        continue;
      }
      try {
        lsetxattr(target, name, value);
      } catch (err) {
        this.warnOnce(`x:${name}`, `could not set ${name} on ${e.path} (errno ${(err as SyscallError).errno})`);
      }
    }
  }

  async file(target: string, e: TarEntry): Promise<void> {
    const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    try {
      const segments = e.sparse?.map ?? [{ offset: 0, size: e.size }];
      const total = e.sparse?.realSize ?? e.size;
      let seg = 0;
      let segLeft = segments[0]?.size ?? 0;
      let pos = segments[0]?.offset ?? 0;
      const holes = total >= 2 * BLOCK;
      for await (const chunk of e.body) {
        let off = 0;
        while (off < chunk.length) {
          while (segLeft === 0 && seg < segments.length - 1) {
            seg++;
            segLeft = segments[seg]!.size;
            pos = segments[seg]!.offset;
          }
          const n = Math.min(segLeft, chunk.length - off);
          this.write(fd, chunk.subarray(off, off + n), pos, holes);
          pos += n;
          off += n;
          segLeft -= n;
          this.stats.bytes += n;
        }
      }
      fs.ftruncateSync(fd, total);
      this.owner(target, e, fd);
      // After chown, which clears setuid/setgid.
      fs.fchmodSync(fd, e.mode);
      fs.futimesSync(fd, e.mtime, e.mtime);
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Leaves runs of zeros unwritten so that they become holes: regions never written read back as
   * zeros after the final ftruncate, and a block nothing was written to takes no space.
   */
  private write(fd: number, buf: Buffer, pos: number, holes: boolean): void {
    if (!holes) {
      fs.writeSync(fd, buf, 0, buf.length, pos);
      return;
    }
    let i = 0;
    while (i < buf.length) {
      const end = Math.min(buf.length, i + (BLOCK - ((pos + i) % BLOCK)));
      const piece = buf.subarray(i, end);
      if (!piece.equals(ZERO.subarray(0, piece.length))) fs.writeSync(fd, piece, 0, piece.length, pos + i);
      i = end;
    }
  }

  async entry(e: TarEntry): Promise<void> {
    const parts = safeComponents(e.path);
    if (parts.length === 0) {
      // The root itself ("./"): only its metadata.
      if (e.type === 'dir') this.dirTimes.push([this.root, e.mtime]);
      return;
    }
    const name = parts.at(-1)!;
    // aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): meaningless for overlay.
    if (parts.some((p) => p.startsWith('.wh..wh.') && p !== OPAQUE)) return;
    if (name === OPAQUE) {
      const dir = this.parentOf(parts, e.path);
      for (const x of OPAQUE_XATTRS) lsetxattr(dir, x, Buffer.from('y'));
      return;
    }
    if (name.startsWith(WHITEOUT)) {
      const target = path.join(this.parentOf(parts, e.path), name.slice(WHITEOUT.length));
      this.clear(target, false);
      mknodWhiteout(target);
      return;
    }
    const target = path.join(this.parentOf(parts, e.path), name);
    switch (e.type) {
      case 'dir': {
        if (!this.clear(target, true)) fs.mkdirSync(target, { mode: 0o700 });
        this.owner(target, e);
        fs.chmodSync(target, e.mode);
        this.dirTimes.push([target, e.mtime]);
        break;
      }
      case 'file':
        this.clear(target, false);
        await this.file(target, e);
        break;
      case 'symlink':
        this.clear(target, false);
        fs.symlinkSync(e.linkname, target);
        this.owner(target, e);
        try {
          fs.lutimesSync(target, e.mtime, e.mtime);
        } catch {
          /* not everywhere */
        }
        break;
      case 'hardlink': {
        const linkParts = safeComponents(e.linkname, 'hard link target');
        if (linkParts.length === 0) throw new LayerError(`layer hard link "${e.path}" points at the layer root`);
        const source = path.join(this.parentOf(linkParts, e.path), linkParts.at(-1)!);
        let st: fs.Stats;
        try {
          st = fs.lstatSync(source);
        } catch {
          throw new LayerError(`layer hard link "${e.path}" points at "${e.linkname}", which the layer does not contain`);
        }
        if (st.isDirectory()) throw new LayerError(`layer hard link "${e.path}" points at a directory`);
        if (source === target) break;
        this.clear(target, false);
        fs.linkSync(source, target);
        break;
      }
      case 'char':
      case 'block':
        if (e.type === 'char' && e.devmajor === 0 && e.devminor === 0) {
          this.clear(target, false);
          mknodWhiteout(target);
        } else {
          this.opts.onWarning?.(`skipping device node ${e.path} (devices cannot be created in a user namespace)`);
        }
        return;
      case 'fifo':
        this.clear(target, false);
        mkfifo(target, e.mode);
        this.owner(target, e);
        break;
    }
    if (e.type !== 'hardlink') this.xattrs(target, e);
  }

  finish(): void {
    // Children changed their parents' mtimes: set directories last, deepest first.
    for (const [dir, mtime] of this.dirTimes.reverse()) fs.utimesSync(dir, mtime, mtime);
  }
}

export async function extractLayer(stream: AsyncIterable<Buffer>, dest: string, opts: ExtractOptions): Promise<ExtractStats> {
  const x = new Extractor(dest, opts);
  for await (const e of readTar(stream)) {
    x.stats.entries++;
    try {
      await x.entry(e);
    } catch (err) {
      if (err instanceof LayerError) throw err;
      throw new LayerError(`extracting "${e.path}": ${(err as Error).message}`);
    }
  }
  x.finish();
  return x.stats;
}
