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

/**
 * Concrete host ports (a requested 0 becomes a free port), checked to be bindable. A range takes
 * its first port that is free (docker's `-p 8000-8002:80`), and for a binding to every address,
 * free on `::` too where the host has IPv6 (withIPv6 binds both).
 */
export async function resolvePorts(bindings: PortBinding[]): Promise<PortBinding[]> {
  const out: PortBinding[] = [];
  for (const { hostPortEnd, ...b } of bindings) {
    if (!hostPortEnd || hostPortEnd <= b.hostPort) out.push({ ...b, hostPort: await probePort(b) });
    else out.push({ ...b, hostPort: await firstFree(b, hostPortEnd, out) });
  }
  return out;
}

async function firstFree(b: PortBinding, end: number, taken: PortBinding[]): Promise<number> {
  const { probeBind } = await import('../rootless/syscalls.js');
  const host = b.hostIp || '0.0.0.0';
  const v6 = !b.hostIp && hostHasIPv6();
  for (let port = b.hostPort; port <= end; port++) {
    // An earlier binding of this container took it (`-p 8000-8001:80 -p 8000-8001:81`).
    if (taken.some((t) => t.hostPort === port && t.protocol === b.protocol && (!t.hostIp || !b.hostIp || t.hostIp === b.hostIp))) continue;
    const r = probeBind(b.protocol, host, port);
    if (!('port' in r)) {
      if (r.errno === 98) continue;
      return probePort({ ...b, hostPort: port }); // not a conflict: the reason probePort gives
    }
    if (v6) {
      const r6 = probeBind(b.protocol, '::', port);
      if (!('port' in r6) && r6.errno === 98) continue;
    }
    return port;
  }
  throw new TsctrError(`failed to bind port ${host}:${b.hostPort}-${end}/${b.protocol}: every port of the range is already in use`);
}
