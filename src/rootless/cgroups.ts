/**
 * Resource limits need a cgroup v2 subtree delegated to the user (systemd does that for user
 * sessions). Without one, a rootless engine cannot enforce --memory/--cpus/--pids-limit: say so once,
 * plainly, and run the container anyway.
 */
import fs from 'node:fs';
import { log } from '../util/log.js';
import type { HostConfig } from '../container/types.js';

export interface CgroupInfo {
  version: 1 | 2 | 'hybrid';
  delegated: boolean;
  controllers: string[];
}

export function cgroupInfo(): CgroupInfo {
  const unified = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
  const hybrid = !unified && fs.existsSync('/sys/fs/cgroup/unified/cgroup.controllers');
  const version = unified ? 2 : hybrid ? 'hybrid' : 1;
  let delegated = false;
  let controllers: string[] = [];
  if (unified) {
    const rel = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3) ?? '/';
    const dir = `/sys/fs/cgroup${rel}`;
    try {
      fs.accessSync(dir, fs.constants.W_OK);
      controllers = fs.readFileSync(`${dir}/cgroup.controllers`, 'utf8').trim().split(/\s+/).filter(Boolean);
      delegated = controllers.includes('memory') || controllers.includes('pids');
    } catch {
      delegated = false;
    }
  }
  return { version, delegated, controllers };
}

export function warnUnenforcedLimits(h: HostConfig): void {
  const asked = [h.memory && '--memory', h.nanoCpus && '--cpus', h.pidsLimit && '--pids-limit'].filter(Boolean);
  if (asked.length === 0) return;
  const info = cgroupInfo();
  if (info.delegated) {
    log.warn(`${asked.join(', ')} not applied: cgroup v2 delegation is present but tsctr does not manage cgroups yet`);
    return;
  }
  const why = info.version === 2 ? 'no cgroup v2 controllers are delegated to this user' : `this host uses cgroup ${info.version === 'hybrid' ? 'v1/v2 hybrid' : 'v1'} without delegation to users`;
  process.stderr.write(`WARNING: ${asked.join(', ')} ignored: ${why}; the container runs without these limits (see 'tsctr info')\n`);
}
