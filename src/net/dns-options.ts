/** --dns, --dns-search, --dns-option and --add-host: validated at create, resolved at start. */
import os from 'node:os';
import { TsctrError } from '../errors.js';
import { parseIPv6 } from '../util/ipv6.js';
import type { DnsConfig } from './types.js';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOSTNAME = /^[a-zA-Z0-9_]([a-zA-Z0-9_.-]{0,252}[a-zA-Z0-9_])?$/;

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

function isIP(s: string): boolean {
  return IPV4.test(s) || parseIPv6(s) !== undefined;
}

/** docker's words for each bad value; nothing is written before these pass. */
export function parseDnsConfig(o: { dns?: string[]; dnsSearch?: string[]; dnsOption?: string[]; addHost?: string[] }): DnsConfig | undefined {
  const out: DnsConfig = {};
  for (const d of o.dns ?? []) if (!isIP(d)) throw new TsctrError(`${d} is not an ip address`);
  for (const d of o.dnsSearch ?? []) if (d !== '.' && !HOSTNAME.test(d)) throw new TsctrError(`${d} is not a valid domain`);
  for (const d of o.dnsOption ?? []) if (!/^\S+$/.test(d)) throw new TsctrError(`invalid DNS option "${d}"`);
  for (const h of o.addHost ?? []) splitHost(h);
  if (o.dns?.length) out.dns = o.dns;
  if (o.dnsSearch?.length) out.dnsSearch = o.dnsSearch;
  if (o.dnsOption?.length) out.dnsOptions = o.dnsOption;
  if (o.addHost?.length) out.extraHosts = o.addHost;
  return Object.keys(out).length ? out : undefined;
}

function splitHost(spec: string): { host: string; ip: string } {
  // HOST:IP; the IP may be IPv6 (colons), so split at the first colon (docker also takes HOST=IP).
  const m = /^([^:=]+)[:=](.+)$/.exec(spec);
  const ip = m?.[2]?.replace(/^\[(.*)\]$/, '$1');
  if (!m || !ip || !HOSTNAME.test(m[1]!) || (ip !== 'host-gateway' && !isIP(ip))) {
    throw new TsctrError(`invalid argument "${spec}" for "--add-host" flag: invalid IP address in add-host: "${m?.[2] ?? ''}"`);
  }
  return { host: m[1]!, ip };
}

/**
 * The host as a container sees it: its first non-loopback IPv4 address, which every mode reaches
 * (slirp4netns runs with host loopback disabled, so 10.0.2.2 is not the host).
 */
export function hostGatewayAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export function parseExtraHosts(specs: string[]): { host: string; ip: string }[] {
  return specs.map(splitHost).map((h) => (h.ip === 'host-gateway' ? { ...h, ip: hostGatewayAddress() } : h));
}
