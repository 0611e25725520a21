/** The `network` use cases (user-defined networks): the container library does the work under the store lock. */
import type { ConnectOptions, NetworkCreateOptions, NetworkRow } from '../container/networks.js';
import type { NetworkRecord } from '../net/network-store.js';

export type { ConnectOptions, NetworkCreateOptions, NetworkRow };

const lib = () => import('../container/networks.js');

export async function createNetwork(o: NetworkCreateOptions): Promise<NetworkRecord> {
  return (await lib()).createNetwork(o);
}

export async function listNetworks(filters: string[], noTrunc = false): Promise<NetworkRow[]> {
  return (await lib()).listNetworks(filters, noTrunc);
}

export async function inspectNetwork(query: string): Promise<Record<string, unknown>> {
  return (await lib()).inspectNetwork(query);
}

/** Refused while containers are on it, unless `force`, which removes them first (docker's -f). */
export async function removeNetwork(query: string, force: boolean): Promise<NetworkRecord> {
  return (await lib()).removeNetwork(query, force);
}

export async function pruneNetworks(): Promise<string[]> {
  return (await lib()).pruneNetworks();
}

/** Recorded for later starts; live through the network holder when the container runs. */
export async function connectNetwork(netQuery: string, ctrQuery: string, o: ConnectOptions): Promise<void> {
  return (await lib()).connectNetwork(netQuery, ctrQuery, o);
}

export async function disconnectNetwork(netQuery: string, ctrQuery: string): Promise<void> {
  return (await lib()).disconnectNetwork(netQuery, ctrQuery);
}
