/**
 * What host checks share (`system check`, the storage driver's probe): the shape of an answer, and
 * looking at the host the way the user's shell would.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export type Severity = 'error' | 'warning';

export interface Check {
  name: string;
  ok: boolean;
  /** How bad a failure is; reported for passing checks too, so consumers know what was at stake. */
  severity: Severity;
  detail: string;
  fix?: string;
}

export function whichOnPath(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(':').filter(Boolean)) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

/** Why a device cannot be opened for reading and writing (an errno name), or undefined when it can. */
export function devAccess(dev: string): string | undefined {
  try {
    fs.accessSync(dev, fs.constants.R_OK | fs.constants.W_OK);
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'inaccessible';
  }
}

/** A program run to completion, its output (both streams) as text; 127 when it could not start. */
export function runCommand(argv: string[], timeoutMs = 10_000): { code: number; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) return { code: 127, out: r.error.message };
  return { code: r.status ?? 128, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

export function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim())?.trim() ?? '';
}
