/**
 * Dockerfile instructions that change only the image's configuration (CMD, ENTRYPOINT, ENV,
 * EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL, ONBUILD, SHELL, HEALTHCHECK, MAINTAINER): used
 * by `build` and by `commit --change` / `import --change`, which accept the same instructions.
 */
import path from 'node:path';
import { TsctrError } from '../../errors.js';
import type { ContainerConfig, ImageConfig } from '../types.js';
import { keyValues, parseDockerfile, splitWords, type Instruction } from './parse.js';
import { expandVars, EXPANDED } from './expand.js';
import { parseDuration } from '../../util/units.js';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

export const CONFIG_ONLY = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'USER', 'VOLUME', 'WORKDIR', 'STOPSIGNAL', 'ONBUILD', 'SHELL', 'HEALTHCHECK', 'MAINTAINER']);

/** The command of CMD/ENTRYPOINT/RUN: the exec form as is, the shell form through SHELL. */
export function commandOf(ins: Instruction, shell: string[]): string[] {
  return ins.json ?? [...shell, ins.rest];
}

function setEnv(env: string[], key: string, value: string): string[] {
  return [...env.filter((e) => e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')) !== key), `${key}=${value}`];
}

export function envLookup(env: string[] | undefined): (name: string) => string | undefined {
  return (name) => {
    for (const e of env ?? []) if (e.startsWith(`${name}=`)) return e.slice(name.length + 1);
    return undefined;
  };
}

function exposedPort(p: string): string {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
  const valid = (n: string | undefined) => n === undefined || (Number(n) >= 1 && Number(n) <= 65535);
  if (!m || !valid(m[1]) || !valid(m[2])) throw new TsctrError(`invalid port in EXPOSE: ${p}`);
  return `${Number(m[1])}/${(m[3] ?? 'tcp').toLowerCase()}`;
}

function healthcheck(ins: Instruction): ContainerConfig['Healthcheck'] {
  const m = /^(NONE|CMD(?:-SHELL)?)\b\s*(.*)$/is.exec(ins.rest.trim());
  if (!m) throw new TsctrError('HEALTHCHECK must be NONE or CMD ...');
  if (m[1]!.toUpperCase() === 'NONE') return { Test: ['NONE'] };
  const rest = m[2]!;
  let json: string[] | undefined;
  try {
    const v = JSON.parse(rest) as unknown;
    if (Array.isArray(v)) json = v as string[];
  } catch {
    /* shell form */
  }
  const hc: NonNullable<ContainerConfig['Healthcheck']> = { Test: json ? ['CMD', ...json] : ['CMD-SHELL', rest] };
  const ns = (flag: string) => (ins.flags[flag] ? parseDuration(ins.flags[flag]!) * 1e6 : undefined); // ms -> ns
  const interval = ns('interval');
  const timeout = ns('timeout');
  const start = ns('start-period');
  const startInterval = ns('start-interval');
  if (startInterval) hc.StartInterval = startInterval;
  if (interval) hc.Interval = interval;
  if (timeout) hc.Timeout = timeout;
  if (start) hc.StartPeriod = start;
  if (ins.flags.retries) hc.Retries = Number(ins.flags.retries);
  return hc;
}

/**
 * Applies one configuration instruction to `image` (in place). `vars` resolves build arguments and
 * the image's environment for the instructions docker expands.
 */
export function applyConfigInstruction(
  image: ImageConfig,
  ins: Instruction,
  vars: (name: string) => string | undefined,
  escape = '\\',
  stage: { cmdSet: boolean } = { cmdSet: false },
): void {
  const c = (image.config ??= {});
  const rest = EXPANDED.has(ins.cmd) ? expandVars(ins.rest, vars, escape) : ins.rest;
  const shell = c.Shell ?? DEFAULT_SHELL;
  switch (ins.cmd) {
    case 'CMD':
      c.Cmd = commandOf(ins, shell);
      stage.cmdSet = true;
      return;
    case 'ENTRYPOINT':
      c.Entrypoint = commandOf(ins, shell);
      // docker: a new ENTRYPOINT resets a CMD inherited from the base image (not one this stage set).
      if (!stage.cmdSet) c.Cmd = null;
      return;
    case 'ENV': {
      const pairs = keyValues(rest, escape);
      if (pairs.length === 0) throw new TsctrError('ENV requires at least one argument');
      for (const [k, v] of pairs) c.Env = setEnv(c.Env ?? [], k, v);
      return;
    }
    case 'LABEL': {
      const pairs = keyValues(rest, escape, false);
      if (pairs.length === 0) throw new TsctrError('LABEL requires at least one argument');
      c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(pairs) };
      return;
    }
    case 'MAINTAINER':
      image.author = rest.trim();
      return;
    case 'EXPOSE':
      c.ExposedPorts ??= {};
      for (const p of splitWords(rest, escape)) c.ExposedPorts[exposedPort(p)] = {};
      return;
    case 'USER':
      if (!rest.trim()) throw new TsctrError('USER requires an argument');
      c.User = rest.trim();
      return;
    case 'VOLUME': {
      const vols = ins.json ?? splitWords(rest, escape);
      if (vols.length === 0) throw new TsctrError('VOLUME requires at least one argument');
      c.Volumes ??= {};
      for (const v of vols) c.Volumes[v] = {};
      return;
    }
    case 'WORKDIR': {
      const dir = rest.trim();
      if (!dir) throw new TsctrError('WORKDIR requires an argument');
      c.WorkingDir = path.posix.resolve(c.WorkingDir || '/', dir);
      return;
    }
    case 'STOPSIGNAL':
      c.StopSignal = rest.trim();
      return;
    case 'ONBUILD': {
      const trigger = rest.trim();
      if (/^(ONBUILD|FROM|MAINTAINER)\b/i.test(trigger)) throw new TsctrError(`${trigger.split(/\s/)[0]} isn't allowed as an ONBUILD trigger`);
      c.OnBuild = [...(c.OnBuild ?? []), trigger];
      return;
    }
    case 'SHELL':
      if (!ins.json || ins.json.length === 0) throw new TsctrError('SHELL requires the arguments to be in JSON form');
      c.Shell = ins.json;
      return;
    case 'HEALTHCHECK':
      c.Healthcheck = healthcheck(ins);
      return;
  }
  throw new TsctrError(`${ins.cmd} cannot be applied as a configuration change`);
}

/** What `--change` may carry (docker's list, STOPSIGNAL too; ONBUILD is refused: nothing here runs triggers). */
const CHANGES = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

/**
 * `--change 'CMD ["sh"]'` values (commit, import): Dockerfile lines with the instructions that only
 * configure, applied as a build would. Returns a copy; `base` is left alone.
 */
export function applyChanges(base: ContainerConfig, changes: string[]): ContainerConfig {
  const image: ImageConfig = { architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [] }, config: structuredClone(base) };
  for (const change of changes) {
    const [ins, ...more] = parseDockerfile(change).instructions;
    if (!ins || more.length) throw new TsctrError(`invalid change "${change}": expected one Dockerfile instruction such as CMD ["sh"]`);
    if (!CHANGES.includes(ins.cmd)) throw new TsctrError(`${ins.cmd} is not a valid change command (use ${CHANGES.join(', ')})`);
    if (!ins.rest.trim()) throw new TsctrError(`${ins.cmd} needs an argument`);
    applyConfigInstruction(image, ins, envLookup(image.config?.Env));
  }
  return image.config!;
}
