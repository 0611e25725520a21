/**
 * User-defined networks (`network create`, `run --network NAME`). The container joins the user
 * namespace of the per-user holder, whose network namespace has a bridge per network; the monitor
 * asks the holder for a veth on each of the container's networks (netattach) once the container's
 * netns exists. Outbound traffic and published ports take the default network's path (its own
 * slirp4netns and the shim's forwarder), unless every network is --internal: the veths carry only
 * container-to-container traffic, and the holder does not route between bridges, so networks are
 * isolated by address too. Names are answered by the holder's responder on each gateway.
 */
import { TsctrError } from '../../errors.js';
import { attachRequest, holderPaths, networkRequest, openHolder } from '../holder.js';
import { loadNetworks, type NetworkRecord } from '../network-store.js';
import { slirpEntries } from './slirp4netns.js';
import type { Endpoint, EndpointSettings, NetRequest, NetworkMode, SpecEntries } from '../types.js';

/** What the holder's responder answers to for this container: docker resolves all of these. */
export function attachNames(req: NetRequest, e: Endpoint): string[] {
  const names = [req.name, req.hostname, ...e.aliases, req.id.slice(0, 12)].filter((n) => n && /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(n));
  return [...new Set(names)];
}

function records(req: NetRequest): NetworkRecord[] {
  const doc = loadNetworks();
  return req.endpoints.map((e) => {
    const n = doc.networks[e.networkId];
    if (!n) throw new TsctrError(`network ${e.network} not found (removed while container ${req.name} was on it): disconnect it with 'tsctr network disconnect ${e.network} ${req.name}'`);
    return n;
  });
}

/** The holder's attach request for one endpoint; pid '{pid}' lets the monitor fill in the container's. */
export function attachFields(req: NetRequest, e: Endpoint, index: number, pid: string): string[] {
  return attachRequest({
    id: req.id, pid, network: e.network, cidr: `${e.ip}/${e.prefixLen}`, mac: e.mac, ifname: `eth${index}`,
    names: attachNames(req, e), dns: req.dns.dns ?? [],
  });
}

export const userMode: NetworkMode = {
  name: 'user',
  publishes: true,
  hostNameservers: false,
  async plan(req, ctx) {
    const nets = records(req);
    const holder = await openHolder(ctx.idMaps(), () => ctx.userNetworkPeers().map((p) => ({ pid: p.pid })));
    try {
      for (const n of nets) holder.conn.request(networkRequest(n));
      if (holder.started) reattachPeers(holder.conn, ctx.userNetworkPeers());
      const spec: SpecEntries = [
        ['userns', `/proc/${holder.pid}/ns/user`],
        ['network', 'none'],
        ...req.endpoints.map((e, i): [string, string] => ['netattach', [holderPaths.socket(), ...attachFields(req, e, i, '{pid}')].join('\t')]),
      ];
      if (nets.every((n) => n.internal)) return { spec, ports: [], release: () => holder.conn.close() };
      const slirp = await slirpEntries(req.portBindings);
      return { spec: [...spec, ...slirp.spec], ports: slirp.ports, release: () => holder.conn.close() };
    } catch (e) {
      holder.conn.close();
      throw e;
    }
  },
  nameservers: (req) => (req.endpoints[0] ? [req.endpoints[0].gateway] : []),
  ownAddresses: (req) => (req.endpoints[0] ? [req.endpoints[0].ip] : ['127.0.1.1']),
  settings(req) {
    const out: Record<string, EndpointSettings> = {};
    for (const e of req.endpoints) {
      out[e.network] = {
        IPAMConfig: e.requestedIp ? { IPv4Address: e.requestedIp } : null,
        Links: null,
        Aliases: [...e.aliases, req.id.slice(0, 12)],
        NetworkID: e.networkId,
        EndpointID: '',
        Gateway: e.gateway,
        IPAddress: e.ip,
        IPPrefixLen: e.prefixLen,
        IPv6Gateway: '',
        GlobalIPv6Address: '',
        GlobalIPv6PrefixLen: 0,
        MacAddress: e.mac,
      };
    }
    return out;
  },
  names: (req) => req.endpoints.map((e) => e.network),
};

/**
 * A holder that just started replaces one that died (SIGKILLed, say): the containers still running
 * lost their veths with its namespace; give them new ones on the new bridges.
 */
function reattachPeers(conn: { request(f: string[]): string }, peers: { pid: number; req: NetRequest }[]): void {
  const doc = loadNetworks();
  for (const p of peers) {
    p.req.endpoints.forEach((e, i) => {
      const n = doc.networks[e.networkId];
      if (!n) return;
      try {
        conn.request(networkRequest(n));
        conn.request(attachFields(p.req, e, i, String(p.pid)));
      } catch {
        /* not in this user namespace (an older holder's), or gone meanwhile: it keeps running without */
      }
    });
  }
}
