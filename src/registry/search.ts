/**
 * `search TERM` against a registry: the repositories of its `/v2/_catalog` whose names contain
 * the term (the distribution API has no search; podman does the same), or, where a registry has no
 * catalog but docker's `/v1/search` (Docker Hub), that. A registry with neither is a clear error.
 */
import { RegistryError, TsctrError } from '../errors.js';
import { RegistryClient, headerValue } from './client.js';
import { lookupCredentials } from './credentials.js';
import { endpointsFor, loadRegistriesConf } from './registries-conf.js';

export interface SearchHit {
  /** The registry as the user names it (docker.io, 127.0.0.1:5000). */
  index: string;
  /** The repository with its registry: 127.0.0.1:5000/library/busybox. */
  name: string;
  description: string;
  stars: number;
  official: boolean;
  automated: boolean;
}

/** `registry/term` names its registry when the first part looks like a host (docker's rule); else the first unqualified-search one. */
export function splitTerm(term: string, defaultRegistry: string): { index: string; query: string } {
  const slash = term.indexOf('/');
  const first = slash < 0 ? '' : term.slice(0, slash);
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost')) return { index: first, query: term.slice(slash + 1) };
  return { index: defaultRegistry, query: term };
}

const CATALOG_PAGE = 1000;
const CATALOG_MAX = 100_000; // a registry that pages on forever is cut off here

export async function searchRegistry(term: string, limit: number): Promise<SearchHit[]> {
  if (!term) throw new TsctrError('search term must not be empty');
  const conf = loadRegistriesConf();
  const { index, query } = splitTerm(term, conf.unqualifiedSearch[0] ?? 'docker.io');
  const ep = endpointsFor(conf, index, '').filter((e) => !e.mirror).at(-1);
  const host = ep?.registry ?? index;
  const client = new RegistryClient({ registry: host, repository: '', insecure: ep?.insecure ?? false, credentials: lookupCredentials(index), scopes: ['registry:catalog:*'] });
  const names = await catalog(client, host);
  if (names) {
    const q = query.toLowerCase();
    return names
      .filter((n) => n.toLowerCase().includes(q))
      .slice(0, limit)
      .map((n) => ({ index, name: `${index}/${n}`, description: '', stars: 0, official: false, automated: false }));
  }
  const v1 = await v1Search(client, query, limit);
  if (v1) return v1.map((r) => ({ index, name: index === 'docker.io' ? r.name : `${index}/${r.name}`, description: r.description ?? '', stars: r.star_count ?? 0, official: !!r.is_official, automated: !!r.is_automated }));
  throw new RegistryError(`registry ${index} does not support searching (it has neither /v2/_catalog nor /v1/search)`);
}

/** Every repository name of the catalog, following its Link pages; undefined if the registry has none. */
async function catalog(client: RegistryClient, host: string): Promise<string[] | undefined> {
  const out: string[] = [];
  let target: string | undefined = `/v2/_catalog?n=${CATALOG_PAGE}`;
  while (target && out.length < CATALOG_MAX) {
    const res = await client.request('GET', target);
    if (res.statusCode === 404 || res.statusCode === 405) {
      await res.body.dump();
      return undefined;
    }
    await client.expectOk(res, `reading the catalog of ${host}`);
    const doc = (await res.body.json()) as { repositories?: unknown };
    if (!Array.isArray(doc.repositories)) return undefined;
    out.push(...doc.repositories.filter((r): r is string => typeof r === 'string'));
    const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(headerValue(res, 'link') ?? '');
    target = link ? link[1] : undefined;
  }
  return out;
}

interface V1Result {
  name: string;
  description?: string;
  star_count?: number;
  is_official?: boolean;
  is_automated?: boolean;
}

async function v1Search(client: RegistryClient, query: string, limit: number): Promise<V1Result[] | undefined> {
  const res = await client.request('GET', `/v1/search?q=${encodeURIComponent(query)}&n=${limit}`);
  if (res.statusCode < 200 || res.statusCode >= 300) {
    await res.body.dump();
    return undefined;
  }
  try {
    const doc = (await res.body.json()) as { results?: V1Result[] };
    return Array.isArray(doc.results) ? doc.results.filter((r) => typeof r?.name === 'string').slice(0, limit) : undefined;
  } catch {
    return undefined;
  }
}
