/**
 * `run`/`create` flags → the Docker API's create body: the reverse of the server's
 * api/create-body.ts, kept here in one place. Pure (the client's environment is given, for `-e NAME`
 * and --env-file as docker's CLI reads them on the client). A flag the API body cannot carry is
 * refused by name, never dropped: the container would not be what was asked for.
 */
import { TsctrError } from '../errors.js';
import { CREATE_FLAGS, parseEnv, type CreateOptions, type FlagDecl, type HostView } from '../container/options.js';
import { hostPortText, parsePublish } from '../net/ports.js';
import { parseBytes, parseDuration } from '../util/units.js';

type Obj = Record<string, unknown>;

/** The flags this mapping carries; any other one given is refused. */
const CARRIED = new Set<keyof CreateOptions>([
  'name', 'hostname', 'env', 'envFile', 'workdir', 'user', 'entrypoint', 'volume', 'tmpfs', 'readOnly', 'init', 'ulimit',
  'memory', 'cpus', 'pidsLimit', 'restart', 'stopSignal', 'stopTimeout', 'label', 'pull', 'tty', 'interactive', 'rm', 'network',
  'networkAlias', 'ip', 'dns', 'dnsSearch', 'dnsOption', 'addHost', 'publish', 'publishAll', 'platform', 'capAdd', 'capDrop',
  'logOpt', 'securityOpt', 'healthCmd', 'healthInterval', 'healthTimeout', 'healthRetries', 'healthStartPeriod',
  'healthStartInterval', 'noHealthcheck', 'detachKeys',
]);

/** Whether a flag has its default value (was not given). */
function isDefault(d: FlagDecl, v: unknown): boolean {
  if (d.kind === 'array') return Array.isArray(v) && v.length === 0;
  if (d.kind === 'boolean') return v === false || v === undefined;
  return v === undefined || v === (d.default ?? '') || v === d.default;
}

/** The long name of a flag, as the user knows it. */
const flagName = (d: FlagDecl) => d.names.split(',').find((n) => n.startsWith('--')) ?? d.names;

export function unsupportedFlags(o: CreateOptions): string[] {
  return Object.entries(CREATE_FLAGS as Record<string, FlagDecl>)
    .filter(([k, d]) => !CARRIED.has(k as keyof CreateOptions) && !isDefault(d, (o as unknown as Obj)[k]))
    .map(([, d]) => flagName(d));
}

/** Nanoseconds, the API's durations. */
const ns = (s: string | undefined, flag: string) => {
  if (!s) return undefined;
  try {
    return Math.round(parseDuration(s) * 1e6);
  } catch {
    throw new TsctrError(`invalid argument "${s}" for "${flag}" flag`);
  }
};

export interface RemoteCreate {
  body: Obj;
  /** `?name=`, `?platform=` */
  name?: string;
  platform?: string;
}

export function createBody(o: CreateOptions, host: Pick<HostView, 'env' | 'readFile'>): RemoteCreate {
  const unsupported = unsupportedFlags(o);
  if (unsupported.length) throw new TsctrError(`${unsupported.join(', ')} ${unsupported.length > 1 ? 'are' : 'is'} not supported with --url (remote)`);

  const body: Obj = { Image: o.image };
  const hc: Obj = {};
  if (o.hostname) body.Hostname = o.hostname;
  // -e NAME and --env-file are the client's, as docker's CLI reads them; the server gets K=V only.
  const env = parseEnv(o.env, o.envFile, { cwd: '/', env: host.env, readFile: host.readFile, exists: () => false, device: () => 'missing' });
  if (env.length) body.Env = env;
  if (o.workdir) body.WorkingDir = o.workdir;
  if (o.user) body.User = o.user;
  if (o.entrypoint !== undefined) body.Entrypoint = o.entrypoint === '' ? [''] : [o.entrypoint];
  if (o.command.length) body.Cmd = o.command;
  body.Tty = o.tty;
  if (o.interactive) Object.assign(body, { OpenStdin: true, AttachStdin: true, StdinOnce: true });
  if (o.label.length) {
    const labels: Record<string, string> = {};
    for (const l of o.label) {
      const i = l.indexOf('=');
      labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
    }
    body.Labels = labels;
  }
  if (o.stopSignal) body.StopSignal = o.stopSignal;
  if (o.stopTimeout) {
    const t = Number(o.stopTimeout);
    if (!Number.isInteger(t)) throw new TsctrError(`invalid argument "${o.stopTimeout}" for "--stop-timeout" flag`);
    body.StopTimeout = t;
  }
  if (o.noHealthcheck) body.Healthcheck = { Test: ['NONE'] };
  else if (o.healthCmd || o.healthInterval || o.healthTimeout || o.healthRetries || o.healthStartPeriod || o.healthStartInterval) {
    const retries = o.healthRetries ? Number(o.healthRetries) : undefined;
    if (retries !== undefined && !Number.isInteger(retries)) throw new TsctrError(`invalid argument "${o.healthRetries}" for "--health-retries" flag`);
    body.Healthcheck = {
      ...(o.healthCmd ? { Test: ['CMD-SHELL', o.healthCmd] } : {}),
      ...(o.healthInterval ? { Interval: ns(o.healthInterval, '--health-interval') } : {}),
      ...(o.healthTimeout ? { Timeout: ns(o.healthTimeout, '--health-timeout') } : {}),
      ...(o.healthStartPeriod ? { StartPeriod: ns(o.healthStartPeriod, '--health-start-period') } : {}),
      ...(o.healthStartInterval ? { StartInterval: ns(o.healthStartInterval, '--health-start-interval') } : {}),
      ...(retries !== undefined ? { Retries: retries } : {}),
    };
  }

  // Bind sources are paths on the remote machine: passed as typed.
  if (o.volume.length) hc.Binds = o.volume;
  if (o.tmpfs.length) {
    hc.Tmpfs = Object.fromEntries(o.tmpfs.map((t) => {
      const i = t.indexOf(':');
      return i < 0 ? [t, ''] : [t.slice(0, i), t.slice(i + 1)];
    }));
  }
  if (o.readOnly) hc.ReadonlyRootfs = true;
  if (o.init) hc.Init = true;
  if (o.rm) hc.AutoRemove = true;
  if (o.publishAll) hc.PublishAllPorts = true;
  if (o.memory) hc.Memory = parseBytes(o.memory);
  if (o.cpus) {
    const c = Number(o.cpus);
    if (!(c > 0)) throw new TsctrError(`invalid argument "${o.cpus}" for "--cpus" flag`);
    hc.NanoCpus = Math.round(c * 1e9);
  }
  if (o.pidsLimit) {
    const p = Number(o.pidsLimit);
    if (!Number.isInteger(p)) throw new TsctrError(`invalid argument "${o.pidsLimit}" for "--pids-limit" flag`);
    hc.PidsLimit = p;
  }
  if (o.restart) {
    const [name, max] = o.restart.split(':');
    hc.RestartPolicy = { Name: name, ...(max !== undefined ? { MaximumRetryCount: Number(max) } : {}) };
  }
  if (o.capAdd.length) hc.CapAdd = o.capAdd;
  if (o.capDrop.length) hc.CapDrop = o.capDrop;
  if (o.securityOpt.length) hc.SecurityOpt = o.securityOpt;
  if (o.dns.length) hc.Dns = o.dns;
  if (o.dnsSearch.length) hc.DnsSearch = o.dnsSearch;
  if (o.dnsOption.length) hc.DnsOptions = o.dnsOption;
  if (o.addHost.length) hc.ExtraHosts = o.addHost;
  if (o.ulimit.length) {
    hc.Ulimits = o.ulimit.map((u) => {
      const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(u);
      if (!m) throw new TsctrError(`invalid argument "${u}" for "--ulimit" flag`);
      return { Name: m[1], Soft: Number(m[2]), Hard: Number(m[3] ?? m[2]) };
    });
  }
  if (o.logOpt.length) {
    hc.LogConfig = { Type: '', Config: Object.fromEntries(o.logOpt.map((l) => [l.slice(0, l.indexOf('=') < 0 ? l.length : l.indexOf('=')), l.includes('=') ? l.slice(l.indexOf('=') + 1) : ''])) };
  }
  if (o.publish.length) {
    // No ExposedPorts (docker's CLI adds the published ones): tsctr's -p does not expose them either.
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const b of o.publish.flatMap(parsePublish)) {
      (bindings[`${b.containerPort}/${b.protocol}`] ??= []).push({ HostIp: b.hostIp, HostPort: hostPortText(b) });
    }
    hc.PortBindings = bindings;
  }
  if (o.network.length) {
    hc.NetworkMode = o.network[0];
    const endpoints: Obj = {};
    o.network.forEach((n, i) => {
      const ep: Obj = {};
      if (i === 0 && o.networkAlias.length) ep.Aliases = o.networkAlias;
      if (i === 0 && o.ip) ep.IPAMConfig = { IPv4Address: o.ip };
      endpoints[n] = ep;
    });
    body.NetworkingConfig = { EndpointsConfig: endpoints };
  } else if (o.networkAlias.length || o.ip) throw new TsctrError('--network-alias and --ip need a --network');
  body.HostConfig = hc;
  return { body, ...(o.name ? { name: o.name } : {}), ...(o.platform ? { platform: o.platform } : {}) };
}
