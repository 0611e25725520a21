/**
 * docker's run/create flags beyond the everyday ones — namespaces, devices, sysctls, /dev/shm,
 * the finer resource limits, the log driver, the id file — each parsed and checked here, before
 * anything is created, with docker's wording for bad values. What rootless cannot do is refused
 * with the reason, never half done.
 */
import path from 'node:path';
import { TsctrError } from '../errors.js';
import { parseBytes } from '../util/units.js';
import type { DeviceMapping, HostConfig } from './types.js';

const invalid = (value: string, flag: string, why?: string) => new TsctrError(`invalid argument "${value}" for "${flag}" flag${why ? `: ${why}` : ''}`);

/** --shm-size: the size of /dev/shm (docker's default 64 MiB). */
export function parseShmSize(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  let n: number;
  try {
    n = parseBytes(v);
  } catch {
    throw invalid(v, '--shm-size', `invalid size: '${v}'`);
  }
  if (!(n > 0)) throw invalid(v, '--shm-size', 'shm size must be greater than 0');
  return n;
}

/** The sysctls a container's own namespaces hold (docker's list): IPC's and the network's. */
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

export function parseSysctls(list: string[], modes: { network: string; ipcMode?: string; utsMode?: string }): Record<string, string> | undefined {
  if (!list.length) return undefined;
  const out: Record<string, string> = {};
  for (const s of list) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw invalid(s, '--sysctl', `sysctl '${s}' is not in the form key=value`);
    const key = s.slice(0, eq).replace(/\//g, '.');
    const ipc = IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.');
    const net = key.startsWith('net.');
    const uts = key === 'kernel.domainname' || key === 'kernel.hostname';
    if (!ipc && !net && !uts) throw invalid(s, '--sysctl', `sysctl '${s}' is not allowed: it is not namespaced (allowed: net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)`);
    if (ipc && modes.ipcMode === 'host') throw invalid(s, '--sysctl', `sysctl '${s}' is not allowed in the host's IPC namespace`);
    if (net && (modes.network === 'host' || modes.network.startsWith('container:'))) throw invalid(s, '--sysctl', `sysctl '${s}' is not allowed in ${modes.network === 'host' ? "the host's" : 'a shared'} network namespace`);
    if (uts && modes.utsMode === 'host') throw invalid(s, '--sysctl', `sysctl '${s}' is not allowed in the host's UTS namespace`);
    if (key === 'kernel.hostname') throw invalid(s, '--sysctl', 'setting the hostname through a sysctl is not allowed: use --hostname');
    if (!/^[a-z0-9_.-]+$/i.test(key) || key.includes('..')) throw invalid(s, '--sysctl', `sysctl '${s}' is not a valid name`);
    out[key] = s.slice(eq + 1);
  }
  return out;
}

/** --group-add: group names (looked up in the image when it starts) or gids. */
export function parseGroupAdd(list: string[]): string[] | undefined {
  for (const g of list) {
    if (!/^(\d+|[a-zA-Z_][a-zA-Z0-9_.-]*\$?)$/.test(g)) throw invalid(g, '--group-add', `invalid group name or id '${g}'`);
    if (/^\d+$/.test(g) && Number(g) > 65535) throw invalid(g, '--group-add', `group ${g} is outside the 65536 ids mapped into the container`);
  }
  return list.length ? list : undefined;
}

/** What the host says of a device path: tsctr binds the node, so the user must be able to open it. */
export type DeviceAccess = 'ok' | 'missing' | 'not-a-device' | 'denied';

/** --device /dev/X[:/dev/Y][:rwm]. */
export function parseDevices(list: string[], access: (file: string, write: boolean) => DeviceAccess): DeviceMapping[] | undefined {
  const out: DeviceMapping[] = [];
  for (const d of list) {
    const parts = d.split(':');
    let [src = '', dst, perms] = parts;
    if (parts.length === 2 && /^[rwm]+$/.test(dst ?? '')) [dst, perms] = [undefined, dst];
    if (parts.length > 3 || !src) throw invalid(d, '--device', `invalid device specification: ${d}`);
    perms ??= 'rwm';
    if (!/^[rwm]{1,3}$/.test(perms) || new Set(perms).size !== perms.length) throw invalid(d, '--device', `invalid device mode: ${perms}`);
    if (!src.startsWith('/')) throw invalid(d, '--device', `${src} is not an absolute path`);
    dst ??= src;
    if (!dst.startsWith('/')) throw invalid(d, '--device', `${dst} is not an absolute path`);
    const how = access(src, perms.includes('w'));
    const gathering = `error gathering device information while adding custom device "${src}"`;
    if (how === 'missing') throw new TsctrError(`${gathering}: no such file or directory`);
    if (how === 'not-a-device') throw new TsctrError(`${gathering}: not a device node`);
    if (how === 'denied') throw new TsctrError(`${gathering}: permission denied: rootless, tsctr binds the host's device node into the container, and you may not open ${src}${perms.includes('w') ? ' for writing' : ''}`);
    out.push({ pathOnHost: path.posix.normalize(src), pathInContainer: path.posix.normalize(dst), cgroupPermissions: perms });
  }
  return out.length ? out : undefined;
}

/** --userns '' | keep-id (podman) | host (impossible rootless: refused with the reason). */
export function parseUserns(v: string | undefined, uidmap: string[], gidmap: string[]): Pick<HostConfig, 'usernsMode' | 'uidMap' | 'gidMap'> {
  const out: Pick<HostConfig, 'usernsMode' | 'uidMap' | 'gidMap'> = {};
  if (v !== undefined && v !== '' && v !== 'private') {
    if (v === 'host') {
      throw new TsctrError("--userns host: rootless, a container always has a user namespace of its own (without one your uid could not be root to mount its filesystem); use --userns keep-id to keep your uid inside");
    }
    if (v !== 'keep-id') throw invalid(v, '--userns', `invalid user namespace mode '${v}' (keep-id; host is not possible rootless)`);
    out.usernsMode = v;
  }
  for (const [flag, list, key] of [['--uidmap', uidmap, 'uidMap'], ['--gidmap', gidmap, 'gidMap']] as const) {
    if (!list.length) continue;
    if (out.usernsMode) throw new TsctrError(`--userns and ${flag} cannot be used together`);
    for (const m of list) {
      const f = /^(\d+):(\d+):(\d+)$/.exec(m);
      if (!f || Number(f[3]) < 1) throw invalid(m, flag, 'want CONTAINER:HOST:COUNT (HOST counts in your own range: 0 is you, 1.. your subordinate ids)');
    }
    out[key] = list;
  }
  return out;
}

/** --pid, --ipc, --uts: '' (its own namespace), host, container:NAME. */
export function parseNamespaceModes(o: { pid?: string; ipc?: string; uts?: string }): Pick<HostConfig, 'pidMode' | 'ipcMode' | 'utsMode'> {
  const check = (v: string | undefined, flag: string, what: string, extra: string[]) => {
    if (v === undefined || v === '') return undefined;
    if (v === 'host' || extra.includes(v)) return v;
    if (v.startsWith('container:') && extra.length !== 0 && v.length > 'container:'.length) return v;
    throw new TsctrError(`--${flag}: invalid ${what} mode '${v}' (host${extra.length ? `, container:NAME, ${extra.join(', ')}` : ''})`);
  };
  const out: Pick<HostConfig, 'pidMode' | 'ipcMode' | 'utsMode'> = {};
  const pid = check(o.pid, 'pid', 'PID', ['private']);
  const ipc = check(o.ipc, 'ipc', 'IPC', ['private', 'shareable', 'none']);
  const uts = check(o.uts, 'uts', 'UTS', []);
  if (pid && pid !== 'private') out.pidMode = pid;
  if (ipc && ipc !== 'private') out.ipcMode = ipc;
  if (uts) out.utsMode = uts;
  return out;
}

/** --oom-score-adj: docker's range. */
export function parseOomScoreAdj(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim())) throw invalid(v, '--oom-score-adj', 'strconv.ParseInt: parsing: invalid syntax');
  if (n < -1000 || n > 1000) throw new TsctrError(`Invalid value: ${n}, range for oom score adj is [-1000, 1000]`);
  return n;
}

/** The resource flags beyond --memory/--cpus/--pids-limit, with docker's checks against --memory. */
export function parseMoreResources(
  o: { memoryReservation?: string; memorySwap?: string; cpuShares?: string; cpusetCpus?: string; blkioWeight?: string },
  memory: number,
): Pick<HostConfig, 'memoryReservation' | 'memorySwap' | 'cpuShares' | 'cpusetCpus' | 'blkioWeight'> {
  const out: Pick<HostConfig, 'memoryReservation' | 'memorySwap' | 'cpuShares' | 'cpusetCpus' | 'blkioWeight'> = {};
  const bytes = (v: string, flag: string) => {
    try {
      return parseBytes(v);
    } catch {
      throw invalid(v, flag, `invalid size: '${v}'`);
    }
  };
  if (o.memoryReservation !== undefined && o.memoryReservation !== '0') {
    const r = bytes(o.memoryReservation, '--memory-reservation');
    if (memory && r > memory) throw new TsctrError('Minimum memory limit can not be less than memory reservation limit, see usage');
    if (r) out.memoryReservation = r;
  }
  if (o.memorySwap !== undefined && o.memorySwap !== '0') {
    const s = o.memorySwap === '-1' ? -1 : bytes(o.memorySwap, '--memory-swap');
    if (s > 0 && !memory) throw new TsctrError('You should always set the Memory limit when using Memoryswap limit, see usage');
    if (s > 0 && s < memory) throw new TsctrError('Minimum memoryswap limit should be larger than memory limit, see usage');
    out.memorySwap = s;
  }
  if (o.cpuShares !== undefined) {
    if (!/^\d+$/.test(o.cpuShares)) throw invalid(o.cpuShares, '--cpu-shares', 'strconv.ParseInt: parsing: invalid syntax');
    const n = Number(o.cpuShares);
    if (n > 262144) throw new TsctrError(`invalid --cpu-shares ${n}: the maximum is 262144`);
    if (n) out.cpuShares = Math.max(2, n);
  }
  if (o.cpusetCpus !== undefined && o.cpusetCpus !== '') {
    const ok = o.cpusetCpus.split(',').every((r) => {
      const m = /^(\d+)(?:-(\d+))?$/.exec(r);
      return m && (m[2] === undefined || Number(m[2]) >= Number(m[1]));
    });
    if (!ok) throw new TsctrError(`Invalid value ${o.cpusetCpus} for cpuset cpus`);
    out.cpusetCpus = o.cpusetCpus;
  }
  if (o.blkioWeight !== undefined && o.blkioWeight !== '0') {
    const n = Number(o.blkioWeight);
    if (!/^\d+$/.test(o.blkioWeight)) throw invalid(o.blkioWeight, '--blkio-weight', 'strconv.ParseUint: parsing: invalid syntax');
    if (n < 10 || n > 1000) throw new TsctrError('Range of blkio weight is from 10 to 1000');
    out.blkioWeight = n;
  }
  return out;
}

/** --log-driver: tsctr's log is k8s-file records (json-file accepted as its alias), or none. */
export function parseLogDriver(v: string | undefined): 'k8s-file' | 'json-file' | 'none' | undefined {
  if (v === undefined || v === '') return undefined;
  if (v === 'k8s-file' || v === 'json-file' || v === 'none') return v;
  if (v === 'journald' || v === 'syslog' || v === 'passthrough') {
    throw new TsctrError(`the ${v} log driver is not supported by tsctr (k8s-file, json-file: the container's log file; none)`);
  }
  throw new TsctrError(`error looking up logging plugin ${v}: plugin "${v}" not found`);
}

/** --label-file: a line per label (K=V or K), # comments and blank lines skipped, as docker reads it. */
export function parseLabelFiles(files: string[], readFile: (f: string) => string | undefined): string[] {
  const out: string[] = [];
  for (const file of files) {
    const text = readFile(file);
    if (text === undefined) throw new TsctrError(`open ${file}: no such file or directory`);
    for (const line of text.split('\n')) {
      const l = line.trim();
      if (l && !l.startsWith('#')) out.push(l);
    }
  }
  return out;
}

/** --http-proxy (podman, default true): the host's proxy variables, under what -e and the files set. */
export const PROXY_VARS = ['http_proxy', 'https_proxy', 'ftp_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY'];

export function parseBoolFlag(v: string | boolean | undefined, flag: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v === 'boolean') return v;
  if (/^(true|1)$/i.test(v)) return true;
  if (/^(false|0)$/i.test(v)) return false;
  throw invalid(v, flag, 'strconv.ParseBool: parsing: invalid syntax');
}

/** --detach-keys: docker's syntax, a comma-separated sequence of ctrl-<key> or single characters. */
export function checkDetachKeys(v: string | undefined): void {
  if (v === undefined || v === '') return;
  for (const k of v.split(',')) {
    if (/^ctrl-[a-z@[\\\]^_]$/.test(k) || /^[\x21-\x7e]$/.test(k)) continue;
    throw new TsctrError(`Invalid detach keys (${v}) provided`);
  }
}

/** HostConfig's docker fields for these flags (inspect). */
export function hostConfigView(hc: HostConfig): Record<string, unknown> {
  return {
    Privileged: hc.privileged,
    ShmSize: hc.shmSize ?? 64 * 1024 * 1024,
    Sysctls: hc.sysctls ?? null,
    GroupAdd: hc.groupAdd ?? null,
    Devices: (hc.devices ?? []).map((d) => ({ PathOnHost: d.pathOnHost, PathInContainer: d.pathInContainer, CgroupPermissions: d.cgroupPermissions })),
    UsernsMode: hc.usernsMode ?? '',
    ...(hc.uidMap || hc.gidMap ? { IDMappings: { UidMap: hc.uidMap ?? [], GidMap: hc.gidMap ?? [] } } : {}),
    PidMode: hc.pidMode ?? '',
    IpcMode: hc.ipcMode ?? 'private',
    UTSMode: hc.utsMode ?? '',
    OomScoreAdj: hc.oomScoreAdj ?? 0,
    MemoryReservation: hc.memoryReservation ?? 0,
    MemorySwap: hc.memorySwap ?? 0,
    CpuShares: hc.cpuShares ?? 0,
    CpusetCpus: hc.cpusetCpus ?? '',
    BlkioWeight: hc.blkioWeight ?? 0,
    ContainerIDFile: hc.containerIdFile ?? '',
    ConsoleSize: hc.consoleSize ? [hc.consoleSize.rows, hc.consoleSize.cols] : [0, 0],
  };
}
