/**
 * Host ports for -p: checked bindable before anything starts (a conflict is reported then, not by a
 * helper later), a requested 0 resolved to a free port, and the IPv6 twin docker binds beside them.
 */
import fs from 'node:fs';
import { TsctrError } from '../errors.js';
import type { PortBinding } from './types.js';

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
export async function withIPv6(ports: PortBinding[], requested: PortBinding[]): Promise<PortBinding[]> {
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
