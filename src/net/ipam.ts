/**
 * Address management for user networks: subnets, gateways, container addresses and MACs. Pure
 * functions over what the callers read under the store lock, so two concurrent `run`s never get one
 * address and the rules are unit-tested without a store.
 */
import { TsctrError } from '../errors.js';
import { isIPv4 } from './dns-options.js';

export interface Subnet {
  /** Network address as a 32-bit number. */
  base: number;
  prefix: number;
}

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function size(s: Subnet): number {
  return 2 ** (32 - s.prefix);
}

/** A CIDR as given (host bits must be zero, as docker insists); /8 to /30. */
export function parseSubnet(cidr: string): Subnet {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m || !isIPv4(m[1]!)) throw new TsctrError(`invalid subnet ${cidr}: not an IPv4 CIDR (e.g. 10.89.5.0/24)`);
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 30) throw new TsctrError(`invalid subnet ${cidr}: the prefix length must be between 8 and 30`);
  const base = ipToInt(m[1]!);
  if (base % 2 ** (32 - prefix) !== 0) throw new TsctrError(`invalid subnet ${cidr}: host bits are set (did you mean ${intToIp(base - (base % 2 ** (32 - prefix)))}/${prefix}?)`);
  return { base, prefix };
}

export function formatSubnet(s: Subnet): string {
  return `${intToIp(s.base)}/${s.prefix}`;
}

export function contains(s: Subnet, ip: string): boolean {
  const n = ipToInt(ip);
  return n >= s.base && n < s.base + size(s);
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/** A usable host address of the subnet: not the network or broadcast address. */
export function isHostAddress(s: Subnet, ip: string): boolean {
  const n = ipToInt(ip);
  return contains(s, ip) && n !== s.base && n !== s.base + size(s) - 1;
}

/** The first free 10.89.N.0/24 (N from 1), as podman numbers its networks. */
export function pickSubnet(taken: Subnet[]): Subnet {
  for (let n = 1; n < 256; n++) {
    const s = { base: ipToInt(`10.89.${n}.0`), prefix: 24 };
    if (!taken.some((t) => overlaps(s, t))) return s;
  }
  throw new TsctrError('no free subnet left in 10.89.0.0/16: give one with --subnet');
}

/** --subnet/--gateway checked against each other and the other networks; the gateway defaults to .1. */
export function planSubnet(subnet: string | undefined, gateway: string | undefined, others: { name: string; subnet: string }[]): { subnet: string; gateway: string } {
  const taken = others.map((o) => ({ ...o, s: parseSubnet(o.subnet) }));
  const s = subnet ? parseSubnet(subnet) : pickSubnet(taken.map((t) => t.s));
  const clash = taken.find((t) => overlaps(t.s, s));
  if (clash) throw new TsctrError(`invalid pool request: Pool overlaps with other one on this address space (network ${clash.name} has ${clash.subnet})`);
  const gw = gateway ?? intToIp(s.base + 1);
  if (!isIPv4(gw) || !isHostAddress(s, gw)) throw new TsctrError(`invalid gateway ${gw}: not a host address of subnet ${formatSubnet(s)}`);
  return { subnet: formatSubnet(s), gateway: gw };
}

/**
 * A container's address: the requested one if it is a free host address of the subnet, else the
 * first free one. `used` holds every address any container record on the network has (running or
 * not: a stopped container keeps its address, as with docker) and the gateway.
 */
export function allocateAddress(subnet: string, gateway: string, used: Set<string>, requested?: string): string {
  const s = parseSubnet(subnet);
  if (requested !== undefined) {
    if (!isIPv4(requested)) throw new TsctrError(`invalid IPv4 address: ${requested}`);
    if (!isHostAddress(s, requested)) throw new TsctrError(`no configured subnet contains IP address ${requested}`);
    if (requested === gateway || used.has(requested)) throw new TsctrError(`Address already in use: ${requested}`);
    return requested;
  }
  for (let n = s.base + 1; n < s.base + size(s) - 1; n++) {
    const ip = intToIp(n);
    if (ip !== gateway && !used.has(ip)) return ip;
  }
  throw new TsctrError(`no available IP addresses in network subnet ${formatSubnet(s)}`);
}

/** docker's MAC for an address: 02:42 and the four octets (locally administered, unicast). */
export function macFor(ip: string): string {
  return ['02', '42', ...ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');
}

/** --mac-address: six hex pairs, unicast (the multicast bit would break the veth). */
export function parseMac(mac: string): string {
  if (!/^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/.test(mac)) throw new TsctrError(`invalid MAC address: ${mac}`);
  const m = mac.toLowerCase().replace(/-/g, ':');
  if (parseInt(m.slice(0, 2), 16) & 1) throw new TsctrError(`invalid MAC address: ${mac}: a multicast address`);
  return m;
}
