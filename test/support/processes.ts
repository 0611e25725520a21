/** Processes seen from the host, for what a container or a helper leaves running. */
import fs from 'node:fs';

/** Whether pid runs: it exists and is neither a zombie nor dead (a reaped child's pid may linger as Z). */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}
