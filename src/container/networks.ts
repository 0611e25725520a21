/**
 * User-defined networks: create, list, inspect, remove, prune, connect, disconnect.
 * Records change under the store lock together with the containers on them; a running container's
 * veths change live through the network holder.
 */
import { appendEvent } from '../store/events.js';
import { ConflictError, TsctrError } from '../errors.js';
import { splitFilter } from '../util/filters.js';
import { getContainer, loadContainers, updateContainers } from './store.js';
import { liveState } from './state.js';
import { netRequest } from './net-request.js';
import { allocateEndpoints, checkEndpointRequest } from '../net/endpoints.js';
import { planSubnet } from '../net/ipam.js';
import { isIPv4 } from '../net/dns-options.js';
import {
  BUILTIN_NETWORKS, NETWORK_NAME, RESERVED_NAMES, builtinId, getNetwork, loadNetworks, updateNetworks, writeNetworks,
  type NetworkRecord,
} from '../net/network-store.js';
import { randomHex } from '../util/random.js';
import type { ContainerRecord } from './types.js';

export interface NetworkCreateOptions {
  name: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  internal: boolean;
  labels: Record<string, string>;
}

export async function createNetwork(o: NetworkCreateOptions): Promise<NetworkRecord> {
  if (!NETWORK_NAME.test(o.name)) throw new TsctrError(`invalid network name "${o.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if (RESERVED_NAMES.has(o.name)) throw new TsctrError(`network with name ${o.name} already exists (it is pre-defined)`);
  if (o.driver && o.driver !== 'bridge') throw new TsctrError(`network driver "${o.driver}" is not supported: tsctr has bridge networks only`);
  if (o.gateway !== undefined && !isIPv4(o.gateway)) throw new TsctrError(`invalid gateway address ${o.gateway}`);
  if (o.gateway !== undefined && o.subnet === undefined) throw new TsctrError('every ip-range or gateway must have a corresponding subnet');
  const created = await updateNetworks((doc) => {
    if (Object.values(doc.networks).some((n) => n.name === o.name)) throw new ConflictError(`network with name ${o.name} already exists`);
    const { subnet, gateway } = planSubnet(o.subnet, o.gateway, Object.values(doc.networks));
    const id = randomHex(32);
    const rec: NetworkRecord = {
      id, name: o.name, driver: 'bridge', subnet, gateway, internal: o.internal, labels: o.labels,
      created: new Date().toISOString(), bridge: `tb-${id.slice(0, 12)}`,
    };
    doc.networks[id] = rec;
    return rec;
  });
  networkEvent(created, 'create');
  return created;
}

function networkEvent(n: NetworkRecord, action: string, container?: string): void {
  appendEvent('network', action, n.id, { ...(container ? { container } : {}), name: n.name, type: n.driver });
}

/** docker's `network ls` row (its template fields). */
export interface NetworkRow {
  ID: string;
  Name: string;
  Driver: string;
  Scope: string;
  Internal: boolean;
  IPv6: boolean;
  Labels: string;
  CreatedAt: string;
}

type Described = { id: string; name: string; driver: string; labels: Record<string, string>; internal: boolean; created: string; user?: NetworkRecord };

function allNetworks(): Described[] {
  const builtin = BUILTIN_NETWORKS.map((b) => ({ id: builtinId(b.name), name: b.name, driver: b.driver, labels: {}, internal: false, created: '2020-01-01T00:00:00Z' }));
  const user = Object.values(loadNetworks().networks)
    .sort((a, b) => (a.created < b.created ? -1 : 1))
    .map((n) => ({ id: n.id, name: n.name, driver: n.driver, labels: n.labels, internal: n.internal, created: n.created, user: n }));
  return [...builtin, ...user];
}

function filterPred(f: string): (n: Described) => boolean {
  const [key, value] = splitFilter(f);
  switch (key) {
    case 'name':
      return (n) => n.name.includes(value);
    case 'id':
      return (n) => n.id.startsWith(value);
    case 'driver':
      return (n) => n.driver === value;
    case 'label': {
      const [k, v] = value.split(/=(.*)/s);
      return (n) => k! in n.labels && (v === undefined || n.labels[k!] === v);
    }
    case 'type':
      if (value !== 'custom' && value !== 'builtin') throw new TsctrError(`invalid filter: 'type'='${value}'`);
      return (n) => (value === 'custom') === Boolean(n.user);
    default:
      throw new TsctrError(`invalid filter '${key}'`);
  }
}

export function listNetworks(filters: string[], noTrunc = false): NetworkRow[] {
  // Keys ANDed, values of one key ORed, as docker does.
  const byKey = new Map<string, ((n: Described) => boolean)[]>();
  for (const f of filters) {
    const key = f.split('=')[0]!;
    byKey.set(key, [...(byKey.get(key) ?? []), filterPred(f)]);
  }
  return allNetworks()
    .filter((n) => [...byKey.values()].every((ps) => ps.some((p) => p(n))))
    .map((n) => ({
      ID: noTrunc ? n.id : n.id.slice(0, 12),
      Name: n.name,
      Driver: n.driver,
      Scope: 'local',
      Internal: n.internal,
      IPv6: false,
      Labels: Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(','),
      CreatedAt: n.created,
    }));
}

function membersOf(networkId: string, containers: ContainerRecord[]): ContainerRecord[] {
  return containers.filter((c) => c.endpoints?.some((e) => e.networkId === networkId));
}

/** docker's network inspect document. */
export function inspectNetwork(query: string): Record<string, unknown> {
  const builtin = allNetworks().find((n) => !n.user && (n.name === query || n.id === query || (query.length >= 3 && n.id.startsWith(query))));
  const n = builtin ? undefined : getNetwork(loadNetworks(), query);
  const containers = Object.values(loadContainers().containers);
  const base = builtin ?? { id: n!.id, name: n!.name, driver: n!.driver, labels: n!.labels, internal: n!.internal, created: n!.created };
  const members: Record<string, unknown> = {};
  if (n) {
    for (const c of membersOf(n.id, containers)) {
      const e = c.endpoints!.find((x) => x.networkId === n.id)!;
      members[c.id] = { Name: c.name, EndpointID: '', MacAddress: e.mac, IPv4Address: `${e.ip}/${e.prefixLen}`, IPv6Address: '' };
    }
  }
  return {
    Name: base.name,
    Id: base.id,
    Created: base.created,
    Scope: 'local',
    Driver: base.driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: n ? [{ Subnet: n.subnet, Gateway: n.gateway }] : [] },
    Internal: base.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: members,
    Options: n ? { 'com.docker.network.bridge.name': n.bridge } : {},
    Labels: base.labels,
  };
}

/**
 * `network rm`: refused while a container is on it, with docker's words; force removes those
 * containers first, as docker does.
 */
export async function removeNetwork(query: string, force: boolean): Promise<NetworkRecord> {
  if (RESERVED_NAMES.has(query)) throw new TsctrError(`${query} is a pre-defined network and cannot be removed`);
  const n = getNetwork(loadNetworks(), query);
  if (force) {
    const { removeContainer } = await import('./ops.js');
    for (const c of membersOf(n.id, Object.values(loadContainers().containers))) await removeContainer(c.id, true);
  }
  await updateContainers((doc) => {
    const nets = loadNetworks();
    if (!nets.networks[n.id]) throw new TsctrError(`network ${query} not found`);
    if (membersOf(n.id, Object.values(doc.containers)).length) {
      throw new ConflictError(`Error response from daemon: error while removing network: network ${n.name} id ${n.id} has active endpoints`);
    }
    delete nets.networks[n.id];
    writeNetworks(nets);
  });
  await forgetBridge(n);
  networkEvent(n, 'destroy');
  return n;
}

/** The holder, if one runs, drops the bridge now rather than keeping it until it exits. */
async function forgetBridge(n: NetworkRecord): Promise<void> {
  const { liveHolderPid, holderPaths } = await import('../net/holder.js');
  if (!liveHolderPid()) return;
  const { ControlConnection } = await import('../net/control.js');
  const conn = ControlConnection.open(holderPaths.socket(), 5);
  try {
    conn?.request(['netrm', n.name]);
  } catch {
    /* it never had that bridge */
  } finally {
    conn?.close();
  }
}

/** `network prune`: every user network no container is on. */
export async function pruneNetworks(): Promise<string[]> {
  const removed = await updateContainers((doc) => {
    const nets = loadNetworks();
    const gone = Object.values(nets.networks).filter((n) => membersOf(n.id, Object.values(doc.containers)).length === 0);
    for (const n of gone) delete nets.networks[n.id];
    writeNetworks(nets);
    return gone;
  });
  for (const n of removed) {
    await forgetBridge(n);
    networkEvent(n, 'destroy');
  }
  return removed.map((n) => n.name);
}

export interface ConnectOptions {
  aliases: string[];
  ip?: string;
}

/**
 * `network connect`: recorded for every later start; a running container on user networks (so in
 * the holder's user namespace) gets its veth now.
 */
export async function connectNetwork(netQuery: string, ctrQuery: string, o: ConnectOptions): Promise<void> {
  const n = getNetwork(loadNetworks(), netQuery);
  const c0 = getContainer(loadContainers(), ctrQuery);
  checkEndpointRequest({ networks: [n.id], aliases: o.aliases, ip: o.ip });
  const c = await updateContainers((doc) => {
    const c = doc.containers[c0.id];
    if (!c) throw new TsctrError(`No such container: ${ctrQuery}`);
    if (c.hostConfig.network === 'host' || c.hostConfig.network === 'none' || c.hostConfig.network.startsWith('container:')) {
      throw new TsctrError(`container sharing network namespace with another container or host cannot be connected to any other network`);
    }
    if (c.endpoints?.some((e) => e.networkId === n.id)) throw new ConflictError(`endpoint with name ${c.name} already exists in network ${n.name}`);
    const [e] = allocateEndpoints({ networks: [n.id], aliases: o.aliases, ip: o.ip }, Object.values(doc.containers), c.id);
    c.endpoints = [...(c.endpoints ?? []), e!];
    if (c.endpoints.length === 1) c.hostConfig.network = n.name;
    return c;
  });
  networkEvent(n, 'connect', c.id);
  const st = liveState(c);
  if (st.status !== 'running') return;
  if (c.endpoints!.length === 1) {
    // It runs in a user namespace of its own (default network): a veth cannot cross into it.
    const { log } = await import('../util/log.js');
    log.warn(`container ${c.name} is running on the default network: it joins ${n.name} when it is next started`);
    return;
  }
  await live(async (conn, { networkRequest }, { attachFields }) => {
    conn.request(networkRequest(n));
    const req = netRequest(c);
    conn.request(attachFields(req, c.endpoints!.at(-1)!, c.endpoints!.length - 1, String(st.pid)));
  });
}

export async function disconnectNetwork(netQuery: string, ctrQuery: string): Promise<void> {
  const n = getNetwork(loadNetworks(), netQuery);
  const c0 = getContainer(loadContainers(), ctrQuery);
  if (!c0.endpoints?.some((e) => e.networkId === n.id)) throw new TsctrError(`container ${c0.id} is not connected to network ${n.name}`);
  const c = await updateContainers((doc) => {
    const c = doc.containers[c0.id];
    if (!c) throw new TsctrError(`No such container: ${ctrQuery}`);
    c.endpoints = (c.endpoints ?? []).filter((e) => e.networkId !== n.id);
    if (c.endpoints.length === 0) {
      delete c.endpoints;
      c.hostConfig.network = 'default';
    } else c.hostConfig.network = c.endpoints[0]!.network;
    return c;
  });
  networkEvent(n, 'disconnect', c.id);
  if (liveState(c).status !== 'running') return;
  await live(async (conn) => void conn.request(['detach', c.id, n.name]));
}

/** A request to the live holder, if there is one (none: nothing is attached anywhere). */
async function live(
  fn: (conn: import('../net/control.js').ControlConnection, holder: typeof import('../net/holder.js'), user: typeof import('../net/modes/user.js')) => Promise<void>,
): Promise<void> {
  const holder = await import('../net/holder.js');
  if (!holder.liveHolderPid()) return;
  const { ControlConnection } = await import('../net/control.js');
  const conn = ControlConnection.open(holder.holderPaths.socket());
  if (!conn) return;
  try {
    await fn(conn, holder, await import('../net/modes/user.js'));
  } finally {
    conn.close();
  }
}
