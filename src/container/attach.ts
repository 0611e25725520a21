/**
 * `attach`: the container's output from now on, read from its log as the monitor writes it, until
 * it exits (its exit code then) or the detach keys are typed; our stdin goes to the container's
 * through the monitor's socket when it runs detached with -i, and our terminal's size to its tty
 * (attach-stdin.ts).
 */
import fs from 'node:fs';
import { ConflictError } from '../errors.js';
import { containerPaths } from '../paths.js';
import { signalProcess } from '../util/proc.js';
import { writeFd } from '../util/stdout.js';
import { formatRecord, readLogRecords, type LogRecord } from './logs.js';
import { liveState, monitorAlive } from './state.js';
import { getContainer, loadContainers } from './store.js';
import type { ContainerRecord } from './types.js';
import { DEFAULT_DETACH_KEYS, linkStdin, parseDetachKeys, resizeTty, type StdinLink } from './attach-stdin.js';

export interface AttachOptions {
  sigProxy: boolean;
  /** Our stdin to the container's (when it was started detached with -i); false: --no-stdin. */
  stdin: boolean;
  /** docker's --detach-keys syntax; default ctrl-p,ctrl-q. */
  detachKeys?: string;
}

export async function attachOutput(query: string, opts: AttachOptions): Promise<number> {
  const { sigProxy } = opts;
  const keys = parseDetachKeys(opts.detachKeys ?? DEFAULT_DETACH_KEYS);
  const c = getContainer(loadContainers(), query);
  const st = liveState(c);
  if (st.status !== 'running') throw new ConflictError('You cannot attach to a stopped container, start it first');
  if (st.paused) throw new ConflictError('You cannot attach to a paused container, unpause it first');
  let link: StdinLink | undefined;
  if (opts.stdin && c.config.openStdin) {
    link = await linkStdin(containerPaths.attachSock(c.id), c.config.tty, { keys });
  }
  const stopSize = c.config.tty ? followTerminalSize(c, link) : () => {};
  try {
    return await follow(c, st, sigProxy, link);
  } finally {
    stopSize();
    link?.close();
  }
}

/**
 * The container's tty takes our terminal's size now and on every SIGWINCH (node's 'resize'),
 * through the monitor: over the stdin link, or a short connection of its own without one (-t only).
 */
function followTerminalSize(c: ContainerRecord, link: StdinLink | undefined): () => void {
  const out = process.stdout;
  if (!out.isTTY) return () => {};
  const send = () => {
    const [cols, rows] = out.getWindowSize();
    if (link) link.resize(rows, cols);
    else void resizeTty(containerPaths.attachSock(c.id), rows, cols);
  };
  send();
  out.on('resize', send);
  return () => out.off('resize', send);
}

async function follow(c: ContainerRecord, st: ReturnType<typeof liveState>, sigProxy: boolean, link: StdinLink | undefined): Promise<number> {
  let detached = false;
  let wake = () => {};
  void link?.detached.then(() => {
    detached = true;
    wake();
  });
  // docker's --sig-proxy: what we get, the container gets (as long as it is the same run).
  const proxy = (sig: NodeJS.Signals) => signalProcess(liveState(c).init, sig);
  if (sigProxy) for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const) process.on(s, proxy);
  const print = (rs: LogRecord[]) => {
    for (const r of rs) writeFd(r.stream === 'stderr' ? 2 : 1, formatRecord(r, false));
  };
  const before = exitFileTime(c); // the exit of an earlier run (under a restart policy) is not ours
  let { cursor } = readLogRecords(c); // what was written before we came is not shown
  for (;;) {
    await new Promise<void>((r) => {
      const t = setTimeout(r, 50);
      wake = () => {
        clearTimeout(t);
        r();
      };
    });
    if (detached) {
      print(readLogRecords(c, cursor).records);
      link?.close(); // the terminal back to cooked before the message
      writeFd(2, 'read escape sequence\n');
      return 0;
    }
    // A new pid is a restart (restart policy) behind our back: the run we attached to is over.
    const now = liveState(c);
    const running = now.status === 'running' && now.pid === st.pid;
    const next = readLogRecords(c, cursor);
    cursor = next.cursor;
    print(next.records);
    if (!running) break;
    if (!loadContainers().containers[c.id]) return 0;
  }
  return exitCodeAfter(c, before);
}

/**
 * The code of the exit that follows `before`: the monitor writes it just after the process is gone
 * (and under a restart policy starts it again, which attach does not wait for, as docker's).
 */
const exitFileTime = (c: ContainerRecord) => fs.statSync(containerPaths.exit(c.id), { throwIfNoEntry: false })?.mtimeMs;

async function exitCodeAfter(c: ContainerRecord, before: number | undefined): Promise<number> {
  for (let i = 0; i < 100; i++) {
    if (!loadContainers().containers[c.id]) return 0; // removed (--rm) as it exited
    const t = exitFileTime(c);
    if (t !== undefined && t !== before) return Number(fs.readFileSync(containerPaths.exit(c.id), 'latin1').split(' ')[0]) || 0;
    if (!monitorAlive(c)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return liveState(c).exitCode;
}
