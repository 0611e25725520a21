/** Turning docker's run/create flags into a container's configuration, validating all of it first. */
import fs from 'node:fs';
import path from 'node:path';
import { TsctrError } from '../errors.js';
import { parseBytes } from '../util/units.js';
import { parsePublish } from '../net/ports.js';
import type { HostConfig, MountSpec } from './types.js';
import type { DeviceAccess } from './run-flags.js';

/**
 * docker's run/create flags, declared once: the command line parser (commands/create-options.ts)
 * makes its options from this table and hands the values over as `CreateOptions`, typed from it.
 * Adding a flag is one entry here, its use in buildContainerSpec (container-spec.ts) and a test.
 */
export const CREATE_FLAGS = {
  name: { names: '--name', kind: 'string', description: 'Assign a name to the container' },
  hostname: { names: '-h,--hostname', kind: 'string', description: 'Container host name' },
  env: { names: '-e,--env', kind: 'array', description: 'Set environment variables (K=V, or K to copy it)' },
  envFile: { names: '--env-file', kind: 'array', description: 'Read in a file of environment variables' },
  envHost: { names: '--env-host', kind: 'boolean', description: "Copy this shell's whole environment into the container (podman's --env-host)" },
  workdir: { names: '-w,--workdir', kind: 'string', description: 'Working directory inside the container' },
  user: { names: '-u,--user', kind: 'string', description: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  entrypoint: { names: '--entrypoint', kind: 'string', description: 'Overwrite the default ENTRYPOINT of the image' },
  volume: { names: '-v,--volume', kind: 'array', description: 'Bind mount a volume (/host:/ctr[:ro] or name:/ctr)' },
  mount: { names: '--mount', kind: 'array', description: 'Attach a filesystem mount to the container (type=bind|volume|tmpfs,source=,target=,readonly,...)' },
  tmpfs: { names: '--tmpfs', kind: 'array', description: 'Mount a tmpfs directory (/path[:options])' },
  readOnly: { names: '--read-only', kind: 'boolean', description: "Mount the container's root filesystem as read only" },
  init: { names: '--init', kind: 'boolean', description: 'Run an init inside the container that forwards signals and reaps processes' },
  ulimit: { names: '--ulimit', kind: 'array', description: 'Ulimit options (nofile=1024:4096)' },
  memory: { names: '-m,--memory', kind: 'string', description: 'Memory limit (needs a delegated cgroup v2)' },
  cpus: { names: '--cpus', kind: 'string', description: 'Number of CPUs (needs a delegated cgroup v2)' },
  pidsLimit: { names: '--pids-limit', kind: 'string', description: 'Tune container pids limit (set -1 for unlimited) (needs a delegated cgroup v2)' },
  restart: { names: '--restart', kind: 'string', description: 'Restart policy to apply when a container exits (no, on-failure[:N], always, unless-stopped)' },
  stopSignal: { names: '--stop-signal', kind: 'string', description: 'Signal to stop the container' },
  stopTimeout: { names: '--stop-timeout', kind: 'string', description: 'Timeout (in seconds) to stop a container' },
  label: { names: '-l,--label', kind: 'array', description: 'Set meta data on a container' },
  pull: { names: '--pull', kind: 'string', default: 'missing', description: 'Pull image before running ("always", "missing", "never")' },
  tty: { names: '-t,--tty', kind: 'boolean', description: 'Allocate a pseudo-TTY' },
  interactive: { names: '-i,--interactive', kind: 'boolean', description: 'Keep STDIN open even if not attached' },
  rm: { names: '--rm', kind: 'boolean', description: 'Automatically remove the container and its associated anonymous volumes when it exits' },
  network: { names: '--network,--net', kind: 'array', description: "Connect a container to a network: slirp4netns (default; also 'bridge'), pasta (keeps client addresses), none, host, container:NAME, or user networks by name (repeatable)" },
  networkAlias: { names: '--network-alias', kind: 'array', description: 'Add network-scoped alias for the container (user networks)' },
  ip: { names: '--ip', kind: 'string', description: 'IPv4 address (e.g., 172.30.100.104) on the (first) user network' },
  macAddress: { names: '--mac-address', kind: 'string', description: 'Container MAC address (e.g., 92:d0:c6:0a:29:33) on the (first) user network' },
  dns: { names: '--dns', kind: 'array', description: 'Set custom DNS servers' },
  dnsSearch: { names: '--dns-search', kind: 'array', description: 'Set custom DNS search domains' },
  dnsOption: { names: '--dns-option,--dns-opt', kind: 'array', description: 'Set DNS options' },
  addHost: { names: '--add-host', kind: 'array', description: 'Add a custom host-to-IP mapping (host:ip) (ip may be host-gateway)' },
  publish: { names: '-p,--publish', kind: 'array', description: "Publish a container's port(s) to the host" },
  pod: { names: '--pod', kind: 'string', description: "Run container in an existing pod (its network; ports are the pod's)" },
  publishAll: { names: '-P,--publish-all', kind: 'boolean', description: 'Publish all exposed ports to random ports' },
  platform: { names: '--platform', kind: 'string', description: 'Set platform if server is multi-platform capable (here: if the image is)' },
  capAdd: { names: '--cap-add', kind: 'array', description: 'Add Linux capabilities' },
  capDrop: { names: '--cap-drop', kind: 'array', description: 'Drop Linux capabilities' },
  logOpt: { names: '--log-opt', kind: 'array', description: 'Log driver options: max-size=10m (rotate at this size), max-file=3 (files kept)' },
  securityOpt: { names: '--security-opt', kind: 'array', description: 'Security Options: seccomp=unconfined (no seccomp filter), no-new-privileges[=false] (on by default)' },
  healthCmd: { names: '--health-cmd', kind: 'string', description: 'Command to run to check health' },
  healthInterval: { names: '--health-interval', kind: 'string', description: 'Time between running the check (ms|s|m|h) (default 30s)' },
  healthTimeout: { names: '--health-timeout', kind: 'string', description: 'Maximum time to allow one check to run (ms|s|m|h) (default 30s)' },
  healthRetries: { names: '--health-retries', kind: 'string', description: 'Consecutive failures needed to report unhealthy' },
  healthStartPeriod: { names: '--health-start-period', kind: 'string', description: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)' },
  healthStartInterval: { names: '--health-start-interval', kind: 'string', description: 'Time between running the check during the start period (ms|s|m|h) (default 5s)' },
  noHealthcheck: { names: '--no-healthcheck', kind: 'boolean', description: 'Disable any container-specified HEALTHCHECK' },
  replace: { names: '--replace', kind: 'boolean', description: 'If a container with the same name exists, replace it (podman)' },
  userns: { names: '--userns', kind: 'string', description: "User namespace to use: keep-id (your uid and gid inside, and the process runs as them); host is not possible rootless" },
  uidmap: { names: '--uidmap', kind: 'array', description: "UID map for the user namespace, CONTAINER:HOST:COUNT (HOST in your own range: 0 is you, 1.. your subordinate ids)" },
  gidmap: { names: '--gidmap', kind: 'array', description: 'GID map for the user namespace, CONTAINER:HOST:COUNT (as --uidmap)' },
  groupAdd: { names: '--group-add', kind: 'array', description: 'Add additional groups to join' },
  device: { names: '--device', kind: 'array', description: "Add a host device to the container (/dev/X[:/dev/Y][:rwm]; one you may open)" },
  privileged: { names: '--privileged', kind: 'boolean', description: "Give extended privileges to this container (rootless: every capability of its user namespace, no seccomp filter, no masked or read-only /proc paths)" },
  shmSize: { names: '--shm-size', kind: 'string', description: 'Size of /dev/shm (default 64m)' },
  sysctl: { names: '--sysctl', kind: 'array', description: 'Sysctl options (namespaced ones: net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)' },
  cidfile: { names: '--cidfile', kind: 'string', description: 'Write the container ID to the file' },
  labelFile: { names: '--label-file', kind: 'array', description: 'Read in a line delimited file of labels' },
  pid: { names: '--pid', kind: 'string', description: 'PID namespace to use (host, container:NAME)' },
  ipc: { names: '--ipc', kind: 'string', description: 'IPC mode to use (host, container:NAME, shareable, private)' },
  uts: { names: '--uts', kind: 'string', description: 'UTS namespace to use (host)' },
  logDriver: { names: '--log-driver', kind: 'string', description: 'Logging driver for the container: k8s-file (default), json-file (the same log), none' },
  oomScoreAdj: { names: '--oom-score-adj', kind: 'string', description: "Tune host's OOM preferences (-1000 to 1000); rootless, only upwards of your own" },
  memoryReservation: { names: '--memory-reservation', kind: 'string', description: 'Memory soft limit (needs a delegated cgroup v2)' },
  memorySwap: { names: '--memory-swap', kind: 'string', description: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap (needs a delegated cgroup v2)" },
  cpuShares: { names: '-c,--cpu-shares', kind: 'string', description: 'CPU shares (relative weight); needs a delegated cgroup v2' },
  cpusetCpus: { names: '--cpuset-cpus', kind: 'string', description: 'CPUs in which to allow execution (0-3, 0,1); needs a delegated cgroup v2' },
  blkioWeight: { names: '--blkio-weight', kind: 'string', description: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (needs a delegated cgroup v2)' },
  httpProxy: { names: '--http-proxy', kind: 'string', default: 'true', tolerateBoolean: true, description: "Set proxy environment variables in the container based on the host's (podman; default true, --http-proxy=false turns it off)" },
  detachKeys: { names: '--detach-keys', kind: 'string', description: 'Override the key sequence for detaching a container (accepted, no effect: tsctr has no detach from a running terminal)' },
} as const satisfies Record<string, FlagDecl>;

export interface FlagDecl {
  /** clipanion's comma-separated names, short first. */
  names: string;
  kind: 'string' | 'array' | 'boolean';
  description: string;
  default?: string;
  /** A string flag that may also stand alone (`--http-proxy`, `--http-proxy=false`): a value only after '='. */
  tolerateBoolean?: boolean;
}

type FlagValue<D> = D extends { kind: 'array' } ? string[] : D extends { kind: 'boolean' } ? boolean : D extends { tolerateBoolean: true } ? string | boolean : D extends { default: string } ? string : string | undefined;

/** The values of CREATE_FLAGS as parsed: strings as given, arrays in order, booleans. */
export type CreateFlags = { -readonly [K in keyof typeof CREATE_FLAGS]: FlagValue<(typeof CREATE_FLAGS)[K]> };

/** A `run`/`create` command line, parsed: the flags, the image, the command after it. */
export interface CreateOptions extends CreateFlags {
  image: string;
  command: string[];
  /** `run -d` (create is always detached): --rm then conflicts with a restart policy. */
  detach: boolean;
}

/** Whether a flag takes a value, by any of its names (`-e`, `--env`): for reading a stored command line. */
export function flagTakesValue(name: string): boolean | undefined {
  for (const d of Object.values(CREATE_FLAGS) as FlagDecl[]) {
    if (d.names.split(',').includes(name)) return d.kind !== 'boolean' && !d.tolerateBoolean;
  }
  return undefined;
}

/** The flags' defaults: `create IMAGE` with nothing else given. */
export function defaultCreateOptions(image: string, command: string[] = []): CreateOptions {
  const flags = Object.fromEntries(
    Object.entries(CREATE_FLAGS as Record<string, FlagDecl>).map(([k, d]) => [k, d.kind === 'array' ? [] : d.kind === 'boolean' ? false : d.default]),
  ) as unknown as CreateFlags;
  return { ...flags, image, command, detach: true };
}

/**
 * What buildContainerSpec may know of the machine it runs on, given to it rather than looked up,
 * so that building a spec is a pure function of its inputs (and testable without a disk).
 */
export interface HostView {
  /** Relative bind sources are resolved against this. */
  cwd: string;
  /** For `-e NAME` and --env-host. */
  env: Readonly<Record<string, string | undefined>>;
  /** An --env-file's text; undefined when it cannot be read. */
  readFile(file: string): string | undefined;
  /** Whether a bind mount's source exists. */
  exists(file: string): boolean;
  /** Whether a --device path is a device node this user may open (for writing too when asked). */
  device(file: string, write: boolean): DeviceAccess;
}

/** This process's view: its working directory, environment and files (the engine's, not a test's). */
export function processHost(): HostView {
  return {
    cwd: process.cwd(),
    env: process.env,
    readFile: (file) => {
      try {
        return fs.readFileSync(file, 'utf8');
      } catch {
        return undefined;
      }
    },
    exists: (file) => fs.existsSync(file),
    device: (file, write) => {
      let st: fs.Stats;
      try {
        st = fs.statSync(file);
      } catch {
        return 'missing';
      }
      if (!st.isCharacterDevice() && !st.isBlockDevice()) return 'not-a-device';
      try {
        fs.accessSync(file, write ? fs.constants.R_OK | fs.constants.W_OK : fs.constants.R_OK);
        return 'ok';
      } catch {
        return 'denied';
      }
    },
  };
}

/**
 * --env-host (the whole host environment), --env-file lines, then `-e K=V` and `-e K` (taken from
 * the host's environment, skipped if unset): later ones win when merged.
 */
export function parseEnv(env: string[], envFiles: string[], host: HostView = processHost(), envHost = false): string[] {
  const out: string[] = [];
  const add = (item: string) => {
    if (item.includes('=')) out.push(item);
    else if (host.env[item] !== undefined) out.push(`${item}=${host.env[item]}`);
  };
  if (envHost) for (const [k, v] of Object.entries(host.env)) if (v !== undefined) out.push(`${k}=${v}`);
  for (const file of envFiles) {
    const text = host.readFile(file);
    if (text === undefined) throw new TsctrError(`open ${file}: no such file or directory`);
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

export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function parseVolume(spec: string, host: HostView = processHost()): MountSpec {
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
  const noCopy = flags.includes('nocopy') ? { noCopy: true } : {};
  if (src === '') return { type: 'volume', source: '', destination: path.posix.normalize(dst), readOnly, ...noCopy };
  if (src.startsWith('/') || src.startsWith('.')) {
    const abs = path.resolve(host.cwd, src);
    if (!host.exists(abs)) throw new TsctrError(`invalid volume specification: '${spec}': bind source path does not exist: ${abs}`);
    return { type: 'bind', source: abs, destination: path.posix.normalize(dst), readOnly };
  }
  if (!VOLUME_NAME.test(src)) throw new TsctrError(`invalid volume name "${src}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return { type: 'volume', source: src, destination: path.posix.normalize(dst), readOnly, ...noCopy };
}

/** /proc, /sys and /dev are the kernel's, set up by the runtime: nothing may be mounted over them. */
export function refuseKernelDestination(spec: string, dst: string): void {
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
export function parseMount(spec: string, host: HostView = processHost()): MountSpec {
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
    const abs = path.resolve(host.cwd, source);
    if (!host.exists(abs)) throw new TsctrError(`invalid mount config for type "bind": bind source path does not exist: ${abs}`);
    return { type: 'bind', source: abs, destination, readOnly };
  }
  if (type === 'volume') {
    if (source && !VOLUME_NAME.test(source)) throw new TsctrError(`invalid volume name "${source}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const nc = fields.has('volume-nocopy') ? (take('volume-nocopy') ?? 'true') : 'false';
    if (!/^(true|false|1|0)$/i.test(nc)) throw invalid(`invalid value for volume-nocopy: ${nc}`);
    return { type: 'volume', source, destination, readOnly, ...(/^(true|1)$/i.test(nc) ? { noCopy: true } : {}) };
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

/** docker's options for a tmpfs given none. */
export const DEFAULT_TMPFS_OPTIONS = 'rw,nosuid,nodev,noexec,size=65536k';

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
  return { type: 'tmpfs', source: '', destination: dst, readOnly: false, options: opts || DEFAULT_TMPFS_OPTIONS };
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

export function parseResources(o: { memory?: string; cpus?: string; pidsLimit?: string }): Pick<HostConfig, 'memory' | 'nanoCpus' | 'pidsLimit'> {
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

/** --network values belong to the network modes (src/net/modes). */
export { parseNetwork } from '../net/modes/index.js';
