/**
 * `--security-opt`, as far as tsctr has the mechanisms: seccomp (the shim's default filter, or
 * none) and no-new-privileges (on unless no-new-privileges=false: docker's default is off, ours
 * on, as set-id programs gain nothing a rootless container should want). The options are kept as the user gave them, as docker
 * shows them in HostConfig.SecurityOpt.
 */
import { TsctrError } from '../errors.js';

export type SeccompMode = 'default' | 'unconfined';

/** docker's split: `key=value`, or the old `key:value`; only no-new-privileges may go without a value. */
function split(opt: string): [string, string | undefined] {
  const eq = opt.indexOf('=');
  if (eq >= 0) return [opt.slice(0, eq), opt.slice(eq + 1)];
  if (opt === 'no-new-privileges') return [opt, undefined];
  const colon = opt.indexOf(':');
  return colon >= 0 ? [opt.slice(0, colon), opt.slice(colon + 1)] : [opt, ''];
}

/** Validates every option before anything is created; returns them unchanged. */
export function parseSecurityOpts(opts: string[]): string[] {
  for (const opt of opts) {
    const [key, value] = split(opt);
    if (value === '') throw new TsctrError(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    if (key === 'seccomp') {
      if (value === 'unconfined' || value === 'builtin') continue;
      throw new TsctrError(`--security-opt ${opt}: seccomp profiles from a file are not supported (use seccomp=unconfined, or nothing for the default filter)`);
    }
    if (key === 'no-new-privileges') {
      if (value === undefined || value === 'true' || value === 'false') continue;
      throw new TsctrError(`Invalid --security-opt: ${JSON.stringify(opt)} (no-new-privileges takes true or false)`);
    }
    if (key === 'apparmor' || key === 'label' || key === 'systempaths' || key === 'mask' || key === 'unmask') {
      throw new TsctrError(`--security-opt ${opt}: not supported by tsctr (supported: seccomp=unconfined, no-new-privileges)`);
    }
    throw new TsctrError(`Invalid --security-opt: ${JSON.stringify(opt)} (supported: seccomp=unconfined, no-new-privileges)`);
  }
  return opts;
}

/** no_new_privs for the container's processes: on, unless the last no-new-privileges option says false. */
export function noNewPrivileges(securityOpt: string[] | undefined): boolean {
  let on = true;
  for (const opt of securityOpt ?? []) {
    const [key, value] = split(opt);
    if (key === 'no-new-privileges') on = value !== 'false';
  }
  return on;
}

/** The last seccomp option wins, as with docker; none means the default filter. */
export function seccompMode(securityOpt: string[] | undefined): SeccompMode {
  let mode: SeccompMode = 'default';
  for (const opt of securityOpt ?? []) {
    const [key, value] = split(opt);
    if (key === 'seccomp') mode = value === 'unconfined' ? 'unconfined' : 'default';
  }
  return mode;
}
