/**
 * Resource limits (--memory, --cpus, --pids-limit) need a cgroup v2 subtree delegated to the user,
 * as systemd gives every user session (user@UID.service) or an administrator gives by chown. tsctr
 * finds the topmost cgroup above its own that the user may manage, keeps its containers' cgroups in
 * `<that>/tsctr/<id>`, and the shim moves the container's init there before the program starts.
 * Without delegation a rootless engine cannot enforce limits: it says so once, plainly, and runs
 * the container anyway; the same for each controller the delegation lacks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TsctrError } from '../errors.js';

/** The limits a container asks for (0: none), as plain numbers: rootless code knows no container types. */
export interface ResourceLimits {
  memory: number;
  nanoCpus: number;
  pidsLimit: number;
  memoryReservation?: number;
  /** docker's memory + swap: -1 unlimited swap. */
  memorySwap?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  blkioWeight?: number;
}

export interface CgroupInfo {
  version: 1 | 2 | 'hybrid';
  delegated: boolean;
  /** Controllers usable below the delegated cgroup. */
  controllers: string[];
  /** The delegated cgroup, even one without controllers. */
  root?: string;
}

/** Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host. */
function cgroup2Mount(): string | undefined {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (right?.startsWith('cgroup2 ')) return left!.split(' ')[4]!.replace(/\\040/g, ' ');
  }
  return undefined;
}

function readWords(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

const writable = (file: string) => {
  try {
    fs.accessSync(file, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * The topmost cgroup, from ours upwards, whose processes this user may move: the delegation.
 * Moving a process needs write access to cgroup.procs of the common ancestor of where it is and
 * where it goes, so the container's cgroup must be below it.
 */
function delegatedRoot(): string | undefined {
  const mount = cgroup2Mount();
  if (!mount) return undefined;
  const own = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3);
  if (!own) return undefined;
  let dir = path.join(mount, own);
  if (!writable(path.join(dir, 'cgroup.procs'))) return undefined;
  while (dir !== mount && writable(path.join(path.dirname(dir), 'cgroup.procs'))) dir = path.dirname(dir);
  return dir;
}

export function cgroupInfo(): CgroupInfo {
  const unified = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
  const hybrid = !unified && fs.existsSync('/sys/fs/cgroup/unified/cgroup.controllers');
  const version = unified ? 2 : hybrid ? 'hybrid' : 1;
  const root = version === 1 ? undefined : delegatedRoot();
  const controllers = root ? readWords(path.join(root, 'cgroup.controllers')) : [];
  return { version, delegated: controllers.length > 0, controllers, root };
}

interface Limit {
  flag: string;
  controller: string;
  files: [string, string][];
}

/** What each limit needs, and the files that carry it (docker's cgroup v2 mapping). */
export function limitFiles(h: ResourceLimits): Limit[] {
  const out: Limit[] = [];
  if (h.memory) {
    // docker's default --memory-swap is twice --memory: as much swap again; -1 is no swap limit.
    const swap = h.memorySwap === -1 ? 'max' : String(h.memorySwap ? h.memorySwap - h.memory : h.memory);
    out.push({ flag: h.memorySwap ? '--memory, --memory-swap' : '--memory', controller: 'memory', files: [['memory.max', String(h.memory)], ['memory.swap.max', swap]] });
  }
  if (h.memoryReservation) out.push({ flag: '--memory-reservation', controller: 'memory', files: [['memory.low', String(h.memoryReservation)]] });
  // runc's conversions of the cgroup v1 values: shares 2..262144 → weight 1..10000, blkio 10..1000 → io 1..10000.
  if (h.cpuShares) out.push({ flag: '--cpu-shares', controller: 'cpu', files: [['cpu.weight', String(1 + Math.floor(((h.cpuShares - 2) * 9999) / 262142))]] });
  if (h.cpusetCpus) out.push({ flag: '--cpuset-cpus', controller: 'cpuset', files: [['cpuset.cpus', h.cpusetCpus]] });
  if (h.blkioWeight) out.push({ flag: '--blkio-weight', controller: 'io', files: [['io.weight', `default ${1 + Math.floor(((h.blkioWeight - 10) * 9999) / 990)}`]] });
  if (h.nanoCpus) {
    const period = 100000;
    out.push({ flag: '--cpus', controller: 'cpu', files: [['cpu.max', `${Math.max(1000, Math.round((h.nanoCpus / 1e9) * period))} ${period}`]] });
  }
  if (h.pidsLimit) out.push({ flag: '--pids-limit', controller: 'pids', files: [['pids.max', h.pidsLimit < 0 ? 'max' : String(h.pidsLimit)]] });
  return out;
}

/** Enables controllers for the children of dir, as far as dir has them (a cgroup with processes refuses: EBUSY). */
function enableControllers(dir: string, wanted: string[]): void {
  const on = new Set(readWords(path.join(dir, 'cgroup.subtree_control')));
  const available = new Set(readWords(path.join(dir, 'cgroup.controllers')));
  const add = wanted.filter((c) => available.has(c) && !on.has(c));
  if (add.length === 0) return;
  try {
    fs.writeFileSync(path.join(dir, 'cgroup.subtree_control'), add.map((c) => `+${c}`).join(' '));
  } catch {
    // what could not be enabled shows up as unavailable below
  }
}

/**
 * Prepares the container's cgroup with its limits and returns its path for the shim, or undefined
 * when no limit was asked or there is no delegation (then with one warning). Limits whose
 * controller the delegation lacks are warned about, the others apply.
 */
export function prepareCgroup(id: string, h: ResourceLimits): string | undefined {
  const limits = limitFiles(h);
  if (limits.length === 0) return undefined;
  const info = cgroupInfo();
  const root = info.root;
  if (!root) {
    const why =
      info.version === 2
        ? 'no cgroup v2 controllers are delegated to this user'
        : `this host uses cgroup ${info.version === 'hybrid' ? 'v1/v2 hybrid' : 'v1'} without delegation to users`;
    warnIgnored(limits, why, "; the container runs without these limits (see 'tsctr info')");
    return undefined;
  }
  const parent = path.join(root, 'tsctr');
  const dir = path.join(parent, id);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new TsctrError(`cannot create the container's cgroup ${dir}: ${(e as Error).message}`);
  }
  const wanted = limits.map((l) => l.controller);
  enableControllers(root, wanted);
  enableControllers(parent, wanted);
  const usable = new Set(readWords(path.join(parent, 'cgroup.subtree_control')));
  const missing = limits.filter((l) => !usable.has(l.controller));
  if (missing.length) {
    const controllers = missing.map((l) => l.controller);
    warnIgnored(missing, `the ${controllers.join(', ')} controller${missing.length > 1 ? 's are' : ' is'} not delegated to this user (delegated: ${info.controllers.join(' ') || 'none'})`, '');
  }
  const applied = limits.filter((l) => usable.has(l.controller));
  // The container has its cgroup even when no controller is there to limit it.
  for (const l of applied) {
    for (const [file, value] of l.files) {
      try {
        fs.writeFileSync(path.join(dir, file), value);
      } catch (e) {
        // Swap accounting may be off (no swap, or swapaccount=0): the memory limit alone still holds.
        if (file === 'memory.swap.max' && (e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        removeCgroup(dir);
        throw new TsctrError(`cannot set ${l.flag} (${file} = ${value}): ${(e as Error).message}`);
      }
    }
  }
  return dir;
}

/**
 * Says which limits the kernel will not enforce. --pids-limit still holds per uid of the
 * container, as RLIMIT_NPROC (container/spec.ts), which the warning says instead of "ignored".
 */
function warnIgnored(limits: Limit[], why: string, tail: string): void {
  const ignored = limits.filter((l) => l.controller !== 'pids');
  if (ignored.length) process.stderr.write(`WARNING: ${ignored.map((l) => l.flag).join(', ')} ignored: ${why}${tail}\n`);
  if (ignored.length < limits.length) {
    process.stderr.write(`WARNING: --pids-limit applies to each user of the container separately (RLIMIT_NPROC in its user namespace), not to the container as a whole: ${why}\n`);
  }
}

/** The container's cgroup, once its processes are gone; an rmdir, which only works on an empty one. */
export function removeCgroup(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // busy (still running) or already gone
  }
}

/** Where a container's cgroup is when it has one (exec joins it; rm removes a leftover). */
export function containerCgroup(id: string, h: ResourceLimits): string | undefined {
  const root = limitFiles(h).length > 0 ? delegatedRoot() : undefined;
  const dir = root && path.join(root, 'tsctr', id);
  return dir && fs.existsSync(dir) ? dir : undefined;
}
