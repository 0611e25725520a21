/**
 * The loaded project (model.ts, the file side) as the runtime acts on it (project-runtime.ts).
 * What the runtime cannot honour is refused here or warned about by name — never silently dropped.
 */
import { TsctrError } from '../errors.js';
import { configHash } from './hash.js';
import { replicas, type Project, type Service } from './model.js';
import type { RtPort, RtProject, RtService, RtVolumeMount } from './project-runtime.js';

const ms = (v: number | undefined) => (v === undefined ? undefined : `${v}ms`);

/** Service keys the model carries that the runtime does not act on (yet): warned about when set. */
const NOT_RUN: (keyof Service)[] = ['platform'];

/** Keys the model leaves untyped (Service.extra) that map onto a run flag: applied, not warned about. */
const EXTRA_RUN: Record<string, keyof RtService> = {
  mem_reservation: 'memoryReservation', memswap_limit: 'memorySwap', cpu_shares: 'cpuShares', cpuset: 'cpusetCpus',
  oom_score_adj: 'oomScoreAdj', userns_mode: 'userns',
};

/** The untyped keys as run-flag values; what is left over (blkio_config beyond weight) is warned about. */
function extraFlags(s: Service, unsupported: string[]): Partial<RtService> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s.extra)) {
    const at = `services.${s.name}.${k}`;
    if (k in EXTRA_RUN && (typeof v === 'string' || typeof v === 'number')) out[EXTRA_RUN[k]!] = String(v);
    else if (k === 'group_add' && Array.isArray(v)) out.groupAdd = v.map(String);
    else if (k === 'blkio_config' && v && typeof v === 'object') {
      const b = v as Record<string, unknown>;
      if (b.weight !== undefined) out.blkioWeight = String(b.weight);
      for (const bk of Object.keys(b)) if (bk !== 'weight') unsupported.push(`${at}.${bk}`);
    } else unsupported.push(at);
  }
  return out as Partial<RtService>;
}

/** Configs and secrets: a `file:` source is bound as it is, `content:` and `environment:` ones are written out at up. */
function fileMounts(s: Service, p: Project, unsupported: string[]): RtService['files'] {
  const out: RtService['files'] = [];
  for (const [kind, refs] of [['configs', s.configs], ['secrets', s.secrets]] as const) {
    for (const r of refs) {
      const obj = p[kind][r.source];
      const at = `services.${s.name}.${kind}.${r.source}`;
      const key = `${kind}-${r.source}`;
      const content = obj?.content ?? (obj?.environment !== undefined ? p.environment[obj.environment] : undefined);
      if (obj?.file) out.push({ source: obj.file, target: r.target, key });
      else if (content !== undefined) out.push({ content, target: r.target, key });
      else { unsupported.push(`${at} (external, or its variable is unset)`); continue; }
      if (r.mode !== undefined || r.uid !== undefined || r.gid !== undefined) unsupported.push(`${at}.mode/uid/gid (the file's own are kept: 0600 for inline ones)`);
    }
  }
  return out;
}

/** compose's links (`db` or `db:alias`): the alias names the linked service on the default network. */
function applyLinks(services: Record<string, RtService>, p: Project, unsupported: string[]): void {
  for (const s of Object.values(p.services)) {
    for (const l of s.links) {
      const [target = '', alias = target] = l.split(':');
      const t = services[target];
      const net = t && ('default' in t.networks ? 'default' : Object.keys(t.networks)[0]);
      if (!t || net === undefined) { unsupported.push(`services.${s.name}.links (${l})`); continue; }
      t.networks[net] = [...new Set([...(t.networks[net] ?? []), alias])];
    }
  }
}

function networkMode(s: Service, p: Project, deps: RtService['dependsOn']): string | undefined {
  const m = s.network_mode;
  if (m === undefined) return undefined;
  if (m.startsWith('service:')) {
    const other = m.slice('service:'.length);
    if (!p.services[other]) throw new TsctrError(`service "${s.name}": network_mode ${m} names an undefined service`);
    deps[other] ??= 'service_started'; // compose starts the service whose network this one joins first
    return m;
  }
  if (m === 'host' || m === 'none' || m === 'bridge' || m.startsWith('container:')) return m;
  throw new TsctrError(`service "${s.name}": network_mode ${m} is not supported (host, none, bridge, container:NAME, service:NAME)`);
}

function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function port(s: Service, p: Service['ports'][number]): RtPort {
  if (p.protocol === 'sctp') throw new TsctrError(`service "${s.name}": sctp ports are not supported`);
  if (p.published !== undefined && !/^\d+$/.test(p.published)) throw new TsctrError(`service "${s.name}": published port ranges (${p.published}) are not supported`);
  return { target: p.target, ...(p.published !== undefined ? { published: Number(p.published) } : {}), ...(p.host_ip ? { hostIp: p.host_ip } : {}), protocol: p.protocol };
}

function mount(s: Service, v: Service['volumes'][number]): RtVolumeMount {
  if (v.type !== 'volume' && v.type !== 'bind' && v.type !== 'tmpfs') throw new TsctrError(`service "${s.name}": volumes of type ${v.type} are not supported`);
  return { type: v.type, source: v.source ?? '', target: v.target, readOnly: v.read_only };
}

export function runtimeProject(p: Project): { project: RtProject; warnings: string[] } {
  const warnings = [...p.warnings];
  const unsupported = [...p.unsupported];
  const services: Record<string, RtService> = {};
  for (const s of Object.values(p.services)) {
    for (const k of NOT_RUN) if (isSet(s[k])) unsupported.push(`services.${s.name}.${k}`);
    if (s.build?.dockerfile_inline !== undefined) throw new TsctrError(`service "${s.name}": build.dockerfile_inline is not supported`);
    const dependsOn: RtService['dependsOn'] = Object.fromEntries(Object.entries(s.depends_on).map(([k, d]) => [k, d.condition]));
    const mode = networkMode(s, p, dependsOn);
    const limits = s.deploy?.resources.limits ?? {};
    const memory = s.mem_limit ?? limits.memory;
    const cpus = s.cpus ?? limits.cpus;
    services[s.name] = {
      name: s.name,
      image: s.image,
      build: s.build && { context: s.build.context, dockerfile: s.build.dockerfile, args: s.build.args, target: s.build.target },
      command: s.command,
      entrypoint: s.entrypoint,
      environment: s.environment,
      ports: s.ports.map((x) => port(s, x)),
      volumes: s.volumes.map((x) => mount(s, x)),
      tmpfs: s.tmpfs,
      networks: Object.fromEntries(Object.entries(s.networks).map(([k, n]) => [k, n.aliases])),
      dependsOn,
      healthcheck: s.healthcheck && {
        test: s.healthcheck.test, interval: ms(s.healthcheck.interval), timeout: ms(s.healthcheck.timeout), retries: s.healthcheck.retries,
        startPeriod: ms(s.healthcheck.start_period), startInterval: ms(s.healthcheck.start_interval), disable: s.healthcheck.disable,
      },
      restart: s.restart,
      replicas: replicas(s),
      user: s.user,
      workingDir: s.working_dir,
      hostname: s.hostname,
      labels: s.labels,
      init: s.init,
      stopSignal: s.stop_signal,
      stopGracePeriod: ms(s.stop_grace_period),
      capAdd: s.cap_add,
      capDrop: s.cap_drop,
      readOnly: s.read_only,
      extraHosts: s.extra_hosts,
      dns: s.dns,
      dnsSearch: s.dns_search,
      dnsOption: s.dns_opt,
      ulimits: Object.entries(s.ulimits).map(([k, u]) => `${k}=${u.soft}:${u.hard}`),
      securityOpt: s.security_opt,
      pidsLimit: s.pids_limit ?? limits.pids,
      tty: s.tty,
      stdinOpen: s.stdin_open,
      containerName: s.container_name,
      memory: memory === undefined ? undefined : String(memory),
      cpus: cpus === undefined ? undefined : String(cpus),
      privileged: s.privileged,
      sysctls: [...Object.entries(s.sysctls).map(([k, v]) => `${k}=${v}`), ...(s.domainname !== undefined ? [`kernel.domainname=${s.domainname}`] : [])],
      devices: s.devices,
      pid: s.pid,
      ipc: s.ipc,
      shmSize: s.shm_size === undefined ? undefined : String(s.shm_size),
      logDriver: s.logging?.driver,
      logOpt: Object.entries(s.logging?.options ?? {}).map(([k, v]) => `${k}=${v}`),
      groupAdd: [],
      ...extraFlags(s, unsupported),
      networkMode: mode,
      files: fileMounts(s, p, unsupported),
      hash: configHash(s),
    };
  }
  applyLinks(services, p, unsupported);
  const networks: RtProject['networks'] = {};
  for (const [k, n] of Object.entries(p.networks)) {
    const c = n.ipam.config[0];
    networks[k] = { name: n.name, external: n.external, internal: n.internal, ...(c?.subnet ? { subnet: c.subnet } : {}), ...(c?.gateway ? { gateway: c.gateway } : {}) };
  }
  const volumes: RtProject['volumes'] = Object.fromEntries(Object.entries(p.volumes).map(([k, v]) => [k, { name: v.name, external: v.external }]));
  return { project: { name: p.name, workingDir: p.working_dir, configFiles: p.config_files, services, networks, volumes, unsupported: [...new Set(unsupported)] }, warnings };
}
