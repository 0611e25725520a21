/**
 * Processes named by pid and start time. A pid alone is reused by the kernel once its process is
 * gone: a pid file left by a SIGKILLed monitor may name a stranger's process later. The start time
 * (field 22 of /proc/PID/stat, clock ticks since boot) tells the two apart.
 */
import fs from 'node:fs';

export interface ProcessId {
  pid: number;
  /** Absent in files written before start times were recorded: then only liveness is checked. */
  start?: number;
}

/** The start time of a live (not zombie) process, or undefined. */
export function startTimeOf(pid: number): number | undefined {
  if (!(pid > 0)) return undefined;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: fields count from after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return Number(fields[19]);
}

export function parsePidLine(line: string): ProcessId | undefined {
  const [pid, start] = line.trim().split(/\s+/).map(Number);
  if (!pid || !(pid > 0)) return undefined;
  return start !== undefined && Number.isFinite(start) ? { pid, start } : { pid };
}

export function readPidFile(file: string): ProcessId | undefined {
  try {
    return parsePidLine(fs.readFileSync(file, 'latin1'));
  } catch {
    return undefined;
  }
}

/** Is this still the process the pid file meant? */
export function isAlive(p: ProcessId | undefined): p is ProcessId {
  if (!p) return false;
  const start = startTimeOf(p.pid);
  return start !== undefined && (p.start === undefined || p.start === start);
}

/** Signals the process only if it is still the one meant; false when it is gone. */
export function signalProcess(p: ProcessId | undefined, signal: NodeJS.Signals | number): boolean {
  if (!isAlive(p)) return false;
  try {
    process.kill(p.pid, signal);
    return true;
  } catch {
    return false;
  }
}
