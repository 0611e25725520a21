/**
 * networks.json: the user-defined networks. Written under the store's lock (the one containers.json
 * uses), so a network and the containers on it change together: `network rm` and `run --network`
 * cannot cross, and address allocation sees every container record.
 */
import path from 'node:path';
import { NotFoundError, TsctrError } from '../errors.js';
import { dataRoot, storePaths } from '../paths.js';
import { readJson, writeJson, SCHEMA_VERSION } from '../store/json-store.js';
import { withLock } from '../store/lock.js';
import { ensureDir } from '../util/fsutil.js';

export interface NetworkRecord {
  id: string;
  name: string;
  driver: 'bridge';
  subnet: string;
  gateway: string;
  internal: boolean;
  labels: Record<string, string>;
  created: string;
  /** The bridge's interface name in the holder's namespace (≤ 15 characters). */
  bridge: string;
}

export interface NetworksDoc {
  schemaVersion: number;
  networks: Record<string, NetworkRecord>;
}

/** docker's own networks, shown by `network ls` and never created or removed. */
export const BUILTIN_NETWORKS: { name: string; driver: string }[] = [
  { name: 'bridge', driver: 'bridge' },
  { name: 'host', driver: 'host' },
  { name: 'none', driver: 'null' },
];

/** Names a user network may not take: docker's built-in ones and tsctr's modes. */
export const RESERVED_NAMES = new Set(['bridge', 'host', 'none', 'default', 'slirp4netns', 'pasta', 'container']);

export function builtinId(name: string): string {
  // node:crypto only here (ls/inspect), not on every run's path.
  const { createHash } = process.getBuiltinModule('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(`tsctr-network-${name}`).digest('hex');
}

const file = () => path.join(dataRoot(), 'networks.json');
const emptyDoc = (): NetworksDoc => ({ schemaVersion: SCHEMA_VERSION, networks: {} });

export function loadNetworks(): NetworksDoc {
  return readJson(file(), emptyDoc, { key: 'networks', objects: ['labels'] });
}

/** For a caller that already holds the store lock (inside updateContainers). */
export function writeNetworks(doc: NetworksDoc): void {
  writeJson(file(), doc);
}

export async function updateNetworks<T>(fn: (doc: NetworksDoc) => T): Promise<T> {
  ensureDir(dataRoot());
  return withLock(storePaths.lockFile(), () => {
    const doc = loadNetworks();
    const result = fn(doc);
    writeNetworks(doc);
    return result;
  });
}

/** docker's lookup: full id, exact name, then a unique id prefix. */
export function findNetwork(doc: NetworksDoc, query: string): NetworkRecord | undefined {
  if (doc.networks[query]) return doc.networks[query];
  const all = Object.values(doc.networks);
  const byName = all.find((n) => n.name === query);
  if (byName) return byName;
  if (!/^[a-f0-9]+$/.test(query)) return undefined;
  const hits = all.filter((n) => n.id.startsWith(query));
  if (hits.length > 1) throw new TsctrError(`network ${query} is ambiguous (${hits.length} matches found on name)`);
  return hits[0];
}

export function getNetwork(doc: NetworksDoc, query: string): NetworkRecord {
  const n = findNetwork(doc, query);
  if (!n) throw new NotFoundError(`network ${query} not found`);
  return n;
}

export const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
