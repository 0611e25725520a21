/**
 * The loaded project (model.ts, the file side) as the runtime acts on it (project-runtime.ts).
 * What the runtime cannot honour is refused here or warned about by name — never silently dropped.
 */
import { TsctrError } from '../errors.js';
import { configHash } from './hash.js';
import { replicas, unsupportedKeys, type Project, type Service } from './model.js';
import type { RtPort, RtProject, RtService, RtVolumeMount } from './project-runtime.js';

const ms = (v: number | undefined) => (v === undefined ? undefined : `${v}ms`);

/** Service keys the model carries that the runtime does not act on (yet): warned about when set. */
const NOT_RUN: (keyof Service)[] = ['configs', 'secrets', 'privileged', 'sysctls', 'devices', 'pid', 'ipc', 'shm_size', 'platform', 'links', 'domainname', 'logging', 'env_file'];

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
  const unsupported = unsupportedKeys(p);
  const services: Record<string, RtService> = {};
  for (const s of Object.values(p.services)) {
    for (const k of NOT_RUN) if (k !== 'env_file' && isSet(s[k])) unsupported.push(`services.${s.name}.${k}`);
    if (s.build?.dockerfile_inline !== undefined) throw new TsctrError(`service "${s.name}": build.dockerfile_inline is not supported`);
    if (s.network_mode !== undefined) unsupported.push(`services.${s.name}.network_mode`);
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
      dependsOn: Object.fromEntries(Object.entries(s.depends_on).map(([k, d]) => [k, d.condition])),
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
      hash: configHash(s),
    };
  }
  const networks: RtProject['networks'] = {};
  for (const [k, n] of Object.entries(p.networks)) {
    const c = n.ipam.config[0];
    networks[k] = { name: n.name, external: n.external, internal: n.internal, ...(c?.subnet ? { subnet: c.subnet } : {}), ...(c?.gateway ? { gateway: c.gateway } : {}) };
  }
  const volumes: RtProject['volumes'] = Object.fromEntries(Object.entries(p.volumes).map(([k, v]) => [k, { name: v.name, external: v.external }]));
  if (Object.keys(p.configs).length) unsupported.push('configs');
  if (Object.keys(p.secrets).length) unsupported.push('secrets');
  return { project: { name: p.name, workingDir: p.working_dir, configFiles: p.config_files, services, networks, volumes, unsupported: [...new Set(unsupported)] }, warnings };
}
