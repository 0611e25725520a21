/**
 * `GET /events`: the event journal (engine/events.ts) as docker's stream of JSON messages — the past
 * ones `since` asks for, then each new one, until `until` passes or the client goes. `since` and
 * `until` are unix seconds (docker's clients send `1700000000.000000000`); `filters` docker's JSON.
 */
import type { Route } from './router.js';
import type { Ctx } from './http.js';
import { filtersParam } from './http.js';
import { badRequest } from './errors.js';

/** Unix seconds (a fraction allowed) as epoch ms; absent or empty: undefined. */
function unixParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)} (unix seconds)`);
  return Math.floor(Number(v) * 1000);
}

async function events(ctx: Ctx): Promise<void> {
  const since = unixParam(ctx.query, 'since');
  const until = unixParam(ctx.query, 'until');
  const filters = [...filtersParam(ctx.query)].flatMap(([k, vs]) => vs.map((v) => `${k}=${v}`));
  const { checkEventFilters, eventMessage, streamEvents } = await import('../engine/events.js');
  try {
    await checkEventFilters(filters);
  } catch (e) {
    throw badRequest((e as Error).message);
  }
  const abort = new AbortController();
  ctx.res.once('close', () => abort.abort());
  ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  ctx.res.flushHeaders(); // the docker CLI waits for the headers before it prints anything
  try {
    for await (const batch of streamEvents({ since, until, filters }, abort.signal)) {
      if (abort.signal.aborted) break;
      for (const e of batch) ctx.res.write(`${JSON.stringify(await eventMessage(e))}\n`);
    }
  } finally {
    ctx.res.end();
  }
}

export const eventRoutes: Route[] = [{ method: 'GET', pattern: '/events', handle: events }];
