/**
 * One host port spread over a service's replicas: the Node side of `tsctr-shim balance`
 * (src/shim/balance.c, README "Load balancer"). Each replica publishes the service's port on its
 * own 127.0.0.1 port; the balancer owns the service's host port and hands each connection (for
 * UDP: each client address's session) to the next replica in rotation. It needs nothing but a
 * private directory of the caller's:
 *
 *   DIR/spec          what to listen on, where the other files are (written once, at start)
 *   DIR/backends      `PORT HEALTHFILE|-` per replica, replaced by rename; removing it ends the balancer
 *   DIR/balancer.pid  `PID STARTTIME` of the running balancer
 */
import fs from 'node:fs';
import path from 'node:path';
import { TsctrError } from '../errors.js';
import { shimPath } from '../runtime/shim-path.js';
import { atomicWriteFile, ensureDir } from '../util/fsutil.js';
import { isAlive, readPidFile, signalProcess } from '../util/proc.js';

export interface BalancerOptions {
  /** Private directory (made 0700) for the balancer's files; one per balanced port. */
  dir: string;
  /** Host address to listen on; '' or '0.0.0.0': every IPv4 address and, where the host has IPv6, '::' too. */
  hostIp: string;
  /** 0: a free port is chosen (returned). */
  hostPort: number;
  protocol: 'tcp' | 'udp';
}

export interface Backend {
  /** The replica's published port on 127.0.0.1. */
  port: number;
  /** The replica's health.json (src/container/health.ts healthFile()); absent: always in rotation. */
  healthFile?: string;
}

const files = (dir: string) => ({
  spec: path.join(dir, 'spec'),
  backends: path.join(dir, 'backends'),
  pid: path.join(dir, 'balancer.pid'),
});

function hostHasIPv6(): boolean {
  try {
    return fs.readFileSync('/proc/net/if_inet6', 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

function unprivilegedPortStart(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
  } catch {
    return 1024;
  }
}

function listenAddresses(hostIp: string): string[] {
  if (hostIp === '' || hostIp === '0.0.0.0') return hostHasIPv6() ? ['0.0.0.0', '::'] : ['0.0.0.0'];
  if (/^[0-9.]+$/.test(hostIp) || /^[0-9a-fA-F:.]+$/.test(hostIp)) return [hostIp];
  throw new TsctrError(`invalid IP address "${hostIp}" for the load balancer`);
}

function backendLines(backends: Backend[]): string {
  return backends
    .map((b) => {
      if (!Number.isInteger(b.port) || b.port < 1 || b.port > 65535) throw new TsctrError(`invalid backend port ${b.port}`);
      const h = b.healthFile;
      if (h !== undefined && (!path.isAbsolute(h) || /[\n\0]/.test(h))) throw new TsctrError(`invalid health file path ${JSON.stringify(h)}`);
      return `${b.port} ${h ?? '-'}\n`;
    })
    .join('');
}

/** Replaces the list of replicas; the running balancer picks it up within ~200 ms. */
export function setBackends(dir: string, backends: Backend[]): void {
  atomicWriteFile(files(dir).backends, backendLines(backends), 0o600, false);
}

/** Is the balancer of `dir` running? */
export function balancerAlive(dir: string): boolean {
  return isAlive(readPidFile(files(dir).pid));
}

/**
 * Starts the balancer (it outlives this process). The backends file is kept if there is one, else
 * it starts with none (connections are refused until setBackends). Errors (port in use: docker's
 * wording) leave nothing running and no files but what was there.
 */
export async function startBalancer(o: BalancerOptions): Promise<{ pid: number; port: number }> {
  if (o.protocol !== 'tcp' && o.protocol !== 'udp') throw new TsctrError(`load-balancing ${String(o.protocol)} ports is not supported (tcp and udp only)`);
  if (!Number.isInteger(o.hostPort) || o.hostPort < 0 || o.hostPort > 65535) throw new TsctrError(`invalid host port ${o.hostPort}`);
  const f = files(o.dir);
  if (balancerAlive(o.dir)) throw new TsctrError(`a load balancer already runs for ${o.dir}`);
  ensureDir(o.dir);
  // Its files steer where connections go: the directory must be ours alone (and not a symlink).
  const st = fs.lstatSync(o.dir);
  if (!st.isDirectory() || st.uid !== process.getuid?.()) throw new TsctrError(`${o.dir}: not a directory of ours`);
  fs.chmodSync(o.dir, 0o700);
  const spec = [...listenAddresses(o.hostIp).map((ip) => `listen ${ip} ${o.hostPort} ${o.protocol}`), `backends ${f.backends}`, `pid-file ${f.pid}`].join('\n') + '\n';
  atomicWriteFile(f.spec, spec, 0o600, false);
  const hadBackends = fs.existsSync(f.backends);
  if (!hadBackends) setBackends(o.dir, []);
  const { spawnWithFd3 } = await import('../rootless/syscalls.js');
  let out: { output: string; status: number };
  try {
    out = spawnWithFd3(shimPath(), ['balance', f.spec], process.env).wait();
  } catch (e) {
    throw new TsctrError(`cannot start the load balancer ${shimPath()}: ${(e as Error).message}`);
  }
  const ok = /^ok (\d+) (\d+)/.exec(out.output);
  if (!ok) {
    if (!hadBackends) fs.rmSync(f.backends, { force: true });
    fs.rmSync(f.spec, { force: true });
    const err = /^error (.*)$/s.exec(out.output.trim());
    const msg = err ? err[1]! : `load balancer failed to start: ${out.output.trim() || `exit status ${out.status}`}`;
    const low = unprivilegedPortStart();
    const denied = /^(failed to bind port \S+\/(?:tcp|udp)): .*permission denied$/.exec(msg);
    if (denied && o.hostPort < low) {
      // As -p says it (src/net/host-ports.ts): what to do about it, not just EACCES.
      throw new TsctrError(`${denied[1]}: ports below ${low} are privileged; as root run 'sysctl net.ipv4.ip_unprivileged_port_start=${o.hostPort}' (persist it in /etc/sysctl.d/) or publish a higher port`);
    }
    throw new TsctrError(msg);
  }
  return { pid: Number(ok[1]), port: Number(ok[2]) };
}

/** Stops the balancer (SIGTERM, SIGKILL after 2 s) and removes its files; fine if none runs. */
export async function stopBalancer(dir: string): Promise<void> {
  const f = files(dir);
  const p = readPidFile(f.pid);
  // Without the backends file a balancer exits by itself, even one whose pid file went missing.
  fs.rmSync(f.backends, { force: true });
  if (signalProcess(p, 'SIGTERM')) {
    for (let i = 0; i < 200 && isAlive(p); i++) await new Promise((r) => setTimeout(r, 10));
    if (isAlive(p)) signalProcess(p, 'SIGKILL');
    for (let i = 0; i < 100 && isAlive(p); i++) await new Promise((r) => setTimeout(r, 10));
  }
  for (const file of [f.pid, f.spec]) fs.rmSync(file, { force: true });
}
