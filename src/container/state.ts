/**
 * A container's live state, read from what its monitor leaves behind: the pid file (volatile), the
 * exit file (persistent) and the monitor's own pid. Nothing is trusted that could be stale: a pid
 * counts only if that process is alive, so a container whose processes died unobserved, or that was
 * lost in a reboot, is Exited, never Up.
 */
import fs from 'node:fs';
import { containerPaths } from '../paths.js';
import { pidAlive, readFileIfExists } from '../util/fsutil.js';
import type { ContainerRecord, LiveState } from './types.js';

function readInt(file: string): number {
  const raw = readFileIfExists(file);
  const n = raw ? parseInt(raw.toString('utf8'), 10) : NaN;
  return Number.isFinite(n) ? n : 0;
}

function mtimeIso(file: string): string | undefined {
  try {
    return fs.statSync(file).mtime.toISOString();
  } catch {
    return undefined;
  }
}

/** Unknown exit (the monitor itself was killed, or the machine rebooted under it). */
export const EXIT_UNKNOWN = 255;

export function liveState(c: ContainerRecord): LiveState {
  const pid = readInt(containerPaths.pid(c.id));
  const monitorPid = readInt(containerPaths.monitorPid(c.id));
  const pidTime = mtimeIso(containerPaths.pid(c.id));
  const exitTime = mtimeIso(containerPaths.exit(c.id));
  const base = { pid: 0, monitorPid, restarts: readInt(containerPaths.restarts(c.id)), startedAt: pidTime ?? c.startedAt ?? '', exitCode: 0, finishedAt: '' };

  // Under a restart policy the previous run's exit file stays while the new run's pid is newer.
  if (pid > 0 && pidAlive(pid) && (!exitTime || (pidTime ?? '') >= exitTime)) return { ...base, status: 'running', pid };
  const exitRaw = readFileIfExists(containerPaths.exit(c.id))?.toString('utf8').trim();
  if (exitRaw) {
    const [code, finishedAt] = exitRaw.split(/\s+/);
    return { ...base, status: 'exited', exitCode: Number(code) || 0, finishedAt: finishedAt ?? exitTime ?? '' };
  }
  if (c.startedAt) return { ...base, status: 'exited', exitCode: EXIT_UNKNOWN, finishedAt: c.startedAt };
  return { ...base, status: 'created', startedAt: '' };
}

/** Is the monitor (and so possibly the container, or a restart loop) still alive? */
export function monitorAlive(c: ContainerRecord): boolean {
  const pid = readInt(containerPaths.monitorPid(c.id));
  return pid > 0 && pidAlive(pid);
}
