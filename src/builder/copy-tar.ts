/**
 * The layer a COPY or ADD makes, as a tar: the sources (from the build context, or from another
 * stage's or image's layers) placed at the destination with docker's rules — a directory source
 * copies its contents, a file source lands in a destination directory or becomes the destination
 * file, ADD unpacks local tar archives. Directories on the way to the destination carry the
 * metadata they already have in the stage (what a copy-up would keep), or are made root-owned 0755
 * (owned by --chown's ids, as docker does). Runs as root in the user namespace.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { TsctrError } from '../errors.js';
import { DirTree, LayerStack, treeEntries, type Tree } from '../overlay/dir-tar.js';
import { entryHeader, padding, END_OF_ARCHIVE, type WriteEntry } from '../overlay/tar-writer.js';
import { readTar } from '../overlay/tar-reader.js';
import { safeComponents } from '../overlay/extract.js';
import { IgnoreMatcher } from './dockerignore.js';
import { expandSource, type SourceTree } from './context.js';

export interface CopySpec {
  tree: SourceTree;
  /** Source patterns, resolved in the tree as context.ts does. */
  patterns: string[];
  /** Absolute path in the container; a trailing '/' names a directory. */
  dest: string;
  owner?: { uid: number; gid: number };
  /** --chmod: the permission bits of everything copied. */
  mode?: number;
  /** The stage's layer directories, topmost first (empty for scratch). */
  stageLayers: string[];
  /** .dockerignore text, applied to context sources. */
  ignore?: string;
  /** ADD: local tar archives are unpacked. */
  unpack?: boolean;
  /** Time for directories this creates (seconds). */
  mtime: number;
}

const join = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);

function openTree(t: SourceTree): Tree {
  return t.kind === 'dir' ? new DirTree(t.root) : new LayerStack(t.dirs);
}

async function isArchive(file: string): Promise<boolean> {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(512);
    const n = fs.readSync(fd, b, 0, 512, 0);
    if (n >= 2 && b[0] === 0x1f && b[1] === 0x8b) return true;
    if (n >= 4 && b.readUInt32BE(0) === 0x28b52ffd) return true;
    return n === 512 && b.toString('latin1', 257, 262) === 'ustar';
  } finally {
    fs.closeSync(fd);
  }
}

/** A local archive's entries, re-rooted at dir (every path checked: an archive is untrusted). */
async function* unpackedEntries(file: string, dir: string, owner?: CopySpec['owner']): AsyncGenerator<Buffer> {
  let stream: Readable = fs.createReadStream(file);
  const head = Buffer.alloc(4);
  const fd = fs.openSync(file, 'r');
  fs.readSync(fd, head, 0, 4, 0);
  fs.closeSync(fd);
  if (head[0] === 0x1f && head[1] === 0x8b) stream = stream.pipe(zlib.createGunzip());
  else if (head.readUInt32BE(0) === 0x28b52ffd) stream = stream.pipe(zlib.createZstdDecompress());
  for await (const e of readTar(stream)) {
    const parts = safeComponents(e.path, 'archive entry');
    if (parts.length === 0) continue;
    const out: WriteEntry = {
      path: join(dir, parts.join('/')) + (e.type === 'dir' ? '/' : ''),
      type: e.type,
      mode: e.mode,
      uid: owner?.uid ?? e.uid,
      gid: owner?.gid ?? e.gid,
      mtime: Math.floor(e.mtime),
      size: e.sparse ? e.sparse.realSize : e.size,
      linkname: e.type === 'hardlink' ? join(dir, safeComponents(e.linkname, 'hard link target').join('/')) : e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      xattrs: e.xattrs,
    };
    yield entryHeader(out);
    if (e.type !== 'file') continue;
    if (e.sparse) throw new TsctrError(`ADD: sparse files in archives are not supported (${e.path})`);
    for await (const chunk of e.body) yield chunk;
    yield padding(e.size);
  }
}

export async function* copyTar(spec: CopySpec): AsyncGenerator<Buffer> {
  const stage = spec.stageLayers.length ? new LayerStack(spec.stageLayers) : undefined;
  const destRel = safeComponents(spec.dest, 'destination').join('/');
  const tree = openTree(spec.tree);
  const kind = spec.tree.kind;
  const ignore = spec.ignore ? new IgnoreMatcher(spec.ignore) : undefined;
  const rels = spec.patterns.flatMap((p) => expandSource(tree, p, ignore));
  const firstNode = tree.get(rels[0]!);
  const destIsDir =
    spec.dest.endsWith('/') || rels.length > 1 || !!firstNode?.st.isDirectory() || !!stage?.get(destRel)?.st.isDirectory() || destRel === '';
  const targetDir = destIsDir ? destRel : path.posix.dirname(destRel) === '.' ? '' : path.posix.dirname(destRel);

  // The directories down to the target, each as it is in the stage or as a new one.
  let prefix = '';
  for (const part of targetDir ? targetDir.split('/') : []) {
    prefix = join(prefix, part);
    const have = stage?.get(prefix);
    if (have && !have.st.isDirectory()) throw new TsctrError(`cannot copy to /${destRel}: /${prefix} is not a directory`);
    const meta = have
      ? { mode: have.st.mode & 0o7777, uid: have.st.uid, gid: have.st.gid, mtime: Math.floor(have.st.mtimeMs / 1000) }
      : { mode: 0o755, uid: spec.owner?.uid ?? 0, gid: spec.owner?.gid ?? 0, mtime: spec.mtime };
    yield entryHeader({ path: `${prefix}/`, type: 'dir', ...meta });
  }

  const links = new Map<string, string>();
  for (const rel of rels) {
    const node = tree.get(rel);
    if (!node) throw new TsctrError(`COPY source ${rel || '.'} not found`);
    const exclude = kind === 'dir' && ignore && !ignore.empty ? (r: string, n: { st: fs.Stats }) => r !== '' && ignore.prune(r, n.st.isDirectory()) : undefined;
    if (node.st.isDirectory()) {
      const from = rel;
      const rename = (r: string) => (r === from ? '' : join(targetDir, from ? r.slice(from.length + 1) : r));
      yield* treeEntries(tree, from, { rename, exclude, owner: spec.owner, mode: spec.mode }, links);
      continue;
    }
    if (spec.unpack && kind === 'dir' && node.st.isFile() && (await isArchive(node.abs))) {
      yield* unpackedEntries(node.abs, targetDir, spec.owner);
      continue;
    }
    const target = destIsDir ? join(targetDir, path.posix.basename(rel)) : destRel;
    yield* treeEntries(tree, rel, { rename: () => target, owner: spec.owner, mode: spec.mode }, links);
  }
  yield END_OF_ARCHIVE;
}
