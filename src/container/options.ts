/** Turning docker's run/create flags into a container's configuration, validating all of it first. */
import fs from 'node:fs';
import path from 'node:path';
import { TsctrError } from '../errors.js';
import { parseBytes } from '../util/units.js';
import { parsePublish } from '../net/ports.js';
import type { HostConfig, MountSpec } from './types.js';

export interface RunOptions {
  image: string;
  command: string[];
  name?: string;
  hostname?: string;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  volumes: string[];
  tmpfs: string[];
  readOnly: boolean;
  init: boolean;
  ulimits: string[];
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  restart?: string;
  stopSignal?: string;
  stopTimeout?: number;
  labels: string[];
  pull: string;
  tty: boolean;
  interactive: boolean;
  detach: boolean;
  rm: boolean;
  network?: string;
  /** Join this pod (its network, its label). */
  pod?: string;
  publish: string[];
  publishAll: boolean;
  platform?: string;
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  /** --mount, docker's long form. */
  mounts?: string[];
  logOpt?: string[];
  /** --health-* and --no-healthcheck, as given (health.ts). */
  health?: import('./health.js').HealthFlags;
}

/** `run -d IMAGE` with nothing else given: the base that programs (pods, play kube, build) fill in. */
export function defaultRunOptions(image: string): RunOptions {
  return {
    image, command: [], env: [], envFile: [], volumes: [], tmpfs: [], readOnly: false, init: false, ulimits: [], labels: [],
    pull: 'missing', tty: false, interactive: false, detach: true, rm: false, publish: [], publishAll: false, capAdd: [], capDrop: [], securityOpt: [],
  };
}

/** `-e K=V`, `-e K` (taken from our environment, skipped if unset) and --env-file lines. */
export function parseEnv(env: string[], envFiles: string[]): string[] {
  const out: string[] = [];
  const add = (item: string) => {
    if (item.includes('=')) out.push(item);
    else if (process.env[item] !== undefined) out.push(`${item}=${process.env[item]}`);
  };
  for (const file of envFiles) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      throw new TsctrError(`open ${file}: no such file or directory`);
    }
    for (const line of text.split('\n')) {
      const l = line.replace(/^\s+/, '').replace(/\r$/, '');
      if (l && !l.startsWith('#')) add(l);
    }
  }
  env.forEach(add);
  return out;
}

export function mergeEnv(base: string[], overrides: string[]): string[] {
  const map = new Map<string, string>();
  for (const e of [...base, ...overrides]) {
    const i = e.indexOf('=');
    map.set(i < 0 ? e : e.slice(0, i), e);
  }
  return [...map.values()];
}

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function parseVolume(spec: string): MountSpec {
  const parts = spec.split(':');
  let [src, dst, opts] = parts.length === 1 ? ['', parts[0]!, ''] : [parts[0]!, parts[1] ?? '', parts[2] ?? ''];
  if (parts.length > 3 || !dst) throw new TsctrError(`invalid volume specification: '${spec}'`);
  if (!dst.startsWith('/')) throw new TsctrError(`invalid volume specification: '${spec}': destination must be an absolute path`);
  const flags = opts ? opts.split(',') : [];
  for (const f of flags) {
    if (!['ro', 'rw', 'z', 'Z', 'rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave', 'nocopy'].includes(f)) {
      throw new TsctrError(`invalid mode: ${f}`);
    }
  }
  const readOnly = flags.includes('ro');
  refuseKernelDestination(spec, dst);
  if (src === '') return { type: 'volume', source: '', destination: path.posix.normalize(dst), readOnly };
  if (src.startsWith('/') || src.startsWith('.')) {
    const abs = path.resolve(src);
    if (!fs.existsSync(abs)) throw new TsctrError(`invalid volume specification: '${spec}': bind source path does not exist: ${abs}`);
    return { type: 'bind', source: abs, destination: path.posix.normalize(dst), readOnly };
  }
  if (!VOLUME_NAME.test(src)) throw new TsctrError(`invalid volume name "${src}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return { type: 'volume', source: src, destination: path.posix.normalize(dst), readOnly };
}

/** /proc, /sys and /dev are the kernel's, set up by the runtime: nothing may be mounted over them. */
function refuseKernelDestination(spec: string, dst: string): void {
  const d = path.posix.normalize(dst).replace(/\/+$/, '') || '/';
  if (['/proc', '/sys', '/dev'].includes(d) || d.startsWith('/proc/') || d.startsWith('/sys/')) {
    throw new TsctrError(`invalid mount specification '${spec}': ${d} cannot be mounted over (it is the kernel's: /proc, /sys, /dev)`);
  }
}

/**
 * --mount, docker's long form: comma-separated key=value fields (a value in double quotes may
 * hold commas). type bind, volume (source empty: an anonymous volume) or tmpfs; target,
 * destination or dst; source or src; readonly or ro (=true|false|1|0); tmpfs-size, tmpfs-mode;
 * bind-propagation; volume-nocopy. Anything else is refused, as docker refuses unknown keys.
 */
export function parseMount(spec: string): MountSpec {
  const fields = new Map<string, string | undefined>();
  for (const f of spec.match(/(?:[^,"]|"[^"]*")+/g) ?? []) {
    const eq = f.indexOf('=');
    const key = (eq < 0 ? f : f.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? undefined : f.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    fields.set(key, value);
  }
  const invalid = (why: string) => new TsctrError(`invalid argument "${spec}" for "--mount" flag: ${why}`);
  const take = (...keys: string[]) => {
    for (const k of keys) if (fields.has(k)) return fields.get(k);
    return undefined;
  };
  const type = take('type') ?? 'volume';
  const target = take('target', 'destination', 'dst');
  const source = take('source', 'src') ?? '';
  const roRaw = fields.has('readonly') || fields.has('ro') ? (take('readonly', 'ro') ?? 'true') : 'false';
  if (!/^(true|false|1|0)$/i.test(roRaw)) throw invalid(`invalid value for readonly: ${roRaw}`);
  const readOnly = /^(true|1)$/i.test(roRaw);
  const known = new Set(['type', 'target', 'destination', 'dst', 'source', 'src', 'readonly', 'ro', 'tmpfs-size', 'tmpfs-mode', 'bind-propagation', 'volume-nocopy', 'consistency']);
  for (const k of fields.keys()) if (!known.has(k)) throw invalid(`unexpected key '${k}' in '${k}${fields.get(k) === undefined ? '' : `=${fields.get(k)}`}'`);
  if (!target) throw invalid('target is required');
  if (!target.startsWith('/')) throw invalid(`invalid mount path: '${target}' mount path must be absolute`);
  const mountSpec = `${source}:${target}`;
  refuseKernelDestination(mountSpec, target);
  const destination = path.posix.normalize(target);
  if (type === 'bind') {
    if (!source) throw invalid('source is required when specifying bind mounts');
    const abs = path.resolve(source);
    if (!fs.existsSync(abs)) throw new TsctrError(`invalid mount config for type "bind": bind source path does not exist: ${abs}`);
    return { type: 'bind', source: abs, destination, readOnly };
  }
  if (type === 'volume') {
    if (source && !VOLUME_NAME.test(source)) throw new TsctrError(`invalid volume name "${source}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    return { type: 'volume', source, destination, readOnly };
  }
  if (type === 'tmpfs') {
    if (source) throw invalid('source is not allowed for tmpfs mounts');
    const opts = [readOnly ? 'ro' : 'rw', 'nosuid', 'nodev', 'noexec'];
    const size = take('tmpfs-size');
    if (size !== undefined) opts.push(`size=${parseBytes(size)}`);
    const mode = take('tmpfs-mode');
    if (mode !== undefined) {
      if (!/^[0-7]{1,4}$/.test(mode)) throw invalid(`invalid value for tmpfs-mode: ${mode}`);
      opts.push(`mode=${mode.padStart(4, '0')}`);
    }
    if (size === undefined) opts.push('size=65536k');
    return { type: 'tmpfs', source: '', destination, readOnly, options: opts.join(',') };
  }
  throw invalid(`mount type "${type}" is not supported (bind, volume, tmpfs)`);
}

/** docker's tmpfs options (and the mount flags the shim knows). */
const TMPFS_FLAGS = new Set(['ro', 'rw', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'sync', 'async', 'dirsync',
  'noatime', 'atime', 'nodiratime', 'diratime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime', 'tmpcopyup', 'notmpcopyup']);
const TMPFS_VALUES = /^(size=\d+[kmg%]?|nr_inodes=\d+[kmg]?|nr_blocks=\d+[kmg]?|mode=[0-7]{3,4}|uid=\d+|gid=\d+)$/i;

export function parseTmpfs(spec: string): MountSpec {
  const [dst = '', opts = ''] = spec.split(/:(.*)/s);
  if (!dst.startsWith('/')) throw new TsctrError(`invalid tmpfs specification "${spec}": destination must be an absolute path`);
  refuseKernelDestination(spec, dst);
  for (const o of opts ? opts.split(',') : []) {
    if (!TMPFS_FLAGS.has(o) && !TMPFS_VALUES.test(o)) throw new TsctrError(`invalid tmpfs option "${o}" in "${spec}"`);
  }
  return { type: 'tmpfs', source: '', destination: dst, readOnly: false, options: opts || 'rw,nosuid,nodev,noexec,size=65536k' };
}

const RLIMITS: Record<string, string> = {
  core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO', rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK', as: 'RLIMIT_AS',
};

export function parseUlimit(spec: string): { name: string; soft: number; hard: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(spec);
  const name = m && RLIMITS[m[1]!];
  if (!m || !name) throw new TsctrError(`invalid ulimit argument: ${spec}`);
  const soft = Number(m[2]);
  const hard = m[3] !== undefined ? Number(m[3]) : soft;
  if (hard !== -1 && soft > hard) throw new TsctrError(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { name, soft, hard };
}

export function parseRestart(spec: string | undefined): HostConfig['restart'] {
  if (!spec || spec === 'no') return { name: 'no', maxRetries: 0 };
  const [name, n] = spec.split(':');
  if (name === 'always' || name === 'unless-stopped') {
    if (n !== undefined) throw new TsctrError(`maximum retry count cannot be used with restart policy '${name}'`);
    return { name, maxRetries: 0 };
  }
  if (name === 'on-failure') {
    const max = n === undefined ? 0 : Number(n);
    if (!Number.isInteger(max) || max < 0) throw new TsctrError(`invalid restart policy: maximum retry count must be a positive integer`);
    return { name, maxRetries: max };
  }
  throw new TsctrError(`invalid restart policy '${spec}': use no, always, unless-stopped or on-failure[:N]`);
}

export function parseLabels(labels: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) {
    const i = l.indexOf('=');
    out[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
  }
  return out;
}

const CAPS = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
];

/** docker's default set. */
export const DEFAULT_CAPS = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP',
  'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

export function normaliseCap(c: string): string {
  const name = c.toUpperCase().replace(/^CAP_/, '');
  if (name !== 'ALL' && !CAPS.includes(name)) throw new TsctrError(`invalid capability: ${c}`);
  return name;
}

export function effectiveCaps(add: string[], drop: string[]): string[] {
  const a = add.map(normaliseCap);
  const d = drop.map(normaliseCap);
  let caps = a.includes('ALL') ? [...CAPS] : [...new Set([...DEFAULT_CAPS, ...a])];
  caps = d.includes('ALL') ? caps.filter((c) => a.includes(c)) : caps.filter((c) => !d.includes(c));
  return caps.map((c) => `CAP_${c}`);
}

export function parseResources(o: Pick<RunOptions, 'memory' | 'cpus' | 'pidsLimit'>): Pick<HostConfig, 'memory' | 'nanoCpus' | 'pidsLimit'> {
  // 0 is no limit, as with docker.
  const memory = o.memory ? parseBytes(o.memory) : 0;
  if (memory && memory < 6 * 1024 * 1024) throw new TsctrError('Minimum memory limit allowed is 6MB');
  const cpus = o.cpus ? Number(o.cpus) : 0;
  if (o.cpus && !(cpus > 0)) throw new TsctrError(`invalid argument "${o.cpus}" for "--cpus" flag`);
  const pids = o.pidsLimit ? Number(o.pidsLimit) : 0;
  if (o.pidsLimit && !Number.isInteger(pids)) throw new TsctrError(`invalid argument "${o.pidsLimit}" for "--pids-limit" flag`);
  return { memory, nanoCpus: Math.round(cpus * 1e9), pidsLimit: pids };
}

export function parsePorts(publish: string[]) {
  return publish.flatMap(parsePublish);
}

export const NETWORK_MODES = ['pasta', 'slirp4netns', 'none', 'host'];

export function parseNetwork(n: string | undefined): string {
  if (!n || n === 'default' || n === 'bridge') return 'default';
  if (NETWORK_MODES.includes(n) || /^container:.+/.test(n)) return n;
  throw new TsctrError(`network ${n} not found: use pasta, slirp4netns, none, host or container:NAME`);
}
