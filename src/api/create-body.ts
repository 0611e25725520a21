/**
 * `POST /containers/create`: docker's JSON body → the typed ContainerSpec, as a pure function
 * (no store, no disk: the image's configuration and the host view are given). The body becomes
 * the create flags it stands for and goes through the same buildContainerSpec as `tsctr create`,
 * so every check and override rule is the CLI's; what a flag cannot say (Entrypoint and Cmd as
 * arrays, an exec-form health test) is set on the spec afterwards and checked again.
 */
import { buildContainerSpec, checkSpec } from '../container/container-spec.js';
import { defaultCreateOptions, type CreateOptions, type HostView } from '../container/options.js';
import type { ContainerSpec } from '../container/types.js';
import type { ContainerConfig as ImageRunConfig } from '../image/types.js';
import { badRequest } from './errors.js';
import { consoleSize } from './http.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function field<T>(o: Obj, key: string, kind: 'string' | 'number' | 'boolean' | 'array' | 'object'): T | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  const ok = kind === 'array' ? Array.isArray(v) : kind === 'object' ? isObj(v) : typeof v === kind;
  if (!ok) throw badRequest(`invalid ${key}: expected ${kind === 'array' ? 'an array' : kind === 'object' ? 'an object' : `a ${kind}`}`);
  return v as T;
}

function strings(o: Obj, key: string): string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw badRequest(`invalid ${key}: expected a list of strings`);
  return v as string[];
}

/** Nanoseconds (the API's durations) as a flag's duration. */
const nsDuration = (ns: number | undefined) => (ns === undefined || ns === 0 ? undefined : `${ns / 1e6}ms`);

/** What the body says the image's command is: undefined (the image's), or the given words. */
function words(o: Obj, key: string): string[] | undefined {
  const w = strings(o, key);
  return w === undefined ? undefined : w;
}

export interface BodyInput {
  /** `?name=` */
  name?: string;
  /** `?platform=` */
  platform?: string;
  body: unknown;
}

/** The body's image reference (the image must be resolved before the spec is built). */
export function bodyImage(body: unknown): string {
  if (!isObj(body)) throw badRequest('the request body must be a JSON object');
  const image = body.Image;
  if (typeof image !== 'string' || !image) throw badRequest('Config.Image is required');
  return image;
}

/** The create flags a body stands for (everything a flag can say). */
export function createOptionsOf(input: BodyInput): CreateOptions {
  const b = input.body;
  if (!isObj(b)) throw badRequest('the request body must be a JSON object');
  const o = defaultCreateOptions(bodyImage(b));
  const hc = field<Obj>(b, 'HostConfig', 'object') ?? {};
  const nc = field<Obj>(b, 'NetworkingConfig', 'object') ?? {};
  o.detach = true;
  o.pull = 'never';
  if (input.name) o.name = input.name;
  if (input.platform) o.platform = input.platform;

  const hostname = field<string>(b, 'Hostname', 'string');
  if (hostname) o.hostname = hostname;
  o.env = strings(b, 'Env') ?? [];
  // An entry without '=' would copy the server's environment (the CLI's -e NAME): not through the API.
  o.env = o.env.filter((e) => e.includes('='));
  const wd = field<string>(b, 'WorkingDir', 'string');
  if (wd) o.workdir = wd;
  const user = field<string>(b, 'User', 'string');
  if (user) o.user = user;
  o.tty = field<boolean>(b, 'Tty', 'boolean') ?? false;
  o.interactive = field<boolean>(b, 'OpenStdin', 'boolean') ?? false;
  const labels = field<Obj>(b, 'Labels', 'object') ?? {};
  o.label = Object.entries(labels).map(([k, v]) => `${k}=${String(v ?? '')}`);
  const stopSignal = field<string>(b, 'StopSignal', 'string');
  if (stopSignal) o.stopSignal = stopSignal;
  const stopTimeout = field<number>(b, 'StopTimeout', 'number');
  if (stopTimeout !== undefined) o.stopTimeout = String(stopTimeout);

  const health = field<Obj>(b, 'Healthcheck', 'object');
  if (health) {
    const test = strings(health, 'Test') ?? [];
    if (test[0] === 'NONE') o.noHealthcheck = true;
    else {
      // CMD's exec form: a placeholder here, the words set on the spec (specFromBody).
      if (test[0] === 'CMD-SHELL' || test[0] === 'CMD') o.healthCmd = test.slice(1).join(' ');
      o.healthInterval = nsDuration(field<number>(health, 'Interval', 'number'));
      o.healthTimeout = nsDuration(field<number>(health, 'Timeout', 'number'));
      o.healthStartPeriod = nsDuration(field<number>(health, 'StartPeriod', 'number'));
      o.healthStartInterval = nsDuration(field<number>(health, 'StartInterval', 'number'));
      const retries = field<number>(health, 'Retries', 'number');
      if (retries) o.healthRetries = String(retries);
    }
  }

  // HostConfig
  if (field<boolean>(hc, 'Privileged', 'boolean')) throw badRequest('privileged containers are not supported by tsctr (rootless)');
  o.volume = strings(hc, 'Binds') ?? [];
  for (const m of field<unknown[]>(hc, 'Mounts', 'array') ?? []) {
    if (!isObj(m)) throw badRequest('invalid HostConfig.Mounts: expected objects');
    const type = field<string>(m, 'Type', 'string') ?? 'volume';
    const target = field<string>(m, 'Target', 'string') ?? '';
    const source = field<string>(m, 'Source', 'string') ?? '';
    if ([type, target, source].some((s) => s.includes('"'))) throw badRequest('invalid HostConfig.Mounts: a double quote in a mount field');
    const parts = [`type=${type}`, `target="${target}"`];
    if (source) parts.push(`source="${source}"`);
    if (field<boolean>(m, 'ReadOnly', 'boolean')) parts.push('readonly=true');
    const tmpfs = field<Obj>(m, 'TmpfsOptions', 'object');
    const size = tmpfs && field<number>(tmpfs, 'SizeBytes', 'number');
    if (size) parts.push(`tmpfs-size=${size}`);
    const mode = tmpfs && field<number>(tmpfs, 'Mode', 'number');
    if (mode) parts.push(`tmpfs-mode=${mode.toString(8)}`);
    o.mount.push(parts.join(','));
  }
  const tmpfs = field<Obj>(hc, 'Tmpfs', 'object') ?? {};
  o.tmpfs = Object.entries(tmpfs).map(([p, opts]) => (opts ? `${p}:${String(opts)}` : p));
  o.readOnly = field<boolean>(hc, 'ReadonlyRootfs', 'boolean') ?? false;
  o.init = field<boolean>(hc, 'Init', 'boolean') ?? false;
  o.rm = field<boolean>(hc, 'AutoRemove', 'boolean') ?? false;
  o.publishAll = field<boolean>(hc, 'PublishAllPorts', 'boolean') ?? false;
  const memory = field<number>(hc, 'Memory', 'number');
  if (memory) o.memory = String(memory);
  const nanoCpus = field<number>(hc, 'NanoCpus', 'number');
  if (nanoCpus) o.cpus = String(nanoCpus / 1e9);
  const pids = field<number>(hc, 'PidsLimit', 'number');
  if (pids && pids > 0) o.pidsLimit = String(pids);
  o.capAdd = strings(hc, 'CapAdd') ?? [];
  o.capDrop = strings(hc, 'CapDrop') ?? [];
  o.securityOpt = strings(hc, 'SecurityOpt') ?? [];
  o.dns = strings(hc, 'Dns') ?? [];
  o.dnsSearch = strings(hc, 'DnsSearch') ?? [];
  o.dnsOption = strings(hc, 'DnsOptions') ?? [];
  o.addHost = strings(hc, 'ExtraHosts') ?? [];
  for (const u of field<unknown[]>(hc, 'Ulimits', 'array') ?? []) {
    if (!isObj(u)) throw badRequest('invalid HostConfig.Ulimits: expected objects');
    o.ulimit.push(`${String(u.Name)}=${Number(u.Soft)}:${Number(u.Hard)}`);
  }
  const log = field<Obj>(hc, 'LogConfig', 'object');
  const logConfig = log && field<Obj>(log, 'Config', 'object');
  if (logConfig) o.logOpt = Object.entries(logConfig).map(([k, v]) => `${k}=${String(v)}`);
  const restart = field<Obj>(hc, 'RestartPolicy', 'object');
  const policy = restart && field<string>(restart, 'Name', 'string');
  if (policy && policy !== 'no') {
    const max = field<number>(restart, 'MaximumRetryCount', 'number');
    o.restart = policy === 'on-failure' && max ? `on-failure:${max}` : policy;
  }
  const portBindings = field<Obj>(hc, 'PortBindings', 'object') ?? {};
  for (const [port, list] of Object.entries(portBindings)) {
    const [num, proto = 'tcp'] = port.split('/');
    if (!/^\d+(-\d+)?$/.test(num ?? '')) throw badRequest(`invalid port "${port}" in HostConfig.PortBindings`);
    const bindings = Array.isArray(list) && list.length ? list : [{}];
    for (const pb of bindings) {
      if (!isObj(pb)) throw badRequest('invalid HostConfig.PortBindings: expected objects');
      const ip = field<string>(pb, 'HostIp', 'string') ?? '';
      const hp = field<string>(pb, 'HostPort', 'string') ?? '';
      if (hp && !/^\d+(-\d+)?$/.test(hp)) throw badRequest(`invalid host port "${hp}" in HostConfig.PortBindings`);
      const host = ip ? `${ip.includes(':') ? `[${ip}]` : ip}:${hp}:` : hp ? `${hp}:` : '';
      o.publish.push(`${host}${num}/${proto}`);
    }
  }

  // Networks: HostConfig.NetworkMode, then NetworkingConfig's endpoints (aliases, a fixed address).
  const mode = field<string>(hc, 'NetworkMode', 'string') ?? '';
  const endpoints = field<Obj>(nc, 'EndpointsConfig', 'object') ?? {};
  const nets: string[] = [];
  if (mode && mode !== 'default') nets.push(mode);
  for (const [net, ep] of Object.entries(endpoints)) {
    if (!nets.includes(net)) nets.push(net);
    if (!isObj(ep)) continue;
    o.networkAlias.push(...(strings(ep, 'Aliases') ?? []));
    const ipam = field<Obj>(ep, 'IPAMConfig', 'object');
    const ip = ipam && field<string>(ipam, 'IPv4Address', 'string');
    if (ip) o.ip = ip;
  }
  o.network = nets;
  return o;
}

/** The whole conversion: the flags' spec, with the body's array forms of Entrypoint, Cmd and a health test. */
export function specFromBody(input: BodyInput, img: ImageRunConfig, host: HostView): ContainerSpec {
  const b = input.body as Obj;
  const o = createOptionsOf(input);
  const entrypoint = words(b, 'Entrypoint');
  const cmd = words(b, 'Cmd');
  // A placeholder entrypoint keeps buildContainerSpec's rule (an entrypoint drops the image's Cmd);
  // the real words are set below.
  if (entrypoint !== undefined) o.entrypoint = entrypoint.length && entrypoint.some((w) => w !== '') ? entrypoint[0]! : '';
  o.command = cmd ?? [];
  if (entrypoint === undefined && (cmd === undefined || cmd.length === 0) && !(img.Entrypoint?.length || img.Cmd?.length)) {
    throw badRequest('no command specified');
  }
  const spec = buildContainerSpec(o, img, host);
  if (entrypoint !== undefined) spec.entrypoint = entrypoint.some((w) => w !== '') ? entrypoint : null;
  const health = isObj(b.Healthcheck) ? (strings(b.Healthcheck, 'Test') ?? []) : [];
  if (health[0] === 'CMD' && spec.healthcheck) spec.healthcheck = { ...spec.healthcheck, Test: health };
  const exposed = isObj(b.ExposedPorts) ? Object.keys(b.ExposedPorts) : [];
  if (exposed.length) spec.exposedPorts = [...new Set([...spec.exposedPorts, ...exposed])];
  const size = consoleSize(isObj(b.HostConfig) ? b.HostConfig.ConsoleSize : undefined);
  if (size) spec.consoleSize = size;
  checkSpec(spec);
  return spec;
}

