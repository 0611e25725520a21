/**
 * Holding a running container still while its files are read (commit, as docker pauses by
 * default). Without a delegated freezer every process of the container's pid namespace gets
 * SIGSTOP, until a pass finds none left running (one forked meanwhile is caught by the next), and
 * SIGCONT afterwards. The user owns the container's user namespace, so may signal every process
 * in it, whatever its uid. Processes the container stopped itself are continued too: the price of
 * not having a freezer.
 */
import fs from 'node:fs';
import { liveState } from './state.js';
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
  if (st.status !== 'running') return () => undefined;
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
