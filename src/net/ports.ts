/**
 * docker's -p syntax: [ip:][hostPort[-end]:]containerPort[-end][/tcp|udp]. A host range for one
 * container port (`8000-8002:80`) is a choice: the first port of it that is free when the container starts.
 */
import { TsctrError } from '../errors.js';
import type { PortBinding } from './types.js';

function parseRange(s: string, what: string, spec: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new TsctrError(`invalid ${what} "${s}" in publish spec "${spec}"`);
  const a = Number(m[1]);
  const b = m[2] ? Number(m[2]) : a;
  if (a < 1 || b > 65535 || b < a) throw new TsctrError(`invalid ${what} range "${s}" in publish spec "${spec}"`);
  return [a, b];
}

/** hostPort 0 means "pick a free port when starting". */
export function parsePublish(spec: string): PortBinding[] {
  let rest = spec;
  let protocol: 'tcp' | 'udp' = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1);
    if (p !== 'tcp' && p !== 'udp') throw new TsctrError(`invalid protocol "${p}" in publish spec "${spec}" (tcp or udp)`);
    protocol = p;
    rest = rest.slice(0, slash);
  }
  let hostIp = '';
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = v6[1]!;
    rest = v6[2]!;
  }
  const parts = rest.split(':');
  let hostPart = '';
  let ctrPart: string;
  if (parts.length === 3 && !hostIp) {
    // ip:hostPort:containerPort, where an empty hostPort ("127.0.0.1::80") means a random one.
    [hostIp, hostPart, ctrPart] = parts as [string, string, string];
    if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(hostIp)) throw new TsctrError(`invalid IP address "${hostIp}" in publish spec "${spec}"`);
  } else if (parts.length === 2 && parts[0] !== '') {
    [hostPart, ctrPart] = parts as [string, string];
  } else if (parts.length === 1) {
    ctrPart = parts[0]!;
  } else {
    throw new TsctrError(`invalid publish spec "${spec}"`);
  }
  const [c0, c1] = parseRange(ctrPart, 'container port', spec);
  const [h0, h1] = hostPart ? parseRange(hostPart, 'host port', spec) : [0, 0];
  if (hostPart && c0 === c1 && h1 > h0) return [{ hostIp, hostPort: h0, hostPortEnd: h1, containerPort: c0, protocol }];
  if (hostPart && h1 - h0 !== c1 - c0) {
    throw new TsctrError(`host and container port ranges differ in size in publish spec "${spec}"`);
  }
  const out: PortBinding[] = [];
  for (let i = 0; i <= c1 - c0; i++) {
    out.push({ hostIp, hostPort: hostPart ? h0 + i : 0, containerPort: c0 + i, protocol });
  }
  return out;
}

export function formatBinding(b: PortBinding): string {
  const ip = b.hostIp || '0.0.0.0';
  return `${ip.includes(':') ? `[${ip}]` : ip}:${b.hostPortEnd ? hostPortText(b) : b.hostPort}->${b.containerPort}/${b.protocol}`;
}

/** The host port as docker writes a requested one: `8080`, a range `8000-8002`, '' for a random one. */
export function hostPortText(b: PortBinding): string {
  if (!b.hostPort) return '';
  return b.hostPortEnd && b.hostPortEnd > b.hostPort ? `${b.hostPort}-${b.hostPortEnd}` : String(b.hostPort);
}
