/**
 * The spec handed to tsctr-shim: NUL-separated key/value pairs (keys repeat), because argv and env
 * may hold any byte but NUL and the C side should not need a JSON parser.
 */
import { monitorEventSpec } from './events.js';
import fs from 'node:fs';
import os from 'node:os';
import { containerPaths } from '../paths.js';
import { modeFor } from '../net/modes/index.js';
import { hostsFile, resolvConf } from '../net/etc-files.js';
import { parseExtraHosts } from '../net/dns-options.js';
import { netRequest } from './net-request.js';
import { requireSubIds } from '../rootless/subids.js';
import { atomicWriteFile, ensureDir } from '../util/fsutil.js';
import { effectiveCaps } from './options.js';
import { layersTopFirst } from './layers.js';
import { resolveUser } from './user.js';
import { ensureVolume } from './volumes.js';
import { noNewPrivileges, seccompMode } from './security.js';
import { logLimits } from './log-config.js';
import type { ContainerRecord, HostConfig } from './types.js';
import type { ImageRecord } from '../image/types.js';

export type Spec = [string, string][];

export function encodeSpec(spec: Spec): Buffer {
  return Buffer.from(spec.map(([k, v]) => `${k}\0${v}\0`).join(''), 'utf8');
}

/** 0 → the user, 1.. → the subordinate ranges, the same mapping podman uses. */
export function idMaps(): { uid: string[]; gid: string[] } {
  const { uids, gids } = requireSubIds();
  const me = os.userInfo();
  const build = (self: number, ranges: { start: number; count: number }[]) => {
    const out = [`0 ${self} 1`];
    let next = 1;
    for (const r of ranges) {
      out.push(`${next} ${r.start} ${r.count}`);
      next += r.count;
    }
    return out;
  };
  return { uid: build(me.uid, uids), gid: build(me.gid, gids) };
}

function etcFiles(c: ContainerRecord): Spec {
  const dir = containerPaths.dir(c.id);
  ensureDir(dir);
  const req = netRequest(c);
  const mode = modeFor(req);
  const hostname = c.config.hostname;
  atomicWriteFile(containerPaths.etc(c.id, 'hostname'), `${hostname}\n`, 0o644, false);
  const hosts = hostsFile({ hostname, name: c.name, addresses: mode.ownAddresses(req), extraHosts: parseExtraHosts(req.dns.extraHosts ?? []) });
  atomicWriteFile(containerPaths.etc(c.id, 'hosts'), hosts, 0o644, false);
  const resolv = resolvConf(hostResolvConf(), mode.nameservers(req), mode.hostNameservers, req.dns);
  atomicWriteFile(containerPaths.etc(c.id, 'resolv.conf'), resolv, 0o644, false);
  return ['hostname', 'hosts', 'resolv.conf'].map((f) => ['mount', `bind\t${containerPaths.etc(c.id, f)}\t/etc/${f}\trbind`]);
}

function hostResolvConf(): string {
  try {
    return fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

function mountEntries(c: ContainerRecord): Spec {
  const out: Spec = [];
  for (const m of c.hostConfig.mounts) {
    if (m.type === 'tmpfs') {
      out.push(['mount', `tmpfs\ttmpfs\t${m.destination}\t${m.options ?? ''}`]);
      continue;
    }
    // A volume removed since the container was created is made again, empty, as docker does.
    const source = m.type === 'volume' ? ensureVolume(m.source) : m.source;
    out.push(['mount', `bind\t${source}\t${m.destination}\t${['rbind', m.readOnly ? 'ro' : ''].filter(Boolean).join(',')}`]);
  }
  return out;
}

/**
 * The container's --ulimit values, and --pids-limit as RLIMIT_NPROC too. Since Linux 5.14 that
 * counts the processes of one uid in the container's own user namespace (not the user's other
 * processes), so it holds where no pids controller is delegated; under a delegated one the
 * cgroup's limit on the whole container is the tighter of the two.
 */
export function processLimits(hc: HostConfig): Spec {
  const limits = [...hc.ulimits];
  if (hc.pidsLimit > 0 && !limits.some((u) => u.name === 'RLIMIT_NPROC')) {
    const n = Math.min(hc.pidsLimit, hardProcessLimit());
    limits.push({ name: 'RLIMIT_NPROC', soft: n, hard: n });
  }
  return limits.map((u): [string, string] => ['rlimit', `${u.name} ${u.soft} ${u.hard}`]);
}

/** Our own hard RLIMIT_NPROC: a user namespace cannot raise it. */
function hardProcessLimit(): number {
  const line = /^Max processes\s+\S+\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'latin1'))?.[1];
  return line && line !== 'unlimited' ? Number(line) : Infinity;
}

/** Capabilities, no_new_privs and the seccomp filter: the same for the container's process and for exec. */
export function processSecurity(hc: HostConfig): Spec {
  return [
    ...effectiveCaps(hc.capAdd, hc.capDrop).map((cap): [string, string] => ['cap', cap]),
    ['no-new-privs', noNewPrivileges(hc.securityOpt) ? '1' : '0'],
    ['seccomp', seccompMode(hc.securityOpt)],
  ];
}

export function buildRunSpec(c: ContainerRecord, image: ImageRecord, network: Spec): Spec {
  const maps = idMaps();
  const user = resolveUser(c.config.user, [containerPaths.upper(c.id), ...layersTopFirst(image)]);
  const env = c.config.env.some((e) => e.startsWith('HOME=')) ? c.config.env : [...c.config.env, `HOME=${user.home}`];
  const spec: Spec = [
    ['id', c.id],
    ['rootfs', containerPaths.rootfs(c.id)],
    ...layersTopFirst(image).map((l): [string, string] => ['lower', l]),
    ['upper', containerPaths.upper(c.id)],
    ['work', containerPaths.work(c.id)],
    ['storage', c.storage],
    ...maps.uid.map((m): [string, string] => ['uidmap', m]),
    ...maps.gid.map((m): [string, string] => ['gidmap', m]),
    ['hostname', c.config.hostname],
    ...network,
    ...etcFiles(c),
    ...mountEntries(c),
    ['readonly', c.hostConfig.readOnly ? '1' : '0'],
    ['cwd', c.config.workingDir],
    ['uid', String(user.uid)],
    ['gid', String(user.gid)],
    ['groups', user.groups.join(',')],
    ...[...env, `HOSTNAME=${c.config.hostname}`, ...(c.config.tty ? ['TERM=xterm'] : [])].map((e): [string, string] => ['env', e]),
    ...[c.path, ...c.args].map((a): [string, string] => ['arg', a]),
    ...processSecurity(c.hostConfig),
    ...processLimits(c.hostConfig),
    ['tty', c.config.tty ? '1' : '0'],
    ['log', containerPaths.log(c.id)],
    ...logSpec(c),
    ['pid-file', containerPaths.pid(c.id)],
    ['monitor-pid-file', containerPaths.monitorPid(c.id)],
    ['helpers-file', containerPaths.helpers(c.id)],
    ['exit-file', containerPaths.exit(c.id)],
    ['restart-count-file', containerPaths.restarts(c.id)],
    ['init', c.hostConfig.init ? '1' : '0'],
    ['restart', restartValue(c)],
    ...monitorEventSpec(c),
  ];
  return spec;
}

/** The monitor rotates the log at these limits (0: unbounded). */
function logSpec(c: ContainerRecord): Spec {
  const { maxSize, maxFile } = logLimits(c.hostConfig.logConfig);
  return [
    ['log-max-size', String(maxSize)],
    ['log-max-file', String(maxFile)],
  ];
}

function restartValue(c: ContainerRecord): string {
  const r = c.hostConfig.restart;
  if (r.name === 'on-failure') return `on-failure:${r.maxRetries}`;
  if (r.name === 'always' || r.name === 'unless-stopped') return 'always';
  return 'no';
}
