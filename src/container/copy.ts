/**
 * `cp` both ways. A running container's files are only whole inside its mount namespace
 * (overlay), so the copy runs `tar` in there through the shim's exec, and the host's tar on this
 * side; the image must contain a tar (busybox and debian do). A created or stopped container's
 * files are read from its layers and writable layer, merged as the overlay would (LayerStack,
 * paths resolved inside it: no symlink leads to the host), and copied in by writing to its
 * writable layer; what only root of the user namespace may do (read files of subordinate ids, give
 * a new directory the image's owner) goes through the shim's helper (rootless/userns-ops.ts).
 * Files copied out belong to the user; copied in, to the container's root.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { NotFoundError, TsctrError } from '../errors.js';
import { containerPaths } from '../paths.js';
import { getImage, loadImages } from '../image/store.js';
import { LayerStack, namespaceOwner, treeEntries } from '../overlay/dir-tar.js';
import { END_OF_ARCHIVE } from '../overlay/tar-writer.js';
import { resolveInTree } from '../overlay/tree-path.js';
import { canOwnImageFiles, findTool, removeTreesAsNamespaceRoot } from '../rootless/userns.js';
import { applyOwnership, type OwnRecord } from '../rootless/userns-ops.js';
import { layersTopFirst } from './layers.js';
import type { ContainerRecord } from './types.js';
import { tmpName } from '../util/fsutil.js';
import { execInContainer } from './exec.js';
import { liveState } from './state.js';
import { getContainer, loadContainers } from './store.js';

export function parseCopyArgs(src: string, dst: string): { container: string; ctrPath: string; hostPath: string; out: boolean } {
  const split = (s: string) => {
    const i = s.indexOf(':');
    return i > 0 && !s.startsWith('/') && !s.startsWith('.') ? [s.slice(0, i), s.slice(i + 1)] : undefined;
  };
  const a = split(src);
  const b = split(dst);
  if (a && b) throw new TsctrError('copying between containers is not supported');
  if (!a && !b) throw new TsctrError('must specify at least one container source');
  const [container, ctrPath] = (a ?? b)!;
  if (!ctrPath!.startsWith('/')) throw new TsctrError(`container path must be absolute: ${ctrPath}`);
  return { container: container!, ctrPath: ctrPath!, hostPath: a ? dst : src, out: Boolean(a) };
}

function hostTar(): string {
  const t = findTool('tar');
  if (!t) throw new TsctrError('tar not found on the host: install the tar package');
  return t;
}

/** Runs the host tar with the shim's exec on the other end of a pipe. */
async function pipeTar(hostArgs: string[], containerArgs: string[], container: string, hostReads: boolean): Promise<void> {
  const tar = spawn(hostTar(), hostArgs, { stdio: [hostReads ? 'pipe' : 'ignore', hostReads ? 'ignore' : 'pipe', 'pipe'] });
  let tarErr = '';
  tar.stderr!.on('data', (d) => (tarErr += d));
  const tarDone = new Promise<number>((r) => tar.on('exit', (c) => r(c ?? 1)));
  const code = await execInContainer(container, {
    command: containerArgs,
    interactive: !hostReads,
    tty: false,
    detach: false,
    env: [],
    envFile: [],
    stdio: hostReads ? ['ignore', tar.stdin!, 'pipe'] : [tar.stdout!, 'ignore', 'pipe'],
  });
  const tcode = await tarDone;
  if (code === 127) throw new TsctrError('copying needs tar inside the container, and it has none');
  if (code !== 0) throw new TsctrError(`copying failed inside the container (tar exit ${code})`);
  if (tcode !== 0) throw new TsctrError(`copying failed on the host: ${tarErr.trim() || `tar exit ${tcode}`}`);
}

/** Extracts a tar (written by `produce` into the host tar's stdin, or by tar in the container) to the host path, as docker's cp names it. */
async function extractOut(hostPath: string, base: string, fill: (hostTarArgs: string[]) => Promise<void>): Promise<void> {
  const target = path.resolve(hostPath);
  const intoDir = fs.existsSync(target) && fs.statSync(target).isDirectory();
  const stage = tmpName(intoDir ? target : path.dirname(target), '.tsctr-cp');
  fs.mkdirSync(stage, { mode: 0o700 });
  try {
    await fill(['-xf', '-', '-C', stage, '--no-same-owner', '--no-same-permissions']);
    fs.renameSync(path.join(stage, base), intoDir ? path.join(target, base) : target);
  } finally {
    removeTreesAsNamespaceRoot([stage]);
  }
}

export async function copy(src: string, dst: string): Promise<void> {
  const { container, ctrPath, hostPath, out } = parseCopyArgs(src, dst);
  const c = getContainer(loadContainers(), container);
  if (liveState(c).status !== 'running') return copyStopped(c, ctrPath, hostPath, out);
  const base = path.posix.basename(ctrPath) || '.';
  if (out) {
    await extractOut(hostPath, base, (args) => pipeTar(args, ['tar', '-cf', '-', '-C', path.posix.dirname(ctrPath), base], container, true));
    return;
  }
  const source = path.resolve(hostPath);
  if (!fs.existsSync(source)) throw new TsctrError(`no such file or directory: ${hostPath}`);
  // Into an existing directory keeps the name; otherwise the copy takes the destination's name.
  const probe = await execInContainer(container, { command: ['test', '-d', ctrPath], interactive: false, tty: false, detach: false, env: [], envFile: [], stdio: ['ignore', 'ignore', 'ignore'] });
  const intoDir = probe === 0 || ctrPath.endsWith('/');
  const destDir = intoDir ? ctrPath : path.posix.dirname(ctrPath);
  const rename = intoDir ? [] : [`--transform=s,^${escapeSed(path.basename(source))},${escapeReplacement(base)},`];
  await pipeTar(['-cf', '-', '-C', path.dirname(source), ...rename, path.basename(source)], ['tar', '-xf', '-', '-C', destDir], container, false);
}

function escapeSed(s: string): string {
  return s.replace(/[\\,.*[\]^$]/g, '\\$&');
}

/** In sed's replacement only these mean something (a `\.` there stays a backslash and a dot in GNU tar). */
function escapeReplacement(s: string): string {
  return s.replace(/[\\,&]/g, '\\$&');
}

/** The container's layers, its writable layer first. */
function layersOf(c: ContainerRecord): { upper: string; lower: string[] } {
  return { upper: containerPaths.upper(c.id), lower: layersTopFirst(getImage(loadImages(), c.imageId)) };
}

async function copyStopped(c: ContainerRecord, ctrPath: string, hostPath: string, out: boolean): Promise<void> {
  const { upper, lower } = layersOf(c);
  const merged = new LayerStack([upper, ...lower]);
  try {
    if (out) {
      const { rel, node } = resolveInTree(merged, ctrPath, false);
      if (!node) throw new NotFoundError(`Could not find the file ${ctrPath} in container ${c.name}`);
      const base = path.posix.basename(ctrPath.replace(/\/+$/, '')) || path.posix.basename(rel) || '.';
      const at = rel.length;
      async function* tar(): AsyncGenerator<Buffer> {
        yield* treeEntries(merged, rel, { rename: (r) => base + r.slice(at) });
        yield END_OF_ARCHIVE;
      }
      await extractOut(hostPath, base, (args) => hostTarFrom(args, tar()));
      return;
    }
    const source = path.resolve(hostPath);
    if (!fs.existsSync(source)) throw new TsctrError(`no such file or directory: ${hostPath}`);
    const { rel, node } = resolveInTree(merged, ctrPath);
    const intoDir = node?.st.isDirectory() || ctrPath.endsWith('/');
    if (intoDir && !node) throw new NotFoundError(`Could not find the file ${ctrPath} in container ${c.name}`);
    const destRel = intoDir ? rel : path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel);
    const destNode = intoDir ? node : merged.get(destRel);
    if (!destNode?.st.isDirectory()) throw new NotFoundError(`Could not find the file ${path.posix.dirname(ctrPath)} in container ${c.name}`);
    const name = intoDir ? path.basename(source) : path.posix.basename(rel);
    const rename = name === path.basename(source) ? [] : [`--transform=s,^${escapeSed(path.basename(source))},${escapeReplacement(name)},`];
    await inWritableDir(merged, upper, destRel, (dir) =>
      hostTarPipe(['-cf', '-', '-C', path.dirname(source), ...rename, path.basename(source)], ['-xf', '-', '-C', dir, '--no-same-owner']),
    );
  } finally {
    merged.close();
  }
}

/**
 * Runs fill with the directory destRel (a real directory of the merged view: resolveInTree
 * followed its links) present in the writable layer and reachable and writable by the user, who
 * runs the host tar. Each missing level is made as the overlay's copy-up would, and gets the
 * owner and mode the image gives it; a level that exists but is not ours to pass or write (an
 * image's /home/app of uid 1000, a 555 directory) is lent to the user, the namespace's root, and
 * given back. Owners of subordinate ids are given by the shim's helper, after the copy, in one
 * batch. A symlink met on the way is refused: nothing must be written through one (the container
 * is not running, so nothing changes it meanwhile; its directory is 0700 and the user's, so nobody
 * else reaches what is lent).
 */
async function inWritableDir(merged: LayerStack, upper: string, destRel: string, fill: (dir: string) => Promise<void>): Promise<void> {
  const root = canOwnImageFiles();
  const uid = process.getuid?.();
  /** What each level made or lent must end as, in namespace ids. */
  const restore: OwnRecord[] = [];
  let dir = upper;
  let rel = '';
  const levels = destRel ? destRel.split('/') : [];
  try {
    const top = fs.lstatSync(upper); // the user's, with the image root's mode (555 with some)
    if (!levels.length && !root && (top.mode & 0o300) !== 0o300) {
      restore.push({ rel: '', uid: 0, gid: 0, mode: top.mode & 0o7777 });
      fs.chmodSync(upper, (top.mode & 0o7777) | 0o700);
    }
    for (let i = 0; i < levels.length; i++) {
      rel = rel ? `${rel}/${levels[i]}` : levels[i]!;
      dir = `${dir}/${levels[i]}`;
      const need = i === levels.length - 1 ? 0o300 : 0o100; // search, and write in the last
      const st = fs.lstatSync(dir, { throwIfNoEntry: false });
      if (st && !st.isDirectory()) throw new TsctrError(`cannot copy into /${rel}: it is not a directory in the container's writable layer`);
      if (st) {
        if (root || (st.uid === uid && (st.mode & need) === need)) continue;
        const { uid: u, gid: g } = namespaceOwner({ abs: dir, st });
        restore.push({ rel, uid: u, gid: g, mode: st.mode & 0o7777 });
        if (st.uid !== uid) applyOwnership(upper, [{ rel, uid: 0, gid: 0 }]);
        fs.chmodSync(dir, (st.mode & 0o7777) | 0o700);
        continue;
      }
      const like = merged.get(rel)!;
      // lstat of a layer says host ids (the user is the namespace's 0); the owner to give is the namespace's.
      const { uid: u, gid: g } = namespaceOwner(like);
      fs.mkdirSync(dir, { mode: 0o700 });
      restore.push({ rel, uid: u, gid: g, mode: like.st.mode & 0o7777 });
    }
    await fill(dir);
  } finally {
    giveBack(upper, restore.reverse());
  }
}

/** Owners and modes back (deepest first: a parent made unsearchable must not stop its children). */
function giveBack(upper: string, records: OwnRecord[]): void {
  if (canOwnImageFiles()) {
    for (const r of records) {
      fs.lchownSync(`${upper}/${r.rel}`, r.uid, r.gid);
      fs.chmodSync(`${upper}/${r.rel}`, r.mode!);
    }
  } else if (records.every((r) => r.uid === 0 && r.gid === 0)) {
    for (const r of records) fs.chmodSync(`${upper}/${r.rel}`, r.mode!);
  } else {
    // Subordinate ids: only root of the user namespace may give them (the shim's helper).
    applyOwnership(upper, records);
  }
}

/** The host's tar reading a stream we write. */
async function hostTarFrom(args: string[], src: AsyncIterable<Buffer>): Promise<void> {
  const tar = spawn(hostTar(), args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  tar.stderr!.on('data', (d) => (err += d));
  const done = new Promise<number>((r) => tar.on('exit', (c) => r(c ?? 1)));
  try {
    for await (const chunk of src) if (!tar.stdin!.write(chunk)) await new Promise((r) => tar.stdin!.once('drain', r));
  } finally {
    tar.stdin!.end();
  }
  const code = await done;
  if (code !== 0) throw new TsctrError(`copying failed on the host: ${firstLine(err) || `tar exit ${code}`}`);
}

/** Two host tars, the first's output into the second. */
async function hostTarPipe(create: string[], extract: string[]): Promise<void> {
  const a = spawn(hostTar(), create, { stdio: ['ignore', 'pipe', 'pipe'] });
  const b = spawn(hostTar(), extract, { stdio: [a.stdout!, 'ignore', 'pipe'] });
  // b has the pipe now; our end, never read, would keep a's 'close' from ever coming (and with
  // nothing else pending, the process would end with the copy's outcome unreported, exit 0).
  a.stdout!.destroy();
  let err = '';
  a.stderr!.on('data', (d) => (err += d));
  b.stderr!.on('data', (d) => (err += d));
  const [ca, cb] = await Promise.all([a, b].map((p) => new Promise<number>((r) => p.on('close', (c) => r(c ?? 1)))));
  if (ca !== 0 || cb !== 0) throw new TsctrError(`copying failed: ${firstLine(err) || `tar exit ${ca || cb}`}`);
}

/** Errors are one line: tar's first says what went wrong (the last only that it failed). */
function firstLine(s: string): string {
  return s.trim().split('\n')[0]!;
}
