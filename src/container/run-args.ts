/**
 * The `tsctr run` flags that recreate a container from the options it was created with (kept in
 * its record): what `generate systemd --new` puts in ExecStart. Flags a unit must control itself
 * (detach, name, --rm, terminals) are left to the caller.
 */
import type { RunOptions } from './options.js';

/** The options as a record keeps them: without the unset, false and empty ones (ps reads every record). */
export function compactOptions(o: RunOptions): Partial<RunOptions> {
  return Object.fromEntries(
    Object.entries(o).filter(([k, v]) => k === 'image' || k === 'command' || !(v === undefined || v === false || (Array.isArray(v) && v.length === 0))),
  ) as Partial<RunOptions>;
}

export function runArgsOf(o: Partial<RunOptions>): string[] {
  const a: string[] = [];
  const many = (flag: string, values: string[] = []) => values.forEach((v) => a.push(flag, v));
  const one = (flag: string, value: string | number | undefined) => value !== undefined && value !== '' && a.push(flag, String(value));
  one('--hostname', o.hostname);
  many('-e', o.env);
  many('--env-file', o.envFile);
  one('-w', o.workdir);
  one('-u', o.user);
  if (o.entrypoint !== undefined) a.push('--entrypoint', o.entrypoint);
  many('-v', o.volumes);
  many('--tmpfs', o.tmpfs);
  many('--mount', o.mounts ?? []);
  if (o.readOnly) a.push('--read-only');
  if (o.init) a.push('--init');
  many('--ulimit', o.ulimits);
  one('--memory', o.memory);
  one('--cpus', o.cpus);
  one('--pids-limit', o.pidsLimit);
  one('--restart', o.restart);
  one('--stop-signal', o.stopSignal);
  one('--stop-timeout', o.stopTimeout);
  many('--label', o.labels);
  // A pod's member gets its network and label from --pod.
  if (o.pod) one('--pod', o.pod);
  else one('--network', o.network);
  many('-p', o.publish);
  if (o.publishAll) a.push('-P');
  one('--platform', o.platform);
  many('--cap-add', o.capAdd);
  many('--cap-drop', o.capDrop);
  many('--security-opt', o.securityOpt);
  many('--log-opt', o.logOpt ?? []);
  const h = o.health ?? {};
  one('--health-cmd', h.cmd);
  one('--health-interval', h.interval);
  one('--health-timeout', h.timeout);
  one('--health-retries', h.retries);
  one('--health-start-period', h.startPeriod);
  one('--health-start-interval', h.startInterval);
  if (h.none) a.push('--no-healthcheck');
  return [...a, o.image ?? '', ...(o.command ?? [])];
}
