/** docker's `search`: repositories of a registry whose names contain a term (registry/search.ts). */
import type { SearchHit } from '../registry/search.js';

export type { SearchHit };

export interface SearchOptions {
  limit: number;
  /** docker's --filter: stars=N, is-official=true|false, is-automated=true|false. */
  filters: string[];
}

export async function searchImages(term: string, o: SearchOptions): Promise<SearchHit[]> {
  const { TsctrError } = await import('../errors.js');
  const { splitFilter } = await import('../util/filters.js');
  if (!Number.isInteger(o.limit) || o.limit < 1 || o.limit > 100) throw new TsctrError(`invalid limit value ${o.limit}: must be between 1 and 100`);
  const preds: ((h: SearchHit) => boolean)[] = [];
  for (const f of o.filters) {
    const [k, v] = splitFilter(f);
    if (k === 'stars') {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new TsctrError(`invalid filter 'stars=${v}'`);
      preds.push((h) => h.stars >= n);
    } else if (k === 'is-official' || k === 'is-automated') {
      if (v !== 'true' && v !== 'false') throw new TsctrError(`invalid filter '${k}=${v}'`);
      preds.push((h) => (k === 'is-official' ? h.official : h.automated) === (v === 'true'));
    } else throw new TsctrError(`invalid filter '${k}'`);
  }
  const hits = await (await import('../registry/search.js')).searchRegistry(term, preds.length ? 100_000 : o.limit);
  return hits.filter((h) => preds.every((p) => p(h))).slice(0, o.limit);
}
