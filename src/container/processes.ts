import fs from 'node:fs';

/**
 * The container's processes: its init and every descendant. Found through the parent links in
 * /proc/PID/stat, which anyone may read — a container's non-root processes are not dumpable, so
 * their /proc/PID/ns links are closed to us.
 */
export function containerProcesses(initPid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z') parent.set(Number(name), Number(fields[1]));
    } catch {
      /* gone meanwhile */
    }
  }
  const inside = new Set([initPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!inside.has(pid) && inside.has(ppid)) {
        inside.add(pid);
        grew = true;
      }
    }
  }
  return [...inside].sort((a, b) => a - b);
}
