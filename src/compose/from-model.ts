/**
 * The loaded project (model.ts, the file side) as the runtime acts on it (project-runtime.ts).
 * What the runtime cannot honour is refused here or warned about by name — never silently dropped.
 */
import { TsctrError } from '../errors.js';
import { formatPlatform, parsePlatform } from '../image/platform.js';
import { configHash } from './hash.js';
import { effectiveAliases } from './links.js';
import { replicas, type Project, type Service } from './model.js';
import type { RtFile, RtPort, RtProject, RtService, RtVolumeMount } from './project-runtime.js';

const ms = (v: number | undefined) => (v === undefined ? undefined : `${v}ms`);

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

/** A reference's uid/gid: a number (a container id), as docker compose's strconv.Atoi wants. */
function numericId(v: string | undefined): number | undefined | string {
  if (v === undefined) return undefined;
  return /^\d+$/.test(v) && Number(v) < 2 ** 32 - 1 ? Number(v) : `"${v}" is not a numeric id`;
}

/**
 * Configs and secrets: a `file:` source is bound as it is, unless the reference asks for a mode or
 * owner (then it is copied, as `content:` and `environment:` sources are written, at up).
 * External ones and unset variables are refused at up with docker compose's message (compose
 * without swarm has no store for external configs/secrets, nor has tsctr).
 */
function fileMounts(s: Service, p: Project): RtFile[] {
  const out: RtFile[] = [];
  for (const [kind, refs] of [['configs', s.configs], ['secrets', s.secrets]] as const) {
    const one = kind === 'configs' ? 'config' : 'secret';
    for (const r of refs) {
      const obj = Object.prototype.hasOwnProperty.call(p[kind], r.source) ? p[kind][r.source] : undefined;
      const owned = r.mode !== undefined || r.uid !== undefined || r.gid !== undefined;
      const uid = numericId(r.uid);
      const gid = numericId(r.gid);
      const base: RtFile = {
        target: r.target,
        key: `${kind}-${r.source}`,
        ...(r.mode !== undefined ? { mode: r.mode } : {}),
        ...(typeof uid === 'number' ? { uid } : {}),
        ...(typeof gid === 'number' ? { gid } : {}),
      };
      const bad = [uid, gid].find((x) => typeof x === 'string');
      if (bad !== undefined) out.push({ ...base, unavailable: `${one} "${r.source}": uid/gid ${bad}` });
      else if (r.mode !== undefined && !(Number.isInteger(r.mode) && r.mode >= 0 && r.mode <= 0o7777)) out.push({ ...base, unavailable: `${one} "${r.source}": invalid mode ${r.mode}` });
      else if (!obj || obj.external) out.push({ ...base, unavailable: `unsupported external ${one} ${obj?.name ?? r.source}` });
      else if (obj.file !== undefined) out.push(owned ? { ...base, copy: obj.file } : { ...base, source: obj.file });
      else if (obj.content !== undefined) out.push({ ...base, content: obj.content });
      else if (obj.environment !== undefined && Object.prototype.hasOwnProperty.call(p.environment, obj.environment)) out.push({ ...base, content: p.environment[obj.environment]! });
      else out.push({ ...base, unavailable: `environment variable "${obj.environment}" required by ${one} "${obj.name}" is not set` });
    }
  }
  return out;
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

function port(s: Service, p: Service['ports'][number]): RtPort {
  if (p.protocol === 'sctp') throw new TsctrError(`service "${s.name}": sctp ports are not supported`);
  const base: RtPort = { target: p.target, ...(p.host_ip ? { hostIp: p.host_ip } : {}), protocol: p.protocol };
  if (p.published === undefined) return base;
  // normalize.ts checked the syntax: N or N-M. A range of one port is that port.
  const [a, b = a] = p.published.split('-').map(Number) as [number, number?];
  return a === b ? { ...base, published: a } : { ...base, range: [a, b] };
}

/** `platform:` in one spelling (an invalid one is an error naming the service). */
function platformOf(s: Service): string | undefined {
  if (s.platform === undefined) return undefined;
  try {
    return formatPlatform(parsePlatform(s.platform));
  } catch (e) {
    throw new TsctrError(`service "${s.name}": ${(e as Error).message}`);
  }
}

function mount(s: Service, v: Service['volumes'][number]): RtVolumeMount {
  if (v.type !== 'volume' && v.type !== 'bind' && v.type !== 'tmpfs') throw new TsctrError(`service "${s.name}": volumes of type ${v.type} are not supported`);
  return { type: v.type, source: v.source ?? '', target: v.target, readOnly: v.read_only };
}

export function runtimeProject(p: Project): { project: RtProject; warnings: string[] } {
  const warnings = [...p.warnings];
  const unsupported = [...p.unsupported];
  const services: Record<string, RtService> = {};
  const links = effectiveAliases(p);
  unsupported.push(...links.unresolved);
  for (const s of Object.values(p.services)) {
    const dependsOn: RtService['dependsOn'] = Object.fromEntries(Object.entries(s.depends_on).map(([k, d]) => [k, d.condition]));
    const mode = networkMode(s, p, dependsOn);
    const limits = s.deploy?.resources.limits ?? {};
    const memory = s.mem_limit ?? limits.memory;
    const cpus = s.cpus ?? limits.cpus;
    services[s.name] = {
      name: s.name,
      image: s.image,
      build: s.build && {
        context: s.build.context, dockerfile: s.build.dockerfile, args: s.build.args, target: s.build.target,
        ...(s.build.dockerfile_inline !== undefined ? { dockerfileInline: s.build.dockerfile_inline } : {}),
      },
      platform: platformOf(s),
      command: s.command,
      entrypoint: s.entrypoint,
      environment: s.environment,
      ports: s.ports.map((x) => port(s, x)),
      volumes: s.volumes.map((x) => mount(s, x)),
      tmpfs: s.tmpfs,
      networks: links.aliases[s.name] ?? {},
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
      files: fileMounts(s, p),
      hash: configHash(p, s, links.aliases[s.name]),
    };
  }
  const networks: RtProject['networks'] = {};
  for (const [k, n] of Object.entries(p.networks)) {
    const c = n.ipam.config[0];
    networks[k] = { name: n.name, external: n.external, internal: n.internal, ...(c?.subnet ? { subnet: c.subnet } : {}), ...(c?.gateway ? { gateway: c.gateway } : {}) };
  }
  const volumes: RtProject['volumes'] = Object.fromEntries(Object.entries(p.volumes).map(([k, v]) => [k, { name: v.name, external: v.external }]));
  return { project: { name: p.name, workingDir: p.working_dir, configFiles: p.config_files, services, networks, volumes, unsupported: [...new Set(unsupported)] }, warnings };
}
