/**
 * docker's `update`: new limits and restart policy for an existing container. Stored in its record
 * (every later start uses them); for a running container the limits go to its cgroup now — made
 * and the container's processes moved there if it had none — with the same warnings as `run`
 * where the cgroup or a controller is not delegated, and the restart policy to the file its monitor
 * reads at each exit. --pids-limit's RLIMIT_NPROC (spec.ts) is a process attribute: it changes at
 * the next start.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TsctrError } from '../errors.js';
import { containerCgroup, prepareCgroup, type ResourceLimits } from '../rootless/cgroups.js';
import { atomicWriteFile } from '../util/fsutil.js';
import { containerProcesses } from './processes.js';
import { restartPolicyFile, restartValue } from './restart-policy.js';
import { liveState } from './state.js';
import { getContainer, updateContainers } from './store.js';
import type { ContainerRecord, HostConfig } from './types.js';
import { containerEvent } from './events.js';

/** What to change; absent: unchanged. 0 (pids: 0 or -1) removes a limit. */
export interface UpdateOptions {
  memory?: number;
  nanoCpus?: number;
  pidsLimit?: number;
  restart?: HostConfig['restart'];
}

export async function updateContainer(query: string, o: UpdateOptions): Promise<ContainerRecord> {
  let before: ResourceLimits = { memory: 0, nanoCpus: 0, pidsLimit: 0 };
  const c = await updateContainers((doc) => {
    const c = getContainer(doc, query);
    const h = c.hostConfig;
    if (o.restart && o.restart.name !== 'no' && h.autoRemove) {
      throw new TsctrError('Restart policy cannot be updated because AutoRemove is enabled for the container');
    }
    before = { memory: h.memory, nanoCpus: h.nanoCpus, pidsLimit: h.pidsLimit };
    if (o.memory !== undefined) h.memory = o.memory;
    if (o.nanoCpus !== undefined) h.nanoCpus = o.nanoCpus;
    if (o.pidsLimit !== undefined) h.pidsLimit = o.pidsLimit < 0 ? 0 : o.pidsLimit;
    if (o.restart) h.restart = o.restart;
    return c;
  });
  const st = liveState(c);
  if (st.status === 'running') {
    if (o.memory !== undefined || o.nanoCpus !== undefined || o.pidsLimit !== undefined) applyLimits(c, before, st.pid);
    if (o.restart) atomicWriteFile(restartPolicyFile(c.id), `${restartValue(c.hostConfig.restart)}\n`, 0o600, false);
  }
  containerEvent(c, 'update');
  return c;
}

/** The new limits on the running container's cgroup; limits set to 0 become `max` again. */
function applyLimits(c: ContainerRecord, before: ResourceLimits, initPid: number): void {
  const h = c.hostConfig;
  const existing = containerCgroup(c.id, before);
  const dir = prepareCgroup(c.id, h) ?? existing; // prepareCgroup warns as run does where it cannot
  if (!dir) return;
  const unset: [boolean, string, string][] = [
    [!h.memory, 'memory.max', 'max'],
    [!h.memory, 'memory.swap.max', 'max'],
    [!h.nanoCpus, 'cpu.max', 'max 100000'],
    [!h.pidsLimit, 'pids.max', 'max'],
  ];
  for (const [gone, file, value] of unset) {
    if (!gone || !fs.existsSync(path.join(dir, file))) continue;
    try {
      fs.writeFileSync(path.join(dir, file), value);
    } catch {
      // the controller went away: nothing is limited there either
    }
  }
  if (existing === dir) return;
  // It ran without a cgroup of its own: its processes move in (the delegation lets us: prepareCgroup made it there).
  for (const pid of containerProcesses(initPid)) {
    try {
      fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw new TsctrError(`cannot move the container's process ${pid} into its cgroup ${dir}: ${(e as Error).message}`);
    }
  }
}
