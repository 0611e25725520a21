/** `system reset` when the store may be broken: find and stop what runs from the pid files. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
  const { isAlive, parsePidLine, readPidFile, signalProcess } = await import('../util/proc.js');
  type ProcessId = import('../util/proc.js').ProcessId;
  const dir = path.join(runRoot, 'containers');
  const ownUserNs = fs.readlinkSync('/proc/self/ns/user');
  const monitors: ProcessId[] = [];
  const inits: ProcessId[] = [];
  const helpers: ProcessId[] = [];
  for (const id of ids) {
    const monitor = readPidFile(path.join(dir, id, 'monitor.pid'));
    if (isAlive(monitor)) {
      let cmdline = '';
      try {
        cmdline = fs.readFileSync(`/proc/${monitor.pid}/cmdline`, 'utf8');
      } catch {
        /* gone */
      }
      if (cmdline.includes(id)) monitors.push(monitor);
    }
    const init = readPidFile(path.join(dir, id, 'pid'));
    if (isAlive(init)) {
      try {
        if (fs.readlinkSync(`/proc/${init.pid}/ns/user`) !== ownUserNs) inits.push(init);
      } catch {
        /* not ours to inspect, so not ours to kill */
      }
    }
    try {
      for (const line of fs.readFileSync(path.join(dir, id, 'helpers'), 'latin1').split('\n')) {
        const h = parsePidLine(line);
        if (h?.start !== undefined) helpers.push(h);
      }
    } catch {
      /* none recorded */
    }
  }
  // SIGTERM tells a monitor to stop for good (no restart); the container is then killed, and the
  // monitor, seeing it exit, ends its helpers (slirp4netns, tsctr-ports, pasta) and itself. Killing
  // a monitor outright would orphan those helpers, so that is only the last resort, and then the
  // helpers it recorded (by pid and start time) are ended too.
  const signal = (ps: ProcessId[], sig: NodeJS.Signals) => ps.forEach((p) => signalProcess(p, sig));
  signal(monitors, 'SIGTERM');
  signal(inits, 'SIGKILL');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && [...monitors, ...inits].some(isAlive)) await sleep(20);
  signal(monitors, 'SIGKILL');
  signal(helpers, 'SIGKILL');
}
