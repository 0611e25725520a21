/**
 * A container's endpoints on user networks: the request checked before anything is written, then
 * addresses allocated under the store lock from what every container record holds.
 */
import { TsctrError } from '../errors.js';
import { allocateAddress, macFor, parseMac, parseSubnet, contains } from './ipam.js';
import { isIPv4 } from './dns-options.js';
import { getNetwork, loadNetworks, type NetworksDoc, type NetworkRecord } from './network-store.js';
import type { Endpoint } from './types.js';

export interface EndpointRequest {
  /** User network names or ids, in interface order. */
  networks: string[];
  aliases: string[];
  ip?: string;
  mac?: string;
}

/** Anything holding endpoints: container records, seen structurally. */
export interface HasEndpoints {
  id: string;
  endpoints?: Endpoint[];
}

const MODE_VALUES = new Set(['default', 'bridge', 'slirp4netns', 'pasta', 'none', 'host']);

/** Whether a --network value names a user network rather than a mode. */
export function isUserNetworkValue(v: string): boolean {
  return !MODE_VALUES.has(v) && !v.startsWith('container:');
}

/**
 * The --network values split into the mode and the user networks; docker refuses mixing a user
 * network with host/none/container: (and tsctr also with the other modes).
 */
export function splitNetworkValues(values: string[]): { mode?: string; networks: string[] } {
  const vals = values.filter((v) => v !== '');
  const networks = vals.filter(isUserNetworkValue);
  const modes = vals.filter((v) => !isUserNetworkValue(v));
  if (networks.length && modes.some((m) => m !== 'bridge' && m !== 'default')) {
    throw new TsctrError(`conflicting options: cannot attach both user-defined and non-user-defined network-modes (${[...modes, ...networks].join(', ')})`);
  }
  if (modes.length > 1) throw new TsctrError(`conflicting options: only one network mode may be given (${modes.join(', ')})`);
  if (new Set(networks).size !== networks.length) throw new TsctrError(`network ${networks.find((n, i) => networks.indexOf(n) !== i)} given twice`);
  return { mode: networks.length ? undefined : modes[0], networks };
}

/** Aliases, --ip and --mac-address need a user network: known from the flags alone. */
export function checkEndpointFlags(r: EndpointRequest): void {
  if (r.networks.length) return;
  if (r.aliases.length) throw new TsctrError('network-scoped aliases are only supported for user-defined networks');
  if (r.ip !== undefined) throw new TsctrError('user specified IP address is supported only when connecting to user-defined networks');
  if (r.mac !== undefined) throw new TsctrError('--mac-address is supported only on user-defined networks');
}

/** Validates a request without allocating: bad input fails before anything is written. */
export function checkEndpointRequest(r: EndpointRequest, doc: NetworksDoc = loadNetworks()): NetworkRecord[] {
  checkEndpointFlags(r);
  const nets = r.networks.map((n) => getNetwork(doc, n));
  if (!nets.length) return nets;
  if (r.ip !== undefined) {
    if (!isIPv4(r.ip)) throw new TsctrError(`invalid IPv4 address: ${r.ip}`);
    if (!contains(parseSubnet(nets[0]!.subnet), r.ip)) throw new TsctrError(`no configured subnet contains IP address ${r.ip}`);
  }
  if (r.mac !== undefined) parseMac(r.mac);
  for (const a of r.aliases) if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(a)) throw new TsctrError(`invalid network alias "${a}"`);
  return nets;
}

export function usedAddresses(holders: HasEndpoints[], networkId: string, except?: string): Set<string> {
  const used = new Set<string>();
  for (const h of holders) {
    if (h.id === except) continue;
    for (const e of h.endpoints ?? []) if (e.networkId === networkId) used.add(e.ip);
  }
  return used;
}

/**
 * Endpoints for one container. Call with the store lock held: `holders` are all container records,
 * read under that lock, so the address chosen is nobody's. --ip and --mac-address apply to the
 * first network, as docker applies them to the one given with them.
 */
export function allocateEndpoints(r: EndpointRequest, holders: HasEndpoints[], self: string, doc: NetworksDoc = loadNetworks()): Endpoint[] {
  const nets = checkEndpointRequest(r, doc);
  return nets.map((n, i) => {
    const ip = allocateAddress(n.subnet, n.gateway, usedAddresses(holders, n.id, self), i === 0 ? r.ip : undefined);
    return {
      network: n.name,
      networkId: n.id,
      ip,
      prefixLen: parseSubnet(n.subnet).prefix,
      gateway: n.gateway,
      mac: i === 0 && r.mac ? parseMac(r.mac) : macFor(ip),
      aliases: r.aliases,
      ...(i === 0 && r.ip ? { requestedIp: r.ip } : {}),
    };
  });
}
