/** exec: a new process joining a running container's namespaces, through tsctr-shim exec. */
import { appendEvents, makeEvent } from '../store/events.js';
import { containerAttributes } from './events.js';
import { spawn } from 'node:child_process';
import { randomHex } from '../util/random.js';
import fs from 'node:fs';
import path from 'node:path';
import { ConflictError, TsctrError } from '../errors.js';
import { containerPaths } from '../paths.js';
import { getImage, loadImages } from '../image/store.js';
import { shimPath } from '../runtime/shim-path.js';
import { atomicWriteFile } from '../util/fsutil.js';
import { layersTopFirst } from './layers.js';
import { mergeEnv, parseEnv } from './options.js';
import { encodeSpec, processLimits, processSecurity, type Spec } from './spec.js';
import { liveState } from './state.js';
import { getContainer, loadContainers } from './store.js';
import { resolveUser } from './user.js';
import { addedGroups } from './run-spec.js';
import { containerCgroup } from '../rootless/cgroups.js';
import type { ContainerRecord } from './types.js';
import type { ImageRecord } from '../image/types.js';

export interface ExecOptions {
  command: string[];
  interactive: boolean;
  tty: boolean;
  detach: boolean;
  env: string[];
  envFile: string[];
  user?: string;
  workdir?: string;
  /** Instead of ours (for cp): what the process's stdin/stdout/stderr are connected to. */
  stdio?: ['ignore' | 'pipe' | NodeJS.ReadableStream, 'ignore' | 'pipe' | NodeJS.WritableStream, 'ignore' | 'pipe'];
  /** With `stdio` pipes: handed the exec helper once spawned (the API server plugs its connection in). */
  spawned?: (child: import('node:child_process').ChildProcess) => void;
  /** With a tty that follows no terminal of ours (`stdio` pipes): its size at the start. */
  winsize?: { rows: number; cols: number };
  /** With a tty and `stdio` pipes: handed the function that resizes it while it runs (the API's exec resize). */
  resizer?: (resize: (rows: number, cols: number) => void) => void;
}

/**
 * A process joining the container as exec starts it: its user, environment, security and limits,
 * and the container's cgroup (also the monitor's health probe, health.ts).
 */
export function processSpec(c: ContainerRecord, image: ImageRecord, o: Pick<ExecOptions, 'command' | 'tty' | 'env' | 'envFile' | 'user' | 'workdir'>): Spec {
  const user = resolveUser(o.user ?? c.config.user, [containerPaths.upper(c.id), ...layersTopFirst(image)]);
  const env = mergeEnv([...c.config.env, `HOSTNAME=${c.config.hostname}`, `HOME=${user.home}`, ...(o.tty ? ['TERM=xterm'] : [])], parseEnv(o.env, o.envFile));
  const spec: Spec = [
    ['cwd', o.workdir ?? c.config.workingDir],
    ['uid', String(user.uid)],
    ['gid', String(user.gid)],
    // docker's exec keeps the container's --group-add groups.
    ['groups', [...new Set([...user.groups, ...addedGroups(c.hostConfig.groupAdd, [containerPaths.upper(c.id), ...layersTopFirst(image)])])].join(',')],
    ...env.map((e): [string, string] => ['env', e]),
    ...o.command.map((a): [string, string] => ['arg', a]),
    ...processSecurity(c.hostConfig),
    ...processLimits(c.hostConfig),
  ];
  const cgroup = containerCgroup(c.id, c.hostConfig);
  if (cgroup) spec.push(['cgroup', cgroup]);
  return spec;
}

export async function execInContainer(query: string, o: ExecOptions): Promise<number> {
  if (o.command.length === 0) throw new TsctrError('exec requires at least 1 argument: a command');
  const c = getContainer(loadContainers(), query);
  const st = liveState(c);
  if (st.status !== 'running') throw new ConflictError(`container ${c.id.slice(0, 12)} is not running`);
  // docker's rule; cp (its own stdio) still reads and writes a paused container's files
  if (st.paused && !o.stdio) throw new ConflictError(`Container ${c.id} is paused, unpause the container before exec`);
  const spec: Spec = [
    ['pid', String(st.pid)],
    ...processSpec(c, getImage(loadImages(), c.imageId), o),
    ['tty', o.tty ? '1' : '0'],
    ['stdin', o.interactive ? '1' : '0'],
    ['attach', o.detach ? '0' : '1'],
    ['detach', o.detach ? '1' : '0'],
    ...(o.tty && o.winsize ? [['winsize', `${o.winsize.rows} ${o.winsize.cols}`] as [string, string]] : []),
  ];
  // fd 4 of the helper: attach.c's RESIZE frames, for a tty whose size no terminal of ours gives
  const resizable = o.tty && !o.detach && !!o.stdio && !!o.resizer;
  if (resizable) spec.push(['resize-pipe', '1']);
  const file = path.join(containerPaths.run(c.id), `exec-${randomHex(6)}`);
  atomicWriteFile(file, encodeSpec(spec));
  if (!o.stdio) {
    // docker names the command in the action; cp's own helper processes are not the user's execs.
    const execID = randomHex(32);
    const cmd = o.command.join(' ');
    appendEvents([
      makeEvent('container', `exec_create: ${cmd}`, c.id, containerAttributes(c, { execID })),
      makeEvent('container', `exec_start: ${cmd}`, c.id, containerAttributes(c, { execID })),
    ]);
  }
  try {
    const child = spawn(shimPath(), ['exec', file], {
      detached: o.detach,
      stdio: o.detach ? ['ignore', 'ignore', 'ignore', 'pipe'] : [...(o.stdio ?? ['inherit', 'inherit', 'inherit']), 'pipe', ...(resizable ? ['pipe'] : [])] as never,
    });
    o.spawned?.(child);
    if (resizable) {
      const pipe = child.stdio[4] as NodeJS.WritableStream & { destroyed: boolean; on(e: 'error', f: () => void): void };
      pipe.on('error', () => undefined); // the helper is gone: nothing left to resize
      const { resizeFrame } = await import('./attach-stdin.js');
      o.resizer!((rows, cols) => {
        if (!pipe.destroyed) pipe.write(resizeFrame(rows, cols));
      });
      child.once('exit', () => (pipe as unknown as { destroy(): void }).destroy());
    }
    // Streams handed to the child are its copies now; ours must close, or the peer never sees EOF.
    for (const s of o.stdio ?? []) if (typeof s === 'object') (s as unknown as { destroy(): void }).destroy();
    let line = '';
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => (line += d.toString()));
    const ignore = () => undefined;
    if (!o.detach && !o.stdio) for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.on(s, ignore);
    if (o.detach) {
      await new Promise((r) => (child.stdio[3] as NodeJS.ReadableStream).on('end', r));
      child.unref();
      const err = /^error (\d+) (.*)$/s.exec(line.trim());
      if (err) throw new TsctrError(err[2]!, Number(err[1]));
      return 0;
    }
    return await new Promise<number>((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? 137 : 125))));
  } finally {
    fs.rmSync(file, { force: true });
  }
}
