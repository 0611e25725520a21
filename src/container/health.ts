/**
 * Health checks as docker has them: the configuration (run flags over the image's HEALTHCHECK), the
 * monitor's part of the shim spec (the monitor runs the probes: no Node process stays resident),
 * and the state the monitor writes, which ps and inspect read.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TsctrError } from '../errors.js';
import { containerPaths } from '../paths.js';
import { atomicWriteFile } from '../util/fsutil.js';
import { parseDuration } from '../util/units.js';
import type { ImageRecord } from '../image/types.js';
import type { Spec } from './spec.js';
import type { ContainerRecord, Healthcheck } from './types.js';

export type { Healthcheck };

/** The run/create flags, as given. */
export interface HealthFlags {
  cmd?: string;
  interval?: string;
  timeout?: string;
  retries?: string;
  startPeriod?: string;
  startInterval?: string;
  none?: boolean;
}

export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy';
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

export const DEFAULTS = { interval: 30_000, timeout: 30_000, startPeriod: 0, startInterval: 5_000, retries: 3 };

function flagDuration(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = parseDuration(v);
  if (ms < 0) throw new TsctrError(`${flag} cannot be negative`);
  // docker's daemon: a set duration below a millisecond is refused
  if (ms > 0 && ms < 1) throw new TsctrError(`${flag} cannot be less than 1ms`);
  return Math.round(ms * 1e6);
}

/**
 * docker's rules: --no-healthcheck disables the image's check and conflicts with the other flags;
 * --health-cmd replaces the image's test; each other flag replaces one setting of the image's.
 */
export function resolveHealthcheck(flags: HealthFlags | undefined, image: Healthcheck | undefined): Healthcheck | undefined {
  const f = flags ?? {};
  const given = f.cmd !== undefined || f.interval !== undefined || f.timeout !== undefined || f.retries !== undefined || f.startPeriod !== undefined || f.startInterval !== undefined;
  if (f.none) {
    if (given) throw new TsctrError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  let retries: number | undefined;
  if (f.retries !== undefined) {
    retries = Number(f.retries);
    if (!Number.isInteger(retries)) throw new TsctrError(`invalid argument "${f.retries}" for "--health-retries" flag: strconv.ParseInt: parsing "${f.retries}": invalid syntax`);
    if (retries < 0) throw new TsctrError('--health-retries cannot be negative');
  }
  const own: Healthcheck = {
    ...(f.cmd !== undefined ? { Test: f.cmd === '' ? [] : ['CMD-SHELL', f.cmd] } : {}),
    Interval: flagDuration('--health-interval', f.interval),
    Timeout: flagDuration('--health-timeout', f.timeout),
    StartPeriod: flagDuration('--health-start-period', f.startPeriod),
    StartInterval: flagDuration('--health-start-interval', f.startInterval),
    Retries: retries,
  };
  if (!given) return image?.Test?.length ? { ...image } : undefined;
  const out: Healthcheck = { ...(image ?? {}) };
  for (const [k, v] of Object.entries(own) as [keyof Healthcheck, never][]) if (v !== undefined) out[k] = v;
  return out.Test?.length ? out : undefined;
}

/**
 * The probe's command line, or undefined when the container has no check (none, or NONE).
 * CMD-SHELL runs in the image's SHELL, as docker does (`/bin/sh -c` by default).
 */
export function probeCommand(hc: Healthcheck | undefined, shell: string[] = ['/bin/sh', '-c']): string[] | undefined {
  const test = hc?.Test;
  if (!test?.length || test[0] === 'NONE') return undefined;
  if (test[0] === 'CMD') return test.length > 1 ? test.slice(1) : undefined;
  if (test[0] === 'CMD-SHELL') return test.length > 1 ? [...shell, test[1]!] : undefined;
  return undefined;
}

export const healthFile = (id: string) => path.join(containerPaths.run(id), 'health.json');
export const probeSpecFile = (id: string) => path.join(containerPaths.run(id), 'health-probe');

const ms = (ns: number | undefined, dflt: number) => (ns && ns > 0 ? String(Math.max(1, Math.round(ns / 1e6))) : String(dflt));

/**
 * The monitor's health keys, and the probe's exec spec written beside the container's (everything
 * but the pid, which the monitor gives at each probe: a restart changes it).
 */
export async function healthSpec(c: ContainerRecord, image: ImageRecord): Promise<Spec> {
  fs.rmSync(healthFile(c.id), { force: true });
  const { readImageConfig } = await import('../image/store.js');
  const shell = readImageConfig(image).config?.Shell;
  const argv = probeCommand(c.config.healthcheck, shell?.length ? shell : undefined);
  if (!argv) return [];
  const { processSpec } = await import('./exec.js');
  const { encodeSpec } = await import('./spec.js');
  const probe: Spec = [...processSpec(c, image, { command: argv, tty: false, env: [], envFile: [] }), ['attach', '1']];
  atomicWriteFile(probeSpecFile(c.id), encodeSpec(probe), 0o600, false);
  const hc = c.config.healthcheck!;
  return [
    ['health-spec', probeSpecFile(c.id)],
    ['health-file', healthFile(c.id)],
    ['health-interval', ms(hc.Interval, DEFAULTS.interval)],
    ['health-timeout', ms(hc.Timeout, DEFAULTS.timeout)],
    ['health-retries', String(hc.Retries && hc.Retries > 0 ? hc.Retries : DEFAULTS.retries)],
    ['health-start-period', hc.StartPeriod && hc.StartPeriod > 0 ? ms(hc.StartPeriod, 0) : '0'],
    ['health-start-interval', ms(hc.StartInterval, DEFAULTS.startInterval)],
  ];
}

/** What the monitor last wrote (undefined: no check, or not started since). */
export function readHealth(c: ContainerRecord): HealthState | undefined {
  if (!probeCommand(c.config.healthcheck)) return undefined;
  let raw: string;
  try {
    raw = fs.readFileSync(healthFile(c.id), 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(raw) as HealthState;
  } catch {
    return undefined; // never half-written (renamed into place); a foreign file is no state
  }
}

/** `ps`'s suffix: ` (healthy)`, ` (health: starting)`, ` (unhealthy)`. */
export function healthSuffix(h: HealthState | undefined): string {
  if (!h) return '';
  return h.Status === 'starting' ? ' (health: starting)' : ` (${h.Status})`;
}
