/**
 * A container's live state, read from what its monitor leaves behind: the pid file (volatile), the
 * exit file (persistent) and the monitor's own pid. Nothing is trusted that could be stale: a pid
 * counts only if that process is alive, so a container whose processes died unobserved, or that was
 * lost in a reboot, is Exited, never Up.
 */
import fs from 'node:fs';
import { containerPaths } from '../paths.js';
import { readFileIfExists } from '../util/fsutil.js';
import { isAlive, parsePidLine, readPidFile, signalProcess } from '../util/proc.js';
import type { ContainerRecord, LiveState } from './types.js';

// `ps` asks this of every container: missing files are the common case, and are found with stat
// calls that return undefined instead of throwing (an exception per missing file costs more).
const statOf = (file: string) => fs.statSync(file, { throwIfNoEntry: false });

function readInt(file: string, exists = statOf(file) !== undefined): number {
  const raw = exists ? readFileIfExists(file) : undefined;
  const n = raw ? parseInt(raw.toString('utf8'), 10) : NaN;
  return Number.isFinite(n) ? n : 0;
}

/** Written by `pause`, removed by `unpause` (pause.ts). */
export const pausedFile = (id: string) => `${containerPaths.run(id)}/paused`;

/** Unknown exit (the monitor itself was killed, or the machine rebooted under it). */
export const EXIT_UNKNOWN = 255;

export function liveState(c: ContainerRecord): LiveState {
  // Never started: nothing to look at (ps meets many such containers).
  if (!c.startedAt) return { status: 'created', pid: 0, monitorPid: 0, restarts: 0, startedAt: '', exitCode: 0, finishedAt: '' };
  // No run directory (never started, or started before a reboot): nothing in it to read.
  const started = statOf(containerPaths.run(c.id)) !== undefined;
  const pidStat = started ? statOf(containerPaths.pid(c.id)) : undefined;
  const exitStat = statOf(containerPaths.exit(c.id));
  const init = pidStat ? readPidFile(containerPaths.pid(c.id)) : undefined;
  const monitor = started ? readPidFile(containerPaths.monitorPid(c.id)) : undefined;
  const pidTime = pidStat?.mtime.toISOString();
  const exitTime = exitStat?.mtime.toISOString();
  const base = { pid: 0, monitorPid: monitor?.pid ?? 0, monitor, restarts: started ? readInt(containerPaths.restarts(c.id)) : 0, startedAt: pidTime ?? c.startedAt ?? '', exitCode: 0, finishedAt: '' };

  // Under a restart policy the previous run's exit file stays while the new run's pid is newer.
  if (isAlive(init) && (!exitTime || (pidTime ?? '') >= exitTime)) {
    // `pause` marks it; a mark from before the current run's start (a restart) is stale.
    const pausedStat = statOf(pausedFile(c.id));
    const paused = pausedStat !== undefined && pidStat !== undefined && pausedStat.mtimeMs >= pidStat.mtimeMs;
    return { ...base, status: 'running', pid: init.pid, init, ...(paused ? { paused } : {}) };
  }
  const exitRaw = exitStat ? readFileIfExists(containerPaths.exit(c.id))?.toString('utf8').trim() : undefined;
  if (exitRaw) {
    const [code, finishedAt] = exitRaw.split(/\s+/);
    return { ...base, status: 'exited', exitCode: Number(code) || 0, finishedAt: finishedAt ?? exitTime ?? '' };
  }
  if (c.startedAt) return { ...base, status: 'exited', exitCode: EXIT_UNKNOWN, finishedAt: c.startedAt };
  return { ...base, status: 'created', startedAt: '' };
}

/**
 * Is a stop final, its exit code known? While a start is under way (no pid files yet) and between
 * the init's death and the monitor's write of the exit file, liveState says exited with an unknown
 * code: a waiter must not take that for the code. A monitor that died without writing one is final.
 */
export function exitSettled(c: ContainerRecord): boolean {
  if (statOf(containerPaths.exit(c.id)) !== undefined) return true;
  // A monitor that has not written its pid file yet is starting, not gone.
  const monitor = readPidFile(containerPaths.monitorPid(c.id));
  return monitor !== undefined && !isAlive(monitor);
}

/** Is the monitor (and so possibly the container, or a restart loop) still alive? */
export function monitorAlive(c: ContainerRecord): boolean {
  return isAlive(readPidFile(containerPaths.monitorPid(c.id)));
}

/**
 * Ends what a killed monitor left beside its container (slirp4netns, tsctr-ports, pasta,
 * fuse-overlayfs): each by the identity the monitor recorded, so that no stranger that reused a
 * pid is hit. A live monitor ends them itself.
 */
export function killOrphanedHelpers(c: ContainerRecord): void {
  if (monitorAlive(c)) return;
  const raw = readFileIfExists(containerPaths.helpers(c.id))?.toString('latin1') ?? '';
  for (const line of raw.split('\n')) signalProcess(parsePidLine(line), 'SIGKILL');
}
