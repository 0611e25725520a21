/**
 * The spec handed to tsctr-shim: NUL-separated key/value pairs (keys repeat), because argv and env
 * may hold any byte but NUL and the C side should not need a JSON parser.
 */
import { monitorEventSpec } from './events.js';
import { restartPolicyFile, restartValue } from './restart-policy.js';
import fs from 'node:fs';
import { containerPaths } from '../paths.js';
import { modeFor } from '../net/modes/index.js';
import { hostsFile, resolvConf } from '../net/etc-files.js';
import { parseExtraHosts } from '../net/dns-options.js';
import { netRequest } from './net-request.js';
import { idMaps, requireSubIds } from '../rootless/subids.js';
import os from 'node:os';
import { atomicWriteFile, ensureDir } from '../util/fsutil.js';
import { TsctrError } from '../errors.js';
import { effectiveCaps } from './options.js';
import { layersTopFirst } from './layers.js';
import { resolveUser } from './user.js';
import { ensureVolume } from './volumes.js';
import { noNewPrivileges, seccompMode } from './security.js';
import { logLimits } from './log-config.js';
import { addedGroups, runFlagsSpec, runningPidOf } from './run-spec.js';
import type { ContainerRecord, HostConfig } from './types.js';
import type { ImageRecord } from '../image/types.js';

export type Spec = [string, string][];

export function encodeSpec(spec: Spec): Buffer {
  return Buffer.from(spec.map(([k, v]) => `${k}\0${v}\0`).join(''), 'utf8');
}

export { idMaps };

/**
 * The container's maps as newuidmap takes them. By default idMaps(); with --userns keep-id or
 * --uidmap/--gidmap, podman's meaning: mappings over "your range" — 0 is you, 1.. your
 * subordinate ids in order — turned into host ids here. keep-id: container ids 0..uid-1 are
 * subordinate ids, uid is you, the rest the remaining subordinate ids. Refused when a mapping
 * leaves your range.
 */
export function containerIdMaps(hc: Pick<HostConfig, 'usernsMode' | 'uidMap' | 'gidMap'>): { uid: string[]; gid: string[]; fuse?: { uid: string; gid: string } } {
  if (!hc.usernsMode && !hc.uidMap && !hc.gidMap) return idMaps();
  // The layers' files are owned as the default mapping has them (an image's root is you): seen
  // through these maps they would change owners. fuse-overlayfs shows each as its image owner.
  const fuse = { uid: [] as string[], gid: [] as string[] };
  const { uids, gids } = requireSubIds();
  const me = os.userInfo();
  const build = (kind: 'uid' | 'gid', self: number, ranges: { start: number; count: number }[], given: string[] | undefined) => {
    // "Your range" as host ids, in order.
    const own = [{ start: self, count: 1 }, ...ranges];
    const total = own.reduce((n, r) => n + r.count, 0);
    let wanted: [number, number, number][]; // container, own-range index, count
    if (given) wanted = given.map((m) => m.split(':').map(Number) as [number, number, number]);
    else if (hc.usernsMode === 'keep-id') wanted = [[0, 1, self], [self, 0, 1], [self + 1, self + 1, total - self - 1]].filter((w) => w[2]! > 0) as [number, number, number][];
    else wanted = [[0, 0, total]];
    // The setup runs as the namespace's root with your store's files to open: you must be in it.
    if (!wanted.some(([, i, n]) => i === 0 && n > 0)) throw new TsctrError(`--${kind}map ${given?.join(' ')}: your own ${kind} (HOST 0) must be mapped into the container (e.g. --${kind}map 0:1:1000 --${kind}map 1000:0:1): the container's files are yours`);
    const out: string[] = [];
    for (const [c, i, n] of wanted) {
      fuse[kind].push(`${c}:${i}:${n}`);
      if (i + n > total) throw new TsctrError(`--${kind}map ${c}:${i}:${n}: outside your subordinate range (0 is you, 1..${total - 1} your subordinate ${kind}s)`);
      // One container range may span several host ranges.
      let [cc, ii, left] = [c, i, n];
      for (const r of own) {
        if (left === 0) break;
        if (ii >= r.count) {
          ii -= r.count;
          continue;
        }
        const take = Math.min(left, r.count - ii);
        out.push(`${cc} ${r.start + ii} ${take}`);
        cc += take;
        left -= take;
        ii = 0;
      }
    }
    return out;
  };
  const uid = build('uid', me.uid, uids, hc.uidMap);
  const gid = build('gid', me.gid, gids, hc.gidMap ?? (hc.uidMap && !hc.usernsMode ? hc.uidMap : undefined));
  return { uid, gid, fuse: { uid: fuse.uid.join(':'), gid: fuse.gid.join(':') } };
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

/**
 * Capabilities, no_new_privs and the seccomp filter: the same for the container's process and for
 * exec. --privileged: every capability (of the container's user namespace: nothing on the host),
 * no seccomp filter, as docker.
 */
export function processSecurity(hc: HostConfig): Spec {
  return [
    ...effectiveCaps(hc.privileged ? ['ALL'] : hc.capAdd, hc.privileged ? [] : hc.capDrop).map((cap): [string, string] => ['cap', cap]),
    ['no-new-privs', noNewPrivileges(hc.securityOpt) ? '1' : '0'],
    ['seccomp', hc.privileged ? 'unconfined' : seccompMode(hc.securityOpt)],
  ];
}

export function buildRunSpec(c: ContainerRecord, image: ImageRecord, network: Spec, otherPid: (name: string) => number = runningPidOf): Spec {
  const maps = containerIdMaps(c.hostConfig);
  const user = resolveUser(c.config.user, [containerPaths.upper(c.id), ...layersTopFirst(image)]);
  const env = c.config.env.some((e) => e.startsWith('HOME=')) ? c.config.env : [...c.config.env, `HOME=${user.home}`];
  const spec: Spec = [
    ['id', c.id],
    ['rootfs', containerPaths.rootfs(c.id)],
    ...layersTopFirst(image).map((l): [string, string] => ['lower', l]),
    ['upper', containerPaths.upper(c.id)],
    ['work', containerPaths.work(c.id)],
    ['storage', maps.fuse ? 'fuse-overlayfs' : c.storage],
    ...(maps.fuse ? [['fuse-uidmapping', maps.fuse.uid], ['fuse-gidmapping', maps.fuse.gid]] as [string, string][] : []),
    ...maps.uid.map((m): [string, string] => ['uidmap', m]),
    ...maps.gid.map((m): [string, string] => ['gidmap', m]),
    ...(c.hostConfig.utsMode === 'host' ? [] : [['hostname', c.config.hostname] as [string, string]]),
    ...network,
    ...etcFiles(c),
    ...mountEntries(c),
    ...runFlagsSpec(c.hostConfig, otherPid),
    ['readonly', c.hostConfig.readOnly ? '1' : '0'],
    ['cwd', c.config.workingDir],
    ['uid', String(user.uid)],
    ['gid', String(user.gid)],
    ['groups', [...new Set([...user.groups, ...addedGroups(c.hostConfig.groupAdd, [containerPaths.upper(c.id), ...layersTopFirst(image)])])].join(',')],
    ...[...env, `HOSTNAME=${c.config.hostname}`, ...(c.config.tty ? ['TERM=xterm'] : [])].map((e): [string, string] => ['env', e]),
    ...[c.path, ...c.args].map((a): [string, string] => ['arg', a]),
    ...processSecurity(c.hostConfig),
    ...processLimits(c.hostConfig),
    ['tty', c.config.tty ? '1' : '0'],
    ...logSpec(c),
    ['pid-file', containerPaths.pid(c.id)],
    ['monitor-pid-file', containerPaths.monitorPid(c.id)],
    ['helpers-file', containerPaths.helpers(c.id)],
    ['exit-file', containerPaths.exit(c.id)],
    ['restart-count-file', containerPaths.restarts(c.id)],
    ['init', c.hostConfig.init ? '1' : '0'],
    ['restart', restartValue(c.hostConfig.restart)],
    ['restart-file', restartPolicyFile(c.id)],
    ...monitorEventSpec(c),
  ];
  return spec;
}

/** The monitor rotates the log at these limits (0: unbounded). */
function logSpec(c: ContainerRecord): Spec {
  // --log-driver none: no log at all; the monitor writes nothing.
  if (c.hostConfig.logConfig?.type === 'none') return [];
  const { maxSize, maxFile } = logLimits(c.hostConfig.logConfig);
  return [
    ['log', containerPaths.log(c.id)],
    ['log-max-size', String(maxSize)],
    ['log-max-file', String(maxFile)],
  ];
}

