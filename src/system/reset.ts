/** `system reset` when the store may be broken: find and stop what runs from the pid files. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function readPid(fs: typeof import('node:fs'), file: string): number {
  try {
    const n = parseInt(fs.readFileSync(file, 'utf8'), 10);
    return Number.isFinite(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

/**
 * The containers of this store, from its directory rather than containers.json (which may be the
 * broken part). The run root is per user, shared by every data root, so only these are ours.
 */
export async function containerIds(dataRoot: string): Promise<string[]> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  try {
    return fs.readdirSync(path.join(dataRoot, 'containers')).filter((n) => /^[a-f0-9]{64}$/.test(n));
  } catch {
    return [];
  }
}

/**
 * Without a readable store, the run root still says what runs: each container dir holds the
 * monitor's and the container's pids. Pid files can be stale and pids reused, so a pid is only
 * killed if it still looks like ours: the monitor's command line names this container's spec, the
 * container's init lives in another user namespace than we do.
 */
export async function killFromPidFiles(runRoot: string, ids: string[]): Promise<void> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { pidAlive } = await import('../util/fsutil.js');
  const dir = path.join(runRoot, 'containers');
  const ownUserNs = fs.readlinkSync('/proc/self/ns/user');
  const monitors: number[] = [];
  const inits: number[] = [];
  for (const id of ids) {
    const monitor = readPid(fs, path.join(dir, id, 'monitor.pid'));
    if (monitor && pidAlive(monitor)) {
      let cmdline = '';
      try {
        cmdline = fs.readFileSync(`/proc/${monitor}/cmdline`, 'utf8');
      } catch {
        /* gone */
      }
      if (cmdline.includes(id)) monitors.push(monitor);
    }
    const init = readPid(fs, path.join(dir, id, 'pid'));
    if (init && pidAlive(init)) {
      try {
        if (fs.readlinkSync(`/proc/${init}/ns/user`) !== ownUserNs) inits.push(init);
      } catch {
        /* not ours to inspect, so not ours to kill */
      }
    }
  }
  // SIGTERM tells a monitor to stop for good (no restart); the container is then killed, and the
  // monitor, seeing it exit, ends its helpers (slirp4netns, tsctr-ports, pasta) and itself. Killing a monitor outright would
  // orphan those helpers, so that is only the last resort.
  const signal = (pids: number[], sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal(monitors, 'SIGTERM');
  signal(inits, 'SIGKILL');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && [...monitors, ...inits].some(pidAlive)) await sleep(20);
  signal(monitors.filter(pidAlive), 'SIGKILL');
}
