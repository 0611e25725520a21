/**
 * `stats`: docker's columns. A container has a cgroup of its own only with limits and a delegated
 * cgroup v2; then CPU, memory, block I/O and pids come from its files, as docker reads them, each
 * where its controller is there. Otherwise (and for what a cgroup lacks) they are sums over the
 * processes of the container's pid namespace from /proc: CPU from utime+stime, memory as resident
 * set (shared pages count once per process), block I/O from /proc/PID/io. Network always comes
 * from the container's network namespace (its interfaces but lo). The memory limit is the
 * cgroup's memory.max where it has one, else the machine's memory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerCgroup } from '../rootless/cgroups.js';
import { bytesSize, humanSize } from '../util/units.js';
import { liveState } from './state.js';
import type { ContainerRecord } from './types.js';

export interface StatsRow {
  Container: string;
  ID: string;
  Name: string;
  CPUPerc: string;
  MemUsage: string;
  MemPerc: string;
  NetIO: string;
  BlockIO: string;
  PIDs: string;
}

export const STATS_HEADERS: Record<string, string> = {
  Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %',
  NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};

/** One reading of a container's processes. */
export interface Sample {
  at: number; // ms
  cpuUsec: number;
  rss: number;
  read: number;
  write: number;
  rx: number;
  tx: number;
  pids: number;
}

const TICKS = 100; // USER_HZ: what /proc/PID/stat counts in, on every Linux architecture we run on
const PAGE = 4096;

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return undefined; // gone, or not ours to read
  }
}

function members(initPid: number): number[] {
  let ns: string;
  try {
    ns = fs.readlinkSync(`/proc/${initPid}/ns/pid`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    try {
      if (fs.readlinkSync(`/proc/${name}/ns/pid`) === ns) out.push(Number(name));
    } catch {
      // gone, or another user's
    }
  }
  return out;
}

export function sample(c: ContainerRecord): Sample | undefined {
  const st = liveState(c);
  if (st.status !== 'running') return undefined;
  const s: Sample = { at: Date.now(), cpuUsec: 0, rss: 0, read: 0, write: 0, rx: 0, tx: 0, pids: 0 };
  for (const pid of members(st.pid)) {
    const stat = read(`/proc/${pid}/stat`);
    if (!stat) continue;
    s.pids++;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    s.cpuUsec += ((Number(f[11]) + Number(f[12])) * 1e6) / TICKS; // utime, stime (fields 14, 15)
    const statm = read(`/proc/${pid}/statm`)?.split(' ');
    if (statm) s.rss += Number(statm[1]) * PAGE;
    const io = read(`/proc/${pid}/io`);
    if (io) {
      s.read += Number(/^read_bytes: (\d+)/m.exec(io)?.[1] ?? 0);
      s.write += Number(/^write_bytes: (\d+)/m.exec(io)?.[1] ?? 0);
    }
  }
  const cg = containerCgroup(c.id, c.hostConfig);
  if (cg) fromCgroup(cg, s);
  // The container's network namespace, as its init sees it.
  for (const line of (read(`/proc/${st.pid}/net/dev`) ?? '').split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const n = m[2]!.trim().split(/\s+/).map(Number);
    s.rx += n[0] ?? 0;
    s.tx += n[8] ?? 0;
  }
  return s;
}

/** What the container's own cgroup counts, where its controllers are enabled (docker's way for v2). */
function fromCgroup(cg: string, s: Sample): void {
  const file = (name: string) => read(path.join(cg, name));
  const usage = /^usage_usec (\d+)$/m.exec(file('cpu.stat') ?? '')?.[1];
  if (usage) s.cpuUsec = Number(usage);
  const mem = file('memory.current')?.trim();
  if (mem && /^\d+$/.test(mem)) {
    // docker leaves out the page cache the kernel can take back at once
    const inactive = Number(/^inactive_file (\d+)$/m.exec(file('memory.stat') ?? '')?.[1] ?? 0);
    s.rss = Math.max(0, Number(mem) - inactive);
  }
  const io = file('io.stat');
  if (io) {
    s.read = 0;
    s.write = 0;
    for (const m of io.matchAll(/rbytes=(\d+) wbytes=(\d+)/g)) {
      s.read += Number(m[1]);
      s.write += Number(m[2]);
    }
  }
  const pids = file('pids.current')?.trim();
  if (pids && /^\d+$/.test(pids)) s.pids = Number(pids);
}

export function memoryLimit(c: ContainerRecord): number {
  const cg = containerCgroup(c.id, c.hostConfig);
  const max = cg ? read(path.join(cg, 'memory.max'))?.trim() : undefined;
  if (max && /^\d+$/.test(max)) return Number(max);
  return os.totalmem();
}

/** A row from two samples (CPU % is the share of one CPU between them, docker's meaning). */
export function statsRow(c: ContainerRecord, before: Sample | undefined, now: Sample | undefined, noTrunc = false): StatsRow {
  const id = noTrunc ? c.id : c.id.slice(0, 12);
  if (!now) {
    return { Container: id, ID: id, Name: c.name, CPUPerc: '0.00%', MemUsage: '0B / 0B', MemPerc: '0.00%', NetIO: '0B / 0B', BlockIO: '0B / 0B', PIDs: '0' };
  }
  const limit = memoryLimit(c);
  const wall = before ? (now.at - before.at) / 1000 : 0;
  const cpu = before && wall > 0 ? ((now.cpuUsec - before.cpuUsec) / 1e6 / wall) * 100 : 0;
  return {
    Container: id,
    ID: id,
    Name: c.name,
    CPUPerc: `${Math.max(0, cpu).toFixed(2)}%`,
    MemUsage: `${bytesSize(now.rss)} / ${bytesSize(limit)}`,
    MemPerc: `${((now.rss / limit) * 100).toFixed(2)}%`,
    NetIO: `${humanSize(now.rx)} / ${humanSize(now.tx)}`,
    BlockIO: `${humanSize(now.read)} / ${humanSize(now.write)}`,
    PIDs: String(now.pids),
  };
}
