/**
 * --log-opt: docker's json-file rotation options for tsctr's log (the monitor writes and rotates
 * it). Without options a container's log is capped all the same, at DEFAULT_LOG: docker's
 * unbounded default filled disks (300 MB of output became a 314 MB file), and logs are for
 * looking back, not for keeping everything.
 */
import { TsctrError } from '../errors.js';
import { parseBytes } from '../util/units.js';

export interface LogConfig {
  /** k8s-file and json-file are the same log (tsctr's compact k8s-file records); none keeps none. */
  type: 'k8s-file' | 'json-file' | 'none';
  /** The options as given (inspect shows them as docker does). */
  config: Record<string, string>;
}

/** The cap when no --log-opt says otherwise: at most 3 files of 10 MiB. */
export const DEFAULT_LOG = { maxSize: 10 * 1024 * 1024, maxFile: 3 };

const KNOWN = new Set(['max-size', 'max-file']);

export function parseLogOpts(opts: string[]): LogConfig {
  const config: Record<string, string> = {};
  for (const o of opts) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new TsctrError(`invalid log opt '${o}': expected key=value`);
    const key = o.slice(0, eq);
    if (!KNOWN.has(key)) throw new TsctrError(`unknown log opt '${key}' for k8s-file log driver (tsctr knows max-size and max-file)`);
    config[key] = o.slice(eq + 1);
  }
  logLimits({ type: 'k8s-file', config }); // validates now, not at start
  return { type: 'k8s-file', config };
}

/** Bytes per file and files in all; an empty config is the default cap. */
export function logLimits(lc: LogConfig | undefined): { maxSize: number; maxFile: number } {
  const c = lc?.config ?? {};
  if (c['max-size'] === undefined && c['max-file'] === undefined) return DEFAULT_LOG;
  let maxSize = 0;
  if (c['max-size'] !== undefined && c['max-size'] !== '-1') {
    try {
      maxSize = parseBytes(c['max-size']);
    } catch (e) {
      throw new TsctrError(`invalid log opt max-size=${c['max-size']}: ${(e as Error).message}`);
    }
    if (maxSize <= 0) throw new TsctrError(`invalid log opt max-size=${c['max-size']}: must be a positive size (e.g. 10m)`);
  }
  let maxFile = 1;
  if (c['max-file'] !== undefined) {
    maxFile = Number(c['max-file']);
    if (!/^\d+$/.test(c['max-file']) || maxFile < 1) throw new TsctrError(`invalid log opt max-file=${c['max-file']}: must be a number of files, at least 1`);
    if (maxFile > 1 && !maxSize) throw new TsctrError('max-file cannot be set without max-size');
  }
  return { maxSize, maxFile };
}
