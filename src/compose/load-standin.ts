/**
 * STAND-IN for the compose file side (branch cfile): reads one compose file with `yaml` into the
 * runtime's shape, without schema validation or interpolation. Replaced by the adapter over
 * cfile's loadProject() once it lands.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TsctrError } from '../errors.js';
import { normalizeProjectName, resourceName } from './labels.js';
import type { RtPort, RtProject, RtService, RtVolumeMount } from './project-runtime.js';

export interface LoadOptions {
  files: string[];
  projectName?: string;
  projectDirectory?: string;
}

const FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const SUPPORTED = new Set(['image', 'build', 'command', 'entrypoint', 'environment', 'ports', 'volumes', 'networks', 'depends_on', 'healthcheck', 'restart', 'deploy', 'user', 'working_dir', 'hostname', 'labels', 'init', 'stop_signal', 'stop_grace_period', 'cap_add', 'cap_drop', 'read_only', 'tmpfs', 'extra_hosts', 'dns', 'container_name', 'expose']);

function words(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map(String);
  return shellWords(String(v));
}

/** docker compose splits a string command like a POSIX shell would, without running one. */
export function shellWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q: string | undefined;
  let any = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      if (c === q) q = undefined;
      else if (c === '\\' && q === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      q = c;
      any = true;
    } else if (c === '\\' && i + 1 < s.length) cur += s[++i];
    else if (/\s/.test(c)) {
      if (cur || any) out.push(cur);
      cur = '';
      any = false;
    } else cur += c;
  }
  if (cur || any) out.push(cur);
  return out;
}

function parsePort(v: unknown): RtPort {
  if (isObj(v)) return { target: Number(v.target), published: v.published !== undefined ? Number(v.published) : undefined, hostIp: v.host_ip as string | undefined, protocol: v.protocol === 'udp' ? 'udp' : 'tcp' };
  let s = String(v);
  let protocol: 'tcp' | 'udp' = 'tcp';
  const slash = s.lastIndexOf('/');
  if (slash >= 0) {
    protocol = s.slice(slash + 1) === 'udp' ? 'udp' : 'tcp';
    s = s.slice(0, slash);
  }
  const parts = s.split(':');
  const target = Number(parts.pop());
  const published = parts.length ? parts.pop() : undefined;
  const hostIp = parts.length ? parts.join(':') : undefined;
  return { target, published: published ? Number(published) : undefined, hostIp: hostIp || undefined, protocol };
}

function parseMount(v: unknown, dir: string): RtVolumeMount {
  if (isObj(v)) {
    const type = (v.type as RtVolumeMount['type']) ?? 'volume';
    const source = String(v.source ?? '');
    return { type, source: type === 'bind' ? path.resolve(dir, source) : source, target: String(v.target), readOnly: v.read_only === true };
  }
  const parts = String(v).split(':');
  if (parts.length === 1) return { type: 'volume', source: '', target: parts[0]!, readOnly: false };
  const [src, target, mode] = parts as [string, string, string?];
  const ro = mode?.split(',').includes('ro') ?? false;
  if (src.startsWith('.') || src.startsWith('/') || src.startsWith('~')) return { type: 'bind', source: path.resolve(dir, src), target, readOnly: ro };
  return { type: 'volume', source: src, target, readOnly: ro };
}

const stringMap = (v: unknown): Record<string, string> => {
  if (Array.isArray(v)) return Object.fromEntries(v.map((e) => String(e)).map((e) => (e.includes('=') ? [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] : [e, process.env[e] ?? ''])));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x === null || x === undefined ? '' : String(x)]));
  return {};
};

export async function loadStandIn(o: LoadOptions): Promise<RtProject> {
  const YAML = await import('yaml');
  const dir = path.resolve(o.projectDirectory ?? (o.files[0] ? path.dirname(o.files[0]) : '.'));
  const files = o.files.length ? o.files.map((f) => path.resolve(f)) : FILES.map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f)).slice(0, 1);
  if (!files.length) throw new TsctrError('no configuration file provided: not found');
  const doc = YAML.parse(fs.readFileSync(files[0]!, 'utf8')) as unknown;
  if (!isObj(doc) || !isObj(doc.services)) throw new TsctrError(`${files[0]}: services must be a mapping`);
  const name = normalizeProjectName(o.projectName ?? process.env.COMPOSE_PROJECT_NAME ?? (doc.name as string | undefined) ?? path.basename(dir));
  const unsupported: string[] = [];
  const networks: RtProject['networks'] = {};
  for (const [k, v] of Object.entries((doc.networks as Obj) ?? {})) {
    const n = isObj(v) ? v : {};
    networks[k] = { name: (n.name as string) ?? (n.external ? k : resourceName(name, k)), external: !!n.external, internal: !!n.internal };
  }
  const volumes: RtProject['volumes'] = {};
  for (const [k, v] of Object.entries((doc.volumes as Obj) ?? {})) {
    const n = isObj(v) ? v : {};
    volumes[k] = { name: (n.name as string) ?? (n.external ? k : resourceName(name, k)), external: !!n.external };
  }
  const services: Record<string, RtService> = {};
  for (const [sn, sv] of Object.entries(doc.services)) {
    if (!isObj(sv)) throw new TsctrError(`services.${sn} must be a mapping`);
    for (const k of Object.keys(sv)) if (!SUPPORTED.has(k)) unsupported.push(`services.${sn}.${k}`);
    const b = sv.build;
    const build = b === undefined ? undefined : isObj(b) ? { context: path.resolve(dir, String(b.context ?? '.')), dockerfile: b.dockerfile as string | undefined, args: stringMap(b.args), target: b.target as string | undefined } : { context: path.resolve(dir, String(b)), args: {} };
    const netsRaw = sv.networks;
    const nets: Record<string, string[]> = {};
    if (Array.isArray(netsRaw)) for (const n of netsRaw) nets[String(n)] = [];
    else if (isObj(netsRaw)) for (const [n, c] of Object.entries(netsRaw)) nets[n] = isObj(c) && Array.isArray(c.aliases) ? c.aliases.map(String) : [];
    if (!Object.keys(nets).length) {
      nets.default = [];
      networks.default ??= { name: resourceName(name, 'default'), external: false, internal: false };
    }
    const deps: RtService['dependsOn'] = {};
    if (Array.isArray(sv.depends_on)) for (const d of sv.depends_on) deps[String(d)] = 'service_started';
    else if (isObj(sv.depends_on)) for (const [d, c] of Object.entries(sv.depends_on)) deps[d] = ((isObj(c) && (c.condition as string)) || 'service_started') as RtService['dependsOn'][string];
    const hc = isObj(sv.healthcheck) ? sv.healthcheck : undefined;
    const deploy = isObj(sv.deploy) ? sv.deploy : {};
    const limits = isObj(deploy.resources) && isObj(deploy.resources.limits) ? deploy.resources.limits : {};
    const s: Omit<RtService, 'hash'> = {
      name: sn,
      image: sv.image as string | undefined,
      build,
      command: words(sv.command),
      entrypoint: words(sv.entrypoint),
      environment: stringMap(sv.environment),
      ports: ((sv.ports as unknown[]) ?? []).map(parsePort),
      volumes: ((sv.volumes as unknown[]) ?? []).map((v) => parseMount(v, dir)),
      tmpfs: sv.tmpfs === undefined ? [] : Array.isArray(sv.tmpfs) ? sv.tmpfs.map(String) : [String(sv.tmpfs)],
      networks: nets,
      dependsOn: deps,
      healthcheck: hc && { test: hc.test as string[] | string, interval: hc.interval as string, timeout: hc.timeout as string, retries: hc.retries as number, startPeriod: hc.start_period as string, startInterval: hc.start_interval as string, disable: hc.disable === true },
      restart: sv.restart as string | undefined,
      replicas: typeof deploy.replicas === 'number' ? deploy.replicas : 1,
      user: sv.user as string | undefined,
      workingDir: sv.working_dir as string | undefined,
      hostname: sv.hostname as string | undefined,
      labels: stringMap(sv.labels),
      init: sv.init as boolean | undefined,
      stopSignal: sv.stop_signal as string | undefined,
      stopGracePeriod: sv.stop_grace_period as string | undefined,
      capAdd: (sv.cap_add as string[]) ?? [],
      capDrop: (sv.cap_drop as string[]) ?? [],
      readOnly: sv.read_only as boolean | undefined,
      extraHosts: Array.isArray(sv.extra_hosts) ? sv.extra_hosts.map(String) : Object.entries(stringMap(sv.extra_hosts)).map(([h, ip]) => `${h}:${ip}`),
      dns: sv.dns === undefined ? [] : Array.isArray(sv.dns) ? sv.dns.map(String) : [String(sv.dns)],
      containerName: sv.container_name as string | undefined,
      memory: limits.memory as string | undefined,
      cpus: limits.cpus !== undefined ? String(limits.cpus) : undefined,
    };
    // Replicas do not change a container: scaling must not recreate the others.
    const { replicas: _r, ...hashed } = s;
    services[sn] = { ...s, hash: crypto.createHash('sha256').update(JSON.stringify(hashed)).digest('hex') };
  }
  for (const k of Object.keys(doc)) if (!['services', 'networks', 'volumes', 'name', 'version'].includes(k)) unsupported.push(k);
  return { name, workingDir: dir, configFiles: files, services, networks, volumes, unsupported };
}
