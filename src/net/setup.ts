/**
 * A container's network, as shim spec entries. The default is slirp4netns with published TCP ports
 * forwarded by the shim itself (splice between the host's socket and one to 127.0.0.1 inside):
 * the lightest and quickest to start of the stacks measured (README, "Networks"). pasta (from the
 * passt package) is the choice when the container must see the client's real address: it copies the
 * host's addresses and forwards ports itself, at about 29 MB per container. `none`, `host` and
 * `container:NAME` need no helper at all.
 */
import fs from 'node:fs';
import { TsctrError } from '../errors.js';
import { findTool } from '../rootless/userns.js';
import type { ContainerRecord, PortBinding } from '../container/types.js';
import type { Spec } from '../container/spec.js';
import { networkMode } from './default.js';

function unprivilegedPortStart(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
  } catch {
    return 1024;
  }
}

/** Binds and releases the port, so a conflict is reported before anything starts; returns the port. */
async function probePort(b: PortBinding): Promise<number> {
  const host = b.hostIp || '0.0.0.0';
  const what = `${host}:${b.hostPort}/${b.protocol}`;
  const { probeBind } = await import('../rootless/syscalls.js');
  const r = probeBind(b.protocol, host, b.hostPort);
  if ('port' in r) return r.port;
  if (r.errno === 98) throw new TsctrError(`failed to bind port ${what}: listen ${b.protocol} ${host}:${b.hostPort}: bind: address already in use`);
  if (r.errno === 13 && b.hostPort < unprivilegedPortStart()) {
    throw new TsctrError(
      `failed to bind port ${what}: ports below ${unprivilegedPortStart()} are privileged; as root run 'sysctl net.ipv4.ip_unprivileged_port_start=${b.hostPort}' (persist it in /etc/sysctl.d/) or publish a higher port`,
    );
  }
  if (r.errno === 99) throw new TsctrError(`failed to bind port ${what}: ${host} is not an address of this host`);
  const { getSystemErrorName } = process.getBuiltinModule('node:util') as typeof import('node:util');
  throw new TsctrError(`failed to bind port ${what}: ${getSystemErrorName(-r.errno)}`);
}

/** Whether this host has IPv6 at all (the kernel lists no addresses when it is disabled). */
function hostHasIPv6(): boolean {
  try {
    return fs.readFileSync('/proc/net/if_inet6', 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

/**
 * Bindings to every address (no host IP) get an IPv6 twin on `::`, on the same port, as docker
 * binds both. A random port is chosen again until both families have it free.
 */
async function withIPv6(ports: PortBinding[], requested: PortBinding[]): Promise<PortBinding[]> {
  if (!hostHasIPv6() || !ports.some((p) => !p.hostIp)) return ports;
  const { probeBind } = await import('../rootless/syscalls.js');
  const out: PortBinding[] = [];
  for (let [i, p] of ports.entries()) {
    if (p.hostIp) {
      out.push(p);
      continue;
    }
    for (let tries = 0; ; tries++) {
      const r = probeBind(p.protocol, '::', p.hostPort);
      if ('port' in r) break;
      if (r.errno !== 98 || requested[i]!.hostPort !== 0 || tries >= 20) {
        if (r.errno === 98) throw new TsctrError(`failed to bind port [::]:${p.hostPort}/${p.protocol}: listen ${p.protocol} [::]:${p.hostPort}: bind: address already in use`);
        return ports; // no usable IPv6 after all: IPv4 only, as before
      }
      p = { ...p, hostPort: await probePort({ ...p, hostPort: 0 }) };
    }
    out.push(p, { ...p, hostIp: '::', ipv6Twin: true });
  }
  return out;
}

/** Concrete host ports (a requested 0 becomes a free port), checked to be bindable. */
export async function resolvePorts(bindings: PortBinding[]): Promise<PortBinding[]> {
  const out: PortBinding[] = [];
  for (const b of bindings) out.push({ ...b, hostPort: await probePort(b) });
  return out;
}

function pastaPortArgs(ports: PortBinding[], proto: 'tcp' | 'udp'): string[] {
  const mine = ports.filter((p) => p.protocol === proto);
  const flag = proto === 'tcp' ? '-t' : '-u';
  if (mine.length === 0) return [flag, 'none'];
  return mine.flatMap((p) => [flag, `${p.hostIp ? `${p.hostIp}/` : ''}${p.hostPort}:${p.containerPort}`]);
}

export interface NetworkPlan {
  spec: Spec;
  ports: PortBinding[];
}

export async function planNetwork(c: ContainerRecord, runningPid: (name: string) => number): Promise<NetworkPlan> {
  const mode = networkMode(c.hostConfig.network);
  if (mode === 'none') return { spec: [['network', 'none']], ports: [] };
  if (mode === 'host') return { spec: [['network', 'host']], ports: [] };
  if (mode.startsWith('container:')) {
    const pid = runningPid(mode.slice('container:'.length));
    return { spec: [['network', `netns:/proc/${pid}/ns/net`]], ports: [] };
  }
  if (mode === 'pasta') {
    const pasta = findTool('pasta');
    if (!pasta) throw new TsctrError(`pasta not found: install the 'passt' package (Debian/Ubuntu: apt-get install passt), or use --network none`);
    const ports = await resolvePorts(c.hostConfig.portBindings);
    // The monitor runs this once the namespaces exist and before the program starts, so the
    // network is up when the program first looks; pasta then backgrounds itself.
    const args = ['--config-net', '--quiet', ...pastaPortArgs(ports, 'tcp'), ...pastaPortArgs(ports, 'udp'), '-T', 'none', '-U', 'none'];
    const argv = ['/bin/sh', '-c', 'exec "$0" "$@" "$TSCTR_PID"', pasta, ...args];
    return { spec: [['network', 'none'], ...argv.map((a): [string, string] => ['prestart', a])], ports };
  }
  if (mode === 'slirp4netns') {
    const slirp = findTool('slirp4netns');
    if (!slirp) throw new TsctrError(`slirp4netns not found: install the 'slirp4netns' package (Debian/Ubuntu: apt-get install slirp4netns), or use --network pasta`);
    const ports = await withIPv6(await resolvePorts(c.hostConfig.portBindings), c.hostConfig.portBindings);
    // Ports go through the shim's own forwarder (splice for TCP), not slirp4netns' much slower
    // hostfwd, which also drops UDP replies to loopback clients while host loopback is disabled.
    const publish = ports.map((p): [string, string] => ['publish', `${p.hostIp || '0.0.0.0'} ${p.hostPort} ${p.containerPort} ${p.protocol}`]);
    // The monitor starts it once the namespaces exist and waits for its ready byte on fd 3.
    const argv = [slirp, '--configure', '--mtu=65520', '--disable-host-loopback', '--enable-sandbox', '--enable-seccomp',
      '--ready-fd=3', '--userns-path=/proc/{pid}/ns/user', '{pid}', 'tap0'];
    return { spec: [['network', 'none'], ...publish, ...argv.map((a): [string, string] => ['helper', a])], ports };
  }
  throw new TsctrError(`network mode ${mode} is not supported: use pasta, slirp4netns, none, host or container:NAME`);
}
