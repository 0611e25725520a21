/**
 * `cp` both ways. The container's files are only whole inside its mount namespace (overlay), so
 * the copy runs `tar` in there through the shim's exec, and the host's tar on this side; the image
 * must contain a tar (busybox and debian do). Files copied out belong to the user.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ConflictError, TsctrError } from '../errors.js';
import { findTool, removeTreesAsNamespaceRoot } from '../rootless/userns.js';
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

export async function copy(src: string, dst: string): Promise<void> {
  const { container, ctrPath, hostPath, out } = parseCopyArgs(src, dst);
  const c = getContainer(loadContainers(), container);
  if (liveState(c).status !== 'running') throw new ConflictError(`container ${container} is not running (cp works on running containers)`);
  const base = path.posix.basename(ctrPath) || '.';
  if (out) {
    const target = path.resolve(hostPath);
    const intoDir = fs.existsSync(target) && fs.statSync(target).isDirectory();
    const stage = tmpName(intoDir ? target : path.dirname(target), '.tsctr-cp');
    fs.mkdirSync(stage, { mode: 0o700 });
    try {
      await pipeTar(['-xf', '-', '-C', stage, '--no-same-owner', '--no-same-permissions'], ['tar', '-cf', '-', '-C', path.posix.dirname(ctrPath), base], container, true);
      fs.renameSync(path.join(stage, base), intoDir ? path.join(target, base) : target);
    } finally {
      removeTreesAsNamespaceRoot([stage]);
    }
    return;
  }
  const source = path.resolve(hostPath);
  if (!fs.existsSync(source)) throw new TsctrError(`no such file or directory: ${hostPath}`);
  // Into an existing directory keeps the name; otherwise the copy takes the destination's name.
  const probe = await execInContainer(container, { command: ['test', '-d', ctrPath], interactive: false, tty: false, detach: false, env: [], envFile: [], stdio: ['ignore', 'ignore', 'ignore'] });
  const intoDir = probe === 0 || ctrPath.endsWith('/');
  const destDir = intoDir ? ctrPath : path.posix.dirname(ctrPath);
  const rename = intoDir ? [] : [`--transform=s,^${escapeSed(path.basename(source))},${escapeSed(base)},`];
  await pipeTar(['-cf', '-', '-C', path.dirname(source), ...rename, path.basename(source)], ['tar', '-xf', '-', '-C', destDir], container, false);
}

function escapeSed(s: string): string {
  return s.replace(/[\\,.*[\]^$]/g, '\\$&');
}
