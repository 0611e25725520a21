/**
 * The merged, validated tree of a compose project turned into the typed model (model.ts): short and
 * long syntax to one shape, relative paths resolved against the project directory, durations to
 * milliseconds, sizes to bytes, `env_file` read, references between services, networks, volumes,
 * configs and secrets checked. The schema already checked the types, so what is left to check here
 * is what a schema cannot say (a port range, a duration, a reference).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseBytes, parseDuration } from '../util/units.js';
import { errorMessage } from '../errors.js';
import { ComposeError } from './errors.js';
import { readEnvFile } from './env-file.js';
import type { Lookup } from './interpolate.js';
import type {
  Build,
  Dependency,
  DependsCondition,
  Deploy,
  EnvFile,
  FileObject,
  FileReference,
  Healthcheck,
  Limits,
  Network,
  Port,
  Project,
  Protocol,
  Service,
  ServiceNetwork,
  ServiceVolume,
  Ulimit,
  Volume,
} from './model.js';
import { isMap, type Tree } from './tree.js';

// ---- scalars ------------------------------------------------------------------------------------

const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

function bool(v: unknown, where: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (['true', '1', 'yes', 'y', 'on'].includes(s)) return true;
  if (['false', '0', 'no', 'n', 'off', ''].includes(s)) return false;
  throw new ComposeError(`${where}: invalid boolean value ${JSON.stringify(v)}`);
}

function num(v: unknown, where: string, integer = true): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new ComposeError(`${where}: invalid ${integer ? 'integer' : 'number'} ${JSON.stringify(v)}`);
  return n;
}

/** A duration in milliseconds: a Go duration string (`1m30s`); a bare number is taken as seconds. */
function duration(v: unknown, where: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number') return v * 1000;
  try {
    const ms = parseDuration(String(v).trim());
    if (ms < 0) throw new ComposeError(`${where}: negative duration ${JSON.stringify(v)}`);
    return ms;
  } catch (err) {
    if (err instanceof ComposeError) throw err;
    throw new ComposeError(`${where}: ${errorMessage(err)}`);
  }
}

function bytes(v: unknown, where: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number') return v;
  try {
    return parseBytes(String(v).trim());
  } catch (err) {
    throw new ComposeError(`${where}: ${errorMessage(err)}`);
  }
}

function strings(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => String(x));
}

/** `["A=1", "B"]` or `{A: 1, B: null}`; a name without a value takes `unset(name)`, left out when undefined. */
function keyValues(v: unknown, unset: (name: string) => string | undefined = () => undefined, sep = '='): Record<string, string> {
  const out: Record<string, string> = {};
  const set = (k: string, val: string | undefined) => {
    if (val !== undefined) Object.defineProperty(out, k, { value: val, enumerable: true, writable: true, configurable: true });
  };
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = String(item);
      const i = s.indexOf(sep);
      if (i < 0) set(s, unset(s));
      else set(s.slice(0, i), s.slice(i + 1));
    }
  } else if (isMap(v)) {
    for (const [k, val] of Object.entries(v)) set(k, val === null || val === undefined ? unset(k) : String(val));
  }
  return out;
}

/** Object.assign without setters: a variable named `__proto__` is a variable. */
function assignOwn(target: Record<string, string>, source: Record<string, string>): void {
  for (const [k, v] of Object.entries(source)) Object.defineProperty(target, k, { value: v, enumerable: true, writable: true, configurable: true });
}

// ---- shell words --------------------------------------------------------------------------------

/** A command line split into words as a POSIX shell does, quotes and backslashes removed, nothing expanded. */
export function shellSplit(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new ComposeError(`invalid command line string: unterminated quote in ${JSON.stringify(s)}`);
      cur += s.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '\\' && j + 1 < s.length && '"\\$`\n'.includes(s[j + 1]!)) j++;
        cur += s[j];
      }
      if (j >= s.length) throw new ComposeError(`invalid command line string: unterminated quote in ${JSON.stringify(s)}`);
      i = j;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 < s.length) {
        if (s[i + 1] !== '\n') cur += s[i + 1];
        i++;
      }
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

function commandLine(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map((x) => String(x));
  return shellSplit(String(v));
}

// ---- ports --------------------------------------------------------------------------------------

function range(s: string, where: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new ComposeError(`${where}: invalid port ${JSON.stringify(s)}`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a < 0 || b > 65535 || b < a) throw new ComposeError(`${where}: invalid port range ${JSON.stringify(s)}`);
  return [a, b];
}

function protocol(p: string | undefined, where: string): Protocol {
  const v = (p ?? 'tcp').toLowerCase();
  if (v !== 'tcp' && v !== 'udp' && v !== 'sctp') throw new ComposeError(`${where}: invalid protocol ${JSON.stringify(p)}`);
  return v;
}

/** `[[IP:]HOST:]CONTAINER[/PROTO]`, ranges on either side, expanded to one entry per container port. */
export function parsePortSpec(spec: string, where = 'ports'): Port[] {
  const slash = spec.lastIndexOf('/');
  const proto = protocol(slash >= 0 ? spec.slice(slash + 1) : undefined, where);
  const body = slash >= 0 ? spec.slice(0, slash) : spec;
  const c = body.lastIndexOf(':');
  const container = body.slice(c + 1);
  let host = '';
  let ip: string | undefined;
  if (c >= 0) {
    const rest = body.slice(0, c);
    const h = rest.lastIndexOf(':');
    host = rest.slice(h + 1);
    if (h >= 0) ip = rest.slice(0, h).replace(/^\[(.*)\]$/, '$1') || undefined;
  }
  const [c0, c1] = range(container, where);
  if (c0 === 0) throw new ComposeError(`${where}: invalid container port ${JSON.stringify(spec)}`);
  const base = { protocol: proto, mode: 'ingress', ...(ip ? { host_ip: ip } : {}) };
  if (!host) {
    const out: Port[] = [];
    for (let p = c0; p <= c1; p++) out.push({ target: p, ...base });
    return out;
  }
  const [h0, h1] = range(host, where);
  if (c0 === c1) return [{ target: c0, published: h0 === h1 ? String(h0) : `${h0}-${h1}`, ...base }];
  if (h1 - h0 !== c1 - c0) throw new ComposeError(`${where}: invalid ranges specified for container and host ports: ${JSON.stringify(spec)}`);
  const out: Port[] = [];
  for (let i = 0; i <= c1 - c0; i++) out.push({ target: c0 + i, published: String(h0 + i), ...base });
  return out;
}

function ports(v: unknown, where: string): Port[] {
  const out: Port[] = [];
  for (const [i, p] of (Array.isArray(v) ? v : []).entries()) {
    const here = `${where}[${i}]`;
    if (typeof p === 'number' || typeof p === 'string') {
      out.push(...parsePortSpec(String(p), here));
      continue;
    }
    if (!isMap(p)) continue;
    const target = num(p.target, `${here}.target`);
    if (!target || target > 65535) throw new ComposeError(`${here}.target: invalid container port ${JSON.stringify(p.target)}`);
    const published = str(p.published);
    if (published) range(published, `${here}.published`);
    out.push({
      target,
      ...(published ? { published } : {}),
      ...(str(p.host_ip) ? { host_ip: str(p.host_ip)! } : {}),
      protocol: protocol(str(p.protocol), here),
      mode: str(p.mode) ?? 'ingress',
      ...(str(p.name) ? { name: str(p.name)! } : {}),
      ...(str(p.app_protocol) ? { app_protocol: str(p.app_protocol)! } : {}),
    });
  }
  return out;
}

/** What makes two port entries the same for merging: {ip, target, published, protocol}. */
export function portKey(raw: unknown): string | undefined {
  try {
    const list = typeof raw === 'string' || typeof raw === 'number' ? parsePortSpec(String(raw)) : ports([raw], 'ports');
    return JSON.stringify(list.map((p) => [p.host_ip ?? '', p.target, p.published ?? '', p.protocol]));
  } catch {
    return undefined;
  }
}

// ---- volumes ------------------------------------------------------------------------------------

const PROPAGATION = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);

interface PathContext {
  workingDir: string;
  home: string;
}

function hostPath(p: string, ctx: PathContext): string {
  if (p === '~' || p.startsWith('~/')) return path.join(ctx.home, p.slice(1));
  return path.resolve(ctx.workingDir, p);
}

const isPathSource = (s: string) => s.startsWith('.') || s.startsWith('/') || s.startsWith('~');

/** `TARGET`, `SOURCE:TARGET[:MODE,...]`; a source that starts with `.`, `/` or `~` is a bind mount. */
export function parseVolumeSpec(spec: string, ctx: PathContext, where = 'volumes'): ServiceVolume {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw new ComposeError(`${where}: invalid volume specification ${JSON.stringify(spec)}`);
  if (parts.length === 1) return { type: 'volume', target: parts[0]!, read_only: false };
  const [source, target, mode = ''] = parts as [string, string, string?];
  const opts = mode ? mode.split(',') : [];
  const v: ServiceVolume = { type: isPathSource(source) ? 'bind' : 'volume', source, target, read_only: false };
  if (v.type === 'bind') {
    v.source = hostPath(source, ctx);
    v.bind = { create_host_path: true };
  }
  for (const o of opts) {
    if (o === 'ro') v.read_only = true;
    else if (o === 'rw') v.read_only = false;
    else if (o === 'z' || o === 'Z') v.bind = { ...v.bind, selinux: o };
    else if (PROPAGATION.has(o)) v.bind = { ...v.bind, propagation: o };
    else if (o === 'nocopy') v.volume = { nocopy: true };
    else if (o === 'consistent' || o === 'cached' || o === 'delegated') v.consistency = o;
    else throw new ComposeError(`${where}: invalid mode ${JSON.stringify(o)} in ${JSON.stringify(spec)}`);
  }
  return v;
}

function longVolume(p: Tree, ctx: PathContext, where: string): ServiceVolume {
  const type = (str(p.type) ?? 'volume') as ServiceVolume['type'];
  const target = str(p.target);
  if (!target) throw new ComposeError(`${where}.target: a mount needs a target`);
  const v: ServiceVolume = { type, target, read_only: bool(p.read_only, `${where}.read_only`) ?? false };
  const source = str(p.source);
  if (source) v.source = type === 'bind' ? hostPath(source, ctx) : source;
  if (type === 'bind' && !source) throw new ComposeError(`${where}.source: a bind mount needs a source`);
  if (str(p.consistency)) v.consistency = str(p.consistency);
  if (isMap(p.bind)) {
    const b = p.bind;
    v.bind = {
      ...(str(b.propagation) ? { propagation: str(b.propagation) } : {}),
      ...(b.create_host_path !== undefined ? { create_host_path: bool(b.create_host_path, `${where}.bind.create_host_path`) } : {}),
      ...(str(b.selinux) ? { selinux: str(b.selinux) as 'z' | 'Z' } : {}),
    };
  }
  if (isMap(p.volume)) {
    v.volume = {
      ...(p.volume.nocopy !== undefined ? { nocopy: bool(p.volume.nocopy, `${where}.volume.nocopy`) } : {}),
      ...(str(p.volume.subpath) ? { subpath: str(p.volume.subpath) } : {}),
    };
  }
  if (isMap(p.tmpfs)) {
    v.tmpfs = {
      ...(p.tmpfs.size !== undefined ? { size: bytes(p.tmpfs.size, `${where}.tmpfs.size`) } : {}),
      ...(p.tmpfs.mode !== undefined ? { mode: num(p.tmpfs.mode, `${where}.tmpfs.mode`) } : {}),
    };
  }
  if (isMap(p.image) && str(p.image.subpath)) v.image = { subpath: str(p.image.subpath) };
  return v;
}

/** The container path of a `volumes:` entry (its identity when merging files). */
export function volumeTarget(raw: unknown): string | undefined {
  if (isMap(raw)) return str(raw.target);
  if (typeof raw !== 'string') return undefined;
  const parts = raw.split(':');
  return parts.length === 1 ? parts[0] : parts[1];
}

// ---- the project --------------------------------------------------------------------------------

export interface NormalizeContext {
  name: string;
  workingDir: string;
  configFiles: string[];
  environment: Record<string, string>;
  profiles: string[];
  warnings: string[];
}

/** The keys of a service that the model types; any other valid key goes to `extra`. */
const TYPED = new Set([
  'image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'expose', 'volumes', 'networks',
  'network_mode', 'depends_on', 'healthcheck', 'restart', 'deploy', 'scale', 'user', 'working_dir', 'hostname',
  'domainname', 'labels', 'init', 'privileged', 'tty', 'stdin_open', 'stop_signal', 'stop_grace_period', 'cap_add',
  'cap_drop', 'read_only', 'tmpfs', 'extra_hosts', 'dns', 'dns_search', 'dns_opt', 'ulimits', 'logging',
  'container_name', 'profiles', 'configs', 'secrets', 'mem_limit', 'cpus', 'pids_limit', 'shm_size', 'sysctls',
  'security_opt', 'devices', 'pid', 'ipc', 'platform', 'pull_policy', 'links',
]);
/** deploy keys the model types; others are reported as unsupported. */
const DEPLOY_TYPED = new Set(['replicas', 'mode', 'resources', 'restart_policy', 'labels']);

export function normalizeProject(tree: Tree, ctx: NormalizeContext): Project {
  const env = ctx.environment;
  const lookup: Lookup = (n) => (Object.prototype.hasOwnProperty.call(env, n) ? env[n] : undefined);
  const pctx: PathContext = { workingDir: ctx.workingDir, home: env.HOME ?? os.homedir() };
  const unsupported: string[] = [];
  for (const k of Object.keys(tree)) {
    if (!['version', 'name', 'services', 'networks', 'volumes', 'configs', 'secrets'].includes(k) && !k.startsWith('x-')) unsupported.push(k);
  }
  if (tree.version !== undefined) ctx.warnings.push('the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion');

  const project: Project = {
    name: ctx.name,
    working_dir: ctx.workingDir,
    config_files: ctx.configFiles,
    services: {},
    disabled_services: {},
    networks: {},
    volumes: {},
    configs: {},
    secrets: {},
    profiles: ctx.profiles,
    environment: env,
    warnings: ctx.warnings,
    unsupported,
  };

  for (const [key, raw] of Object.entries(isMap(tree.networks) ? tree.networks : {})) project.networks[key] = network(key, raw, ctx.name);
  for (const [key, raw] of Object.entries(isMap(tree.volumes) ? tree.volumes : {})) project.volumes[key] = volume(key, raw, ctx.name);
  for (const [key, raw] of Object.entries(isMap(tree.configs) ? tree.configs : {})) project.configs[key] = fileObject(key, raw, ctx.name, pctx, `configs.${key}`);
  for (const [key, raw] of Object.entries(isMap(tree.secrets) ? tree.secrets : {})) project.secrets[key] = fileObject(key, raw, ctx.name, pctx, `secrets.${key}`);

  const all: Service[] = [];
  for (const [name, raw] of Object.entries(isMap(tree.services) ? tree.services : {})) {
    all.push(service(name, isMap(raw) ? raw : {}, lookup, pctx, unsupported));
  }
  const active = new Set(ctx.profiles);
  const all_ = active.has('*');
  for (const s of all) {
    const enabled = s.profiles.length === 0 || all_ || s.profiles.some((p) => active.has(p));
    (enabled ? project.services : project.disabled_services)[s.name] = s;
  }
  checkReferences(project);
  // The project network every service joins unless it says otherwise.
  const usesDefault = Object.values(project.services).some((s) => 'default' in s.networks);
  if (usesDefault && !project.networks.default) project.networks.default = network('default', {}, ctx.name);
  return project;
}

function network(key: string, raw: unknown, projectName: string): Network {
  const n = isMap(raw) ? raw : {};
  const external = externalFlag(n.external);
  const ipam = isMap(n.ipam) ? n.ipam : {};
  return {
    name: str(n.name) ?? externalName(n.external) ?? (external ? key : `${projectName}_${key}`),
    ...(str(n.driver) ? { driver: str(n.driver) } : {}),
    driver_opts: keyValues(n.driver_opts),
    internal: bool(n.internal, `networks.${key}.internal`) ?? false,
    external,
    ...(n.enable_ipv6 !== undefined ? { enable_ipv6: bool(n.enable_ipv6, `networks.${key}.enable_ipv6`) } : {}),
    ...(n.attachable !== undefined ? { attachable: bool(n.attachable, `networks.${key}.attachable`) } : {}),
    ipam: {
      ...(str(ipam.driver) ? { driver: str(ipam.driver) } : {}),
      config: (Array.isArray(ipam.config) ? ipam.config : []).filter(isMap).map((c) => ({
        ...(str(c.subnet) ? { subnet: str(c.subnet) } : {}),
        ...(str(c.gateway) ? { gateway: str(c.gateway) } : {}),
        ...(str(c.ip_range) ? { ip_range: str(c.ip_range) } : {}),
        ...(isMap(c.aux_addresses) ? { aux_addresses: keyValues(c.aux_addresses) } : {}),
      })),
    },
    labels: keyValues(n.labels),
  };
}

/** `external: true`, or the old `external: {name: x}`. */
function externalFlag(v: unknown): boolean {
  if (isMap(v)) return true;
  return v === true || v === 'true';
}

function externalName(v: unknown): string | undefined {
  return isMap(v) ? str(v.name) : undefined;
}

function volume(key: string, raw: unknown, projectName: string): Volume {
  const v = isMap(raw) ? raw : {};
  const external = externalFlag(v.external);
  return {
    name: str(v.name) ?? externalName(v.external) ?? (external ? key : `${projectName}_${key}`),
    ...(str(v.driver) ? { driver: str(v.driver) } : {}),
    driver_opts: keyValues(v.driver_opts),
    external,
    labels: keyValues(v.labels),
  };
}

function fileObject(key: string, raw: unknown, projectName: string, ctx: PathContext, where: string): FileObject {
  const v = isMap(raw) ? raw : {};
  const external = externalFlag(v.external);
  const o: FileObject = { name: str(v.name) ?? (external ? key : `${projectName}_${key}`), external, labels: keyValues(v.labels) };
  if (str(v.file)) o.file = hostPath(str(v.file)!, ctx);
  if (str(v.environment)) o.environment = str(v.environment);
  if (v.content !== undefined && v.content !== null) o.content = String(v.content);
  if (!external && o.file === undefined && o.environment === undefined && o.content === undefined) {
    throw new ComposeError(`${where}: one of file, environment or content is needed`);
  }
  return o;
}

function service(name: string, s: Tree, lookup: Lookup, ctx: PathContext, unsupported: string[]): Service {
  const at = (k: string) => `services.${name}.${k}`;
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) if (!TYPED.has(k) && !k.startsWith('x-')) Object.defineProperty(extra, k, { value: v, enumerable: true, writable: true, configurable: true });

  const envFiles = envFileList(s.env_file, ctx);
  const environment: Record<string, string> = {};
  for (const f of envFiles) {
    if (!f.required && !fileExists(f.path)) continue;
    assignOwn(environment, readEnvFile(f.path, lookup));
  }
  assignOwn(environment, keyValues(s.environment, lookup));

  const out: Service = {
    name,
    ...(str(s.image) ? { image: str(s.image) } : {}),
    ...(s.build !== undefined && s.build !== null ? { build: build(s.build, lookup, ctx, at('build')) } : {}),
    ...(commandLine(s.command) ? { command: commandLine(s.command) } : {}),
    ...(commandLine(s.entrypoint) ? { entrypoint: commandLine(s.entrypoint) } : {}),
    environment,
    env_file: envFiles,
    ports: ports(s.ports, at('ports')),
    expose: strings(s.expose),
    volumes: (Array.isArray(s.volumes) ? s.volumes : []).map((v, i) =>
      isMap(v) ? longVolume(v, ctx, `${at('volumes')}[${i}]`) : parseVolumeSpec(String(v), ctx, `${at('volumes')}[${i}]`),
    ),
    networks: serviceNetworks(s.networks, s.network_mode),
    ...(str(s.network_mode) ? { network_mode: str(s.network_mode) } : {}),
    depends_on: dependsOn(s.depends_on, at('depends_on')),
    ...(isMap(s.healthcheck) ? { healthcheck: healthcheck(s.healthcheck, at('healthcheck')) } : {}),
    ...(str(s.restart) ? { restart: str(s.restart) } : {}),
    ...(isMap(s.deploy) ? { deploy: deploy(s.deploy, at('deploy'), unsupported) } : {}),
    ...(num(s.scale, at('scale')) !== undefined ? { scale: num(s.scale, at('scale')) } : {}),
    ...(str(s.user) ? { user: str(s.user) } : {}),
    ...(str(s.working_dir) ? { working_dir: str(s.working_dir) } : {}),
    ...(str(s.hostname) ? { hostname: str(s.hostname) } : {}),
    ...(str(s.domainname) ? { domainname: str(s.domainname) } : {}),
    labels: keyValues(s.labels),
    ...(bool(s.init, at('init')) !== undefined ? { init: bool(s.init, at('init')) } : {}),
    ...(bool(s.privileged, at('privileged')) !== undefined ? { privileged: bool(s.privileged, at('privileged')) } : {}),
    ...(bool(s.tty, at('tty')) !== undefined ? { tty: bool(s.tty, at('tty')) } : {}),
    ...(bool(s.stdin_open, at('stdin_open')) !== undefined ? { stdin_open: bool(s.stdin_open, at('stdin_open')) } : {}),
    ...(str(s.stop_signal) ? { stop_signal: str(s.stop_signal) } : {}),
    ...(duration(s.stop_grace_period, at('stop_grace_period')) !== undefined ? { stop_grace_period: duration(s.stop_grace_period, at('stop_grace_period')) } : {}),
    cap_add: strings(s.cap_add),
    cap_drop: strings(s.cap_drop),
    ...(bool(s.read_only, at('read_only')) !== undefined ? { read_only: bool(s.read_only, at('read_only')) } : {}),
    tmpfs: strings(s.tmpfs),
    extra_hosts: extraHosts(s.extra_hosts),
    dns: strings(s.dns),
    dns_search: strings(s.dns_search),
    dns_opt: strings(s.dns_opt),
    ulimits: ulimits(s.ulimits, at('ulimits')),
    ...(isMap(s.logging) ? { logging: { ...(str(s.logging.driver) ? { driver: str(s.logging.driver) } : {}), options: keyValues(s.logging.options) } } : {}),
    ...(str(s.container_name) ? { container_name: str(s.container_name) } : {}),
    profiles: strings(s.profiles),
    configs: references(s.configs, (src) => `/${src}`, (t) => (t.startsWith('/') ? t : `/${t}`)),
    secrets: references(s.secrets, (src) => `/run/secrets/${src}`, (t) => (t.startsWith('/') ? t : `/run/secrets/${t}`)),
    ...(bytes(s.mem_limit, at('mem_limit')) !== undefined ? { mem_limit: bytes(s.mem_limit, at('mem_limit')) } : {}),
    ...(num(s.cpus, at('cpus'), false) !== undefined ? { cpus: num(s.cpus, at('cpus'), false) } : {}),
    ...(num(s.pids_limit, at('pids_limit')) !== undefined ? { pids_limit: num(s.pids_limit, at('pids_limit')) } : {}),
    ...(bytes(s.shm_size, at('shm_size')) !== undefined ? { shm_size: bytes(s.shm_size, at('shm_size')) } : {}),
    sysctls: keyValues(s.sysctls),
    security_opt: strings(s.security_opt),
    devices: (Array.isArray(s.devices) ? s.devices : []).map((d) =>
      isMap(d) ? [str(d.source), str(d.target) ?? str(d.source), str(d.permissions)].filter((x) => x !== undefined).join(':') : String(d),
    ),
    ...(str(s.pid) ? { pid: str(s.pid) } : {}),
    ...(str(s.ipc) ? { ipc: str(s.ipc) } : {}),
    ...(str(s.platform) ? { platform: str(s.platform) } : {}),
    ...(str(s.pull_policy) ? { pull_policy: str(s.pull_policy) } : {}),
    links: strings(s.links),
    extra,
  };
  if (!out.image && !out.build) throw new ComposeError(`service "${name}" has neither an image nor a build context specified: invalid compose project`);
  return out;
}

function fileExists(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function envFileList(v: unknown, ctx: PathContext): EnvFile[] {
  const list = v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
  return list.map((e) =>
    isMap(e) ? { path: hostPath(String(e.path), ctx), required: bool(e.required, 'env_file.required') ?? true } : { path: hostPath(String(e), ctx), required: true },
  );
}

function build(v: unknown, lookup: Lookup, ctx: PathContext, where: string): Build {
  const b: Tree = isMap(v) ? v : { context: v };
  const rawContext = str(b.context) ?? '.';
  const remote = /^[a-z][a-z0-9+.-]*:\/\//i.test(rawContext) || rawContext.startsWith('git@');
  const out: Build = {
    context: remote ? rawContext : hostPath(rawContext, ctx),
    args: keyValues(b.args, lookup),
    labels: keyValues(b.labels),
  };
  if (str(b.dockerfile_inline) !== undefined) out.dockerfile_inline = str(b.dockerfile_inline);
  else out.dockerfile = str(b.dockerfile) ?? 'Dockerfile';
  if (str(b.target)) out.target = str(b.target);
  if (str(b.network)) out.network = str(b.network);
  if (b.no_cache !== undefined) out.no_cache = bool(b.no_cache, `${where}.no_cache`);
  if (b.pull !== undefined) out.pull = bool(b.pull, `${where}.pull`);
  if (b.tags !== undefined) out.tags = strings(b.tags);
  if (b.extra_hosts !== undefined) out.extra_hosts = extraHosts(b.extra_hosts);
  if (b.shm_size !== undefined) out.shm_size = bytes(b.shm_size, `${where}.shm_size`);
  return out;
}

function serviceNetworks(v: unknown, mode: unknown): Record<string, ServiceNetwork> {
  const out: Record<string, ServiceNetwork> = {};
  if (Array.isArray(v)) for (const n of v) out[String(n)] = { aliases: [] };
  else if (isMap(v)) {
    for (const [k, raw] of Object.entries(v)) {
      const n = isMap(raw) ? raw : {};
      Object.defineProperty(out, k, {
        enumerable: true,
        writable: true,
        configurable: true,
        value: {
          aliases: strings(n.aliases),
          ...(str(n.ipv4_address) ? { ipv4_address: str(n.ipv4_address) } : {}),
          ...(str(n.ipv6_address) ? { ipv6_address: str(n.ipv6_address) } : {}),
          ...(str(n.mac_address) ? { mac_address: str(n.mac_address) } : {}),
          ...(n.priority !== undefined && n.priority !== null ? { priority: num(n.priority, `networks.${k}.priority`) } : {}),
          ...(n.gw_priority !== undefined && n.gw_priority !== null ? { gw_priority: num(n.gw_priority, `networks.${k}.gw_priority`) } : {}),
          ...(n.link_local_ips !== undefined ? { link_local_ips: strings(n.link_local_ips) } : {}),
          ...(isMap(n.driver_opts) ? { driver_opts: keyValues(n.driver_opts) } : {}),
        } satisfies ServiceNetwork,
      });
    }
  }
  if (Object.keys(out).length === 0 && (mode === undefined || mode === null)) out.default = { aliases: [] };
  return out;
}

const CONDITIONS = new Set<DependsCondition>(['service_started', 'service_healthy', 'service_completed_successfully']);

function dependsOn(v: unknown, where: string): Record<string, Dependency> {
  const out: Record<string, Dependency> = {};
  const set = (k: string, d: Dependency) => Object.defineProperty(out, k, { value: d, enumerable: true, writable: true, configurable: true });
  if (Array.isArray(v)) for (const n of v) set(String(n), { condition: 'service_started', restart: false, required: true });
  else if (isMap(v)) {
    for (const [k, raw] of Object.entries(v)) {
      const d = isMap(raw) ? raw : {};
      const condition = (str(d.condition) ?? 'service_started') as DependsCondition;
      if (!CONDITIONS.has(condition)) throw new ComposeError(`${where}.${k}.condition: unknown condition ${JSON.stringify(condition)}`);
      set(k, { condition, restart: bool(d.restart, `${where}.${k}.restart`) ?? false, required: bool(d.required, `${where}.${k}.required`) ?? true });
    }
  }
  return out;
}

function healthcheck(h: Tree, where: string): Healthcheck {
  let test: string[] | undefined;
  if (Array.isArray(h.test)) test = h.test.map((x) => String(x));
  else if (typeof h.test === 'string') test = ['CMD-SHELL', h.test];
  if (test && test.length === 0) test = undefined;
  if (test && !['CMD', 'CMD-SHELL', 'NONE'].includes(test[0]!)) {
    throw new ComposeError(`${where}.test: the first element must be CMD, CMD-SHELL or NONE, not ${JSON.stringify(test[0])}`);
  }
  const disable = (bool(h.disable, `${where}.disable`) ?? false) || test?.[0] === 'NONE';
  const out: Healthcheck = { disable };
  if (test) out.test = test;
  for (const k of ['interval', 'timeout', 'start_period', 'start_interval'] as const) {
    const d = duration(h[k], `${where}.${k}`);
    if (d !== undefined) out[k] = d;
  }
  const retries = num(h.retries, `${where}.retries`);
  if (retries !== undefined) out.retries = retries;
  return out;
}

function limits(v: unknown, where: string): Limits {
  const l = isMap(v) ? v : {};
  const out: Limits = {};
  const memory = bytes(l.memory, `${where}.memory`);
  if (memory !== undefined) out.memory = memory;
  const cpus = num(l.cpus, `${where}.cpus`, false);
  if (cpus !== undefined) out.cpus = cpus;
  const pids = num(l.pids, `${where}.pids`);
  if (pids !== undefined) out.pids = pids;
  return out;
}

function deploy(d: Tree, where: string, unsupported: string[]): Deploy {
  for (const k of Object.keys(d)) if (!DEPLOY_TYPED.has(k) && !k.startsWith('x-')) unsupported.push(`${where}.${k}`);
  const res = isMap(d.resources) ? d.resources : {};
  for (const k of Object.keys(res)) if (k !== 'limits' && k !== 'reservations' && !k.startsWith('x-')) unsupported.push(`${where}.resources.${k}`);
  const out: Deploy = {
    resources: { limits: limits(res.limits, `${where}.resources.limits`), reservations: limits(res.reservations, `${where}.resources.reservations`) },
    labels: keyValues(d.labels),
  };
  const n = num(d.replicas, `${where}.replicas`);
  if (n !== undefined) {
    if (n < 0) throw new ComposeError(`${where}.replicas: cannot be negative`);
    out.replicas = n;
  }
  if (str(d.mode)) out.mode = str(d.mode);
  if (isMap(d.restart_policy)) {
    const r = d.restart_policy;
    out.restart_policy = {
      ...(str(r.condition) ? { condition: str(r.condition) } : {}),
      ...(duration(r.delay, `${where}.restart_policy.delay`) !== undefined ? { delay: duration(r.delay, `${where}.restart_policy.delay`) } : {}),
      ...(num(r.max_attempts, `${where}.restart_policy.max_attempts`) !== undefined ? { max_attempts: num(r.max_attempts, `${where}.restart_policy.max_attempts`) } : {}),
      ...(duration(r.window, `${where}.restart_policy.window`) !== undefined ? { window: duration(r.window, `${where}.restart_policy.window`) } : {}),
    };
  }
  return out;
}

function extraHosts(v: unknown): string[] {
  const out: string[] = [];
  if (Array.isArray(v)) {
    for (const e of v) {
      const s = String(e);
      // `host=ip` (compose's newer form) or `host:ip` (docker's); an IPv6 address may follow either.
      const eq = s.indexOf('=');
      const i = eq >= 0 ? eq : s.indexOf(':');
      out.push(i < 0 ? s : `${s.slice(0, i)}:${s.slice(i + 1).replace(/^\[(.*)\]$/, '$1')}`);
    }
  } else if (isMap(v)) {
    for (const [host, ips] of Object.entries(v)) for (const ip of strings(ips)) out.push(`${host}:${ip}`);
  }
  return out;
}

function ulimits(v: unknown, where: string): Record<string, Ulimit> {
  const out: Record<string, Ulimit> = {};
  if (!isMap(v)) return out;
  for (const [k, raw] of Object.entries(v)) {
    let u: Ulimit;
    if (isMap(raw)) u = { soft: num(raw.soft, `${where}.${k}.soft`) ?? 0, hard: num(raw.hard, `${where}.${k}.hard`) ?? 0 };
    else {
      const n = num(raw, `${where}.${k}`) ?? 0;
      u = { soft: n, hard: n };
    }
    if (u.soft > u.hard) throw new ComposeError(`${where}.${k}: soft limit ${u.soft} is greater than the hard limit ${u.hard}`);
    Object.defineProperty(out, k, { value: u, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function references(v: unknown, defaultTarget: (source: string) => string, target: (t: string) => string): FileReference[] {
  return (Array.isArray(v) ? v : []).map((r) => {
    if (!isMap(r)) return { source: String(r), target: defaultTarget(String(r)) };
    const source = String(r.source);
    return {
      source,
      target: str(r.target) ? target(str(r.target)!) : defaultTarget(source),
      ...(str(r.uid) ? { uid: str(r.uid) } : {}),
      ...(str(r.gid) ? { gid: str(r.gid) } : {}),
      ...(r.mode !== undefined && r.mode !== null ? { mode: typeof r.mode === 'number' ? r.mode : parseInt(String(r.mode), 8) } : {}),
    };
  });
}

/** What no schema can check: every name a service uses is defined (and its dependencies enabled). */
function checkReferences(project: Project): void {
  const known = (n: string) => n in project.services || n in project.disabled_services;
  for (const s of Object.values(project.services)) {
    for (const [dep, d] of Object.entries(s.depends_on)) {
      if (!known(dep)) {
        if (!d.required) continue;
        throw new ComposeError(`service "${s.name}" depends on undefined service "${dep}": invalid compose project`);
      }
      if (dep in project.disabled_services && d.required) {
        const ps = project.disabled_services[dep]!.profiles;
        throw new ComposeError(`service "${dep}" is required by "${s.name}" but is disabled; enable it with a profile: ${ps.join(', ')}`);
      }
    }
    for (const n of Object.keys(s.networks)) {
      if (n !== 'default' && !(n in project.networks)) throw new ComposeError(`service "${s.name}" refers to undefined network ${n}: invalid compose project`);
    }
    for (const v of s.volumes) {
      if (v.type === 'volume' && v.source && !(v.source in project.volumes)) {
        throw new ComposeError(`service "${s.name}" refers to undefined volume ${v.source}: invalid compose project`);
      }
    }
    for (const c of s.configs) if (!(c.source in project.configs)) throw new ComposeError(`service "${s.name}" refers to undefined config ${c.source}: invalid compose project`);
    for (const c of s.secrets) if (!(c.source in project.secrets)) throw new ComposeError(`service "${s.name}" refers to undefined secret ${c.source}: invalid compose project`);
    const mode = s.network_mode;
    if (mode?.startsWith('service:') && !known(mode.slice(8))) {
      throw new ComposeError(`service "${s.name}" refers to undefined service ${mode.slice(8)} in network_mode: invalid compose project`);
    }
  }
}
