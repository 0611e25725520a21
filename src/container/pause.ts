/**
 * Holding a running container still while its files are read (commit, as docker pauses by
 * default). Without a delegated freezer every process of the container's pid namespace gets
 * SIGSTOP, until a pass finds none left running (one forked meanwhile is caught by the next), and
 * SIGCONT afterwards. The user owns the container's user namespace, so may signal every process
 * in it, whatever its uid. Processes the container stopped itself are continued too: the price of
 * not having a freezer.
 */
import { containerEvent } from './events.js';
import fs from 'node:fs';
import { ConflictError } from '../errors.js';
import { atomicWriteFile } from '../util/fsutil.js';
import { liveState, pausedFile } from './state.js';
import type { ContainerRecord } from './types.js';

function pidNamespaceMembers(ns: string): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readlinkSync(`/proc/${name}/ns/pid`) === ns) out.push(Number(name));
    } catch {
      // gone, or not ours to look at
    }
  }
  return out;
}

/** Stops the container's processes; the function returned continues them. Not running: nothing to do. */
export function pauseContainer(c: ContainerRecord): () => void {
  const st = liveState(c);
  // Paused already (`pause`): it stays so, commit's resume must not continue it.
  if (st.status !== 'running' || st.paused) return () => undefined;
  let ns: string;
  try {
    ns = fs.readlinkSync(`/proc/${st.pid}/ns/pid`);
  } catch {
    return () => undefined;
  }
  const stopped = new Set<number>();
  for (let pass = 0; pass < 20; pass++) {
    const fresh = pidNamespaceMembers(ns).filter((p) => !stopped.has(p));
    if (fresh.length === 0) break;
    for (const p of fresh) {
      try {
        process.kill(p, 'SIGSTOP');
        stopped.add(p);
      } catch {
        // exited meanwhile
      }
    }
  }
  return () => {
    for (const p of stopped) {
      try {
        process.kill(p, 'SIGCONT');
      } catch {
        // exited meanwhile
      }
    }
  };
}

/**
 * `pause`: as docker's, but without a freezer: every process of the container gets SIGSTOP and
 * a mark in the run directory says so (state.ts), until `unpause` continues them all. A process
 * the container starts meanwhile (exec) is not stopped; docker refuses exec on a paused container.
 */
export function pauseForGood(c: ContainerRecord): void {
  const st = liveState(c);
  if (st.status !== 'running') throw new ConflictError(`Container ${c.id} is not running`);
  if (st.paused) throw new ConflictError(`Container ${c.id} is already paused`);
  pauseContainer(c);
  atomicWriteFile(pausedFile(c.id), `${new Date().toISOString()}\n`, 0o600, false);
  containerEvent(c, 'pause');
}

export function unpause(c: ContainerRecord): void {
  const st = liveState(c);
  if (st.status !== 'running' || !st.paused) throw new ConflictError(`Container ${c.id} is not paused`);
  resumeAll(st.pid);
  fs.rmSync(pausedFile(c.id), { force: true });
  containerEvent(c, 'unpause');
}

/** After stop's or kill's signal: a stopped process only acts on it once continued (SIGKILL aside). */
export function resumeIfPaused(c: ContainerRecord): void {
  const st = liveState(c);
  if (!st.paused) return;
  resumeAll(st.pid);
  fs.rmSync(pausedFile(c.id), { force: true });
}

function resumeAll(pid: number): void {
  let ns: string;
  try {
    ns = fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return;
  }
  for (const p of pidNamespaceMembers(ns)) {
    try {
      process.kill(p, 'SIGCONT');
    } catch {
      // exited meanwhile
    }
  }
}
