/**
 * A compose service's replica as a container spec: the service's keys become the `run` options
 * they correspond to (one table of meanings, the create flags'), then what the flags cannot say
 * (a list entrypoint, a CMD healthcheck) is set on the spec. Pure: the image config and the host
 * view are given.
 */
import { TsctrError } from '../errors.js';
import { buildContainerSpec } from '../container/container-spec.js';
import { defaultCreateOptions, type HostView } from '../container/options.js';
import type { ContainerSpec, Healthcheck } from '../container/types.js';
import type { ContainerConfig as ImageRunConfig } from '../image/types.js';
import { parseDuration } from '../util/units.js';
import { LABEL, builtImageName, containerName } from './labels.js';
import type { RtHealthcheck, RtPort, RtProject, RtService } from './project-runtime.js';

export interface ReplicaOptions {
  /** The replica's number (container-number). */
  number: number;
  /** `compose run`: a one-off container (its own name, no ports unless asked, the oneoff label). */
  oneoff?: { name: string; command?: string[]; env: string[]; rm: boolean; entrypoint?: string[]; servicePorts: boolean };
  /** Each replica publishes its ports on 127.0.0.1, random host ports: a balancer owns the service's. */
  balanced?: boolean;
}

/** The image a service runs: its own, or the one its build makes. */
export function serviceImage(p: RtProject, s: RtService): string {
  if (s.image) return s.image;
  if (s.build) return builtImageName(p.name, s.name);
  throw new TsctrError(`service "${s.name}" has neither an image nor a build context specified: invalid compose project`);
}

export function replicaName(p: RtProject, s: RtService, n: number): string {
  return s.containerName ?? containerName(p.name, s.name, n);
}

const ns = (v: string | undefined) => (v === undefined ? undefined : Math.round(parseDuration(v) * 1e6));

export function healthcheckOf(h: RtHealthcheck): Healthcheck {
  if (h.disable) return { Test: ['NONE'] };
  const test = h.test === undefined ? undefined : typeof h.test === 'string' ? ['CMD-SHELL', h.test] : h.test;
  if (test && !['CMD', 'CMD-SHELL', 'NONE'].includes(test[0]!)) throw new TsctrError(`healthcheck.test must start with CMD, CMD-SHELL or NONE, not ${test[0]}`);
  return {
    ...(test ? { Test: test } : {}),
    ...(h.interval !== undefined ? { Interval: ns(h.interval) } : {}),
    ...(h.timeout !== undefined ? { Timeout: ns(h.timeout) } : {}),
    ...(h.startPeriod !== undefined ? { StartPeriod: ns(h.startPeriod) } : {}),
    ...(h.startInterval !== undefined ? { StartInterval: ns(h.startInterval) } : {}),
    ...(h.retries !== undefined ? { Retries: h.retries } : {}),
  };
}

/** network_mode as --network takes it: `service:NAME` is that service's first container. */
function networkModeFlag(p: RtProject, mode: string): string {
  if (!mode.startsWith('service:')) return mode;
  const other = p.services[mode.slice('service:'.length)];
  if (!other) throw new TsctrError(`network_mode ${mode} names an undefined service`);
  return `container:${replicaName(p, other, 1)}`;
}

/** Replica N's host port of a published range (`8000-8002:80`: 1 → 8000, 3 → 8002). */
export function rangePort(s: RtService, pt: RtPort, n: number): number {
  const [first, last] = pt.range!;
  if (first + n - 1 > last) throw new TsctrError(rangeTooSmall(s, pt, n));
  return first + n - 1;
}

export function rangeTooSmall(s: RtService, pt: RtPort, replicas: number): string {
  const [first, last] = pt.range!;
  return `service "${s.name}": the published port range ${first}-${last} for ${pt.target}/${pt.protocol} has ${last - first + 1} ports, too few for ${replicas} replicas (one port each)`;
}

export function replicaSpec(p: RtProject, s: RtService, r: ReplicaOptions, img: ImageRunConfig, host: HostView): ContainerSpec {
  const o = defaultCreateOptions(serviceImage(p, s), r.oneoff?.command ?? s.command ?? []);
  o.name = r.oneoff?.name ?? replicaName(p, s, r.number);
  o.hostname = s.hostname;
  o.env = [...Object.entries(s.environment).map(([k, v]) => `${k}=${v}`), ...(r.oneoff?.env ?? [])];
  o.workdir = s.workingDir;
  o.user = s.user;
  o.volume = s.volumes.map((m) => {
    if (m.type === 'tmpfs') return '';
    const src = m.type === 'volume' && m.source ? (p.volumes[m.source]?.name ?? m.source) : m.source;
    return `${src ? `${src}:` : ''}${m.target}${m.readOnly ? ':ro' : ''}`;
  }).filter(Boolean);
  o.tmpfs = [...s.tmpfs, ...s.volumes.filter((m) => m.type === 'tmpfs').map((m) => m.target)];
  o.readOnly = s.readOnly ?? false;
  o.init = s.init ?? false;
  o.restart = r.oneoff ? undefined : s.restart;
  o.rm = r.oneoff?.rm ?? false;
  o.stopSignal = s.stopSignal;
  if (s.stopGracePeriod !== undefined) o.stopTimeout = String(Math.ceil(parseDuration(s.stopGracePeriod) / 1000));
  o.label = Object.entries({
    ...s.labels,
    [LABEL.project]: p.name,
    [LABEL.service]: s.name,
    [LABEL.number]: String(r.number),
    [LABEL.hash]: s.hash,
    [LABEL.workingDir]: p.workingDir,
    [LABEL.configFiles]: p.configFiles.join(','),
    [LABEL.oneoff]: r.oneoff ? 'True' : 'False',
  }).map(([k, v]) => `${k}=${v}`);
  o.network = s.networkMode !== undefined ? [networkModeFlag(p, s.networkMode)] : Object.keys(s.networks).map((k) => p.networks[k]?.name ?? k);
  // The service name (and its aliases) resolve to every replica on each of its networks.
  o.networkAlias = r.oneoff || s.networkMode !== undefined ? [] : [...new Set([s.name, ...Object.values(s.networks).flat()])];
  o.privileged = s.privileged ?? false;
  o.sysctl = s.sysctls;
  o.device = s.devices;
  o.pid = s.pid;
  o.ipc = s.ipc;
  o.shmSize = s.shmSize;
  o.logDriver = s.logDriver;
  o.logOpt = s.logOpt;
  o.groupAdd = s.groupAdd;
  o.userns = s.userns;
  o.oomScoreAdj = s.oomScoreAdj;
  o.memoryReservation = s.memoryReservation;
  o.memorySwap = s.memorySwap;
  o.cpuShares = s.cpuShares;
  o.cpusetCpus = s.cpusetCpus;
  o.blkioWeight = s.blkioWeight;
  o.mount = s.files.map((f) => {
    if (f.unavailable) throw new TsctrError(`service "${s.name}": ${f.unavailable}`);
    if (f.source === undefined) throw new TsctrError(`service "${s.name}": ${f.key} is not written out yet`);
    return `type=bind,source="${f.source}",target=${f.target},readonly`;
  });
  o.dns = s.dns;
  o.dnsSearch = s.dnsSearch ?? [];
  o.dnsOption = s.dnsOption ?? [];
  o.ulimit = s.ulimits ?? [];
  o.securityOpt = s.securityOpt ?? [];
  o.pidsLimit = s.pidsLimit === undefined ? undefined : String(s.pidsLimit);
  o.tty = s.tty ?? false;
  o.interactive = s.stdinOpen ?? false;
  o.addHost = s.extraHosts.map((h) => h.replace('=', ':'));
  o.capAdd = s.capAdd;
  o.capDrop = s.capDrop;
  o.memory = s.memory;
  o.cpus = s.cpus;
  const withPorts = !r.oneoff || r.oneoff.servicePorts;
  o.publish = withPorts
    ? s.ports.map((pt) => {
        // A range is never balanced: each replica has its own port of it.
        if (pt.range) return `${pt.hostIp ? `${pt.hostIp}:` : ''}${rangePort(s, pt, r.number)}:${pt.target}/${pt.protocol}`;
        const ip = r.balanced ? '127.0.0.1' : pt.hostIp;
        const host = r.balanced ? '' : pt.published !== undefined ? String(pt.published) : '';
        return `${ip ? `${ip}:` : ''}${host || ip ? `${host}:` : ''}${pt.target}/${pt.protocol}`;
      })
    : [];
  o.detach = true;
  const spec = buildContainerSpec(o, img, host);
  const entrypoint = r.oneoff?.entrypoint ?? s.entrypoint;
  if (entrypoint !== undefined) {
    // docker: an entrypoint set drops the image's Cmd unless a command is given too.
    spec.entrypoint = entrypoint.length ? entrypoint : null;
    if (!(r.oneoff?.command ?? s.command)) spec.cmd = null;
    if (!spec.entrypoint && !spec.cmd) throw new TsctrError(`service "${s.name}": no command specified`);
  }
  if (s.healthcheck) {
    const own = healthcheckOf(s.healthcheck);
    const merged = { ...(spec.healthcheck ?? {}), ...own };
    spec.healthcheck = merged.Test?.length ? merged : undefined;
    if (!spec.healthcheck) delete spec.healthcheck;
  }
  return spec;
}
