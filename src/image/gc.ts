import fs from 'node:fs';
import path from 'node:path';
import { storePaths } from '../paths.js';
import { pidAlive } from '../util/fsutil.js';
import { removeTreesAsNamespaceRoot } from '../rootless/userns.js';
import { log } from '../util/log.js';

/**
 * tmp/ holds work in progress named `<kind>.<pid>.<random>`; what belongs to a dead process (a pull
 * killed with SIGKILL, an rmi interrupted before it emptied its trash) is removed here.
 */
export function collectGarbage(): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(storePaths.tmp());
  } catch {
    return;
  }
  const stale = entries
    .filter((name) => {
      const pid = Number(name.split('.')[1]);
      return Number.isInteger(pid) && pid !== process.pid && !pidAlive(pid);
    })
    .map((name) => path.join(storePaths.tmp(), name));
  if (stale.length === 0) return;
  try {
    removeTreesAsNamespaceRoot(stale);
  } catch (e) {
    log.warn(`could not clean up ${stale.length} leftover temporary entries: ${(e as Error).message}`);
  }
}
