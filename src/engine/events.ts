/**
 * The events use case (docker's `events`, an API server's /events): the journal the commands and
 * the containers' monitors append to (store/events.ts), filtered as docker filters its stream.
 */
import type { Event } from '../store/events.js';

export type { Event };

export interface EventQuery {
  /** Epoch ms: events at or after it (none: only what happens from now on). */
  since?: number;
  /** Epoch ms: events up to it; in the future, the stream follows until then (none: forever). */
  until?: number;
  /** docker's `--filter key=value`: the same key ORs, different keys AND. */
  filters: string[];
}

const KEYS = new Set(['type', 'event', 'container', 'image', 'label', 'volume', 'network']);
const TYPES = new Set(['container', 'image', 'volume', 'network']);

/** Throws on a filter docker would refuse (unknown key, unknown type). */
export async function checkEventFilters(filters: string[]): Promise<void> {
  const { splitFilter } = await import('../util/filters.js');
  const { TsctrError } = await import('../errors.js');
  for (const f of filters) {
    const [k, v] = splitFilter(f);
    if (!KEYS.has(k)) throw new TsctrError(`invalid filter '${k}'`);
    if (k === 'type' && !TYPES.has(v)) throw new TsctrError(`invalid filter 'type=${v}': unknown event type (container, image, volume, network)`);
  }
}

type Pred = (e: Event) => boolean;

const actionOf = (e: Event) => {
  // docker's rule: `exec_start: sh -c ...` and `health_status: healthy` match `exec_start`, `health_status`
  const i = e.Action.indexOf(':');
  return i < 0 ? e.Action : e.Action.slice(0, i);
};
const prefixOf = (id: string, v: string) => v.length > 0 && id.startsWith(v);
const withoutLatest = (s: string) => s.replace(/:latest$/, '');

function predicate(key: string, v: string): Pred {
  switch (key) {
    case 'type':
      return (e) => e.Type === v;
    case 'event':
      return (e) => e.Action === v || actionOf(e) === v;
    case 'container':
      return (e) => e.Type === 'container' && (prefixOf(e.Actor.ID, v) || e.Actor.Attributes.name === v);
    case 'image': {
      const want = withoutLatest(v);
      const is = (s: string | undefined) => s !== undefined && (s === v || withoutLatest(s) === want);
      return (e) => (e.Type === 'container' && is(e.Actor.Attributes.image)) || (e.Type === 'image' && (is(e.Actor.ID) || is(e.Actor.Attributes.name) || prefixOf(e.Actor.ID.replace(/^sha256:/, ''), v.replace(/^sha256:/, ''))));
    }
    case 'label': {
      const eq = v.indexOf('=');
      return eq < 0 ? (e) => v in e.Actor.Attributes : (e) => e.Actor.Attributes[v.slice(0, eq)] === v.slice(eq + 1);
    }
    default: // volume, network
      return (e) => e.Type === key && (prefixOf(e.Actor.ID, v) || e.Actor.Attributes.name === v);
  }
}

async function matcher(filters: string[]): Promise<Pred> {
  const { splitFilter } = await import('../util/filters.js');
  const byKey = new Map<string, Pred[]>();
  for (const f of filters) {
    const [k, v] = splitFilter(f);
    byKey.set(k, [...(byKey.get(k) ?? []), predicate(k, v)]);
  }
  const groups = [...byKey.values()];
  return (e) => groups.every((g) => g.some((p) => p(e)));
}

/** The journal's events between since and until (both optional) that the filters keep, oldest first. */
export async function pastEvents(q: EventQuery): Promise<Event[]> {
  await checkEventFilters(q.filters);
  const { readEvents } = await import('../store/events.js');
  const keep = await matcher(q.filters);
  const since = q.since === undefined ? -Infinity : q.since * 1e6;
  const until = q.until === undefined ? Infinity : q.until * 1e6;
  return readEvents().filter((e) => e.timeNano >= since && e.timeNano <= until && keep(e));
}

/**
 * docker's `events` stream: the past events `since` asks for, then each new one as it is written,
 * until `until` passes or the signal aborts. Batches, oldest first.
 */
export async function* streamEvents(q: EventQuery, signal: AbortSignal): AsyncGenerator<Event[]> {
  await checkEventFilters(q.filters);
  const { followEvents } = await import('../store/events.js');
  const keep = await matcher(q.filters);
  const until = q.until;
  if (until !== undefined && until <= Date.now()) {
    yield await pastEvents(q);
    return;
  }
  // Following starts before the past is read: an event written in between is seen (the journal
  // lines are not re-read), and one seen twice is dropped by its position in time.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const timer = until !== undefined ? setTimeout(() => stop.abort(), until - Date.now()) : undefined;
  const follow = followEvents(stop.signal);
  const first = follow.next(); // opens the journal at its end now
  let last = -Infinity;
  try {
    if (q.since !== undefined) {
      const past = await pastEvents({ ...q, until: undefined });
      if (past.length) {
        last = past.at(-1)!.timeNano;
        yield past;
      }
    }
    for (let r = await first; !r.done; r = await follow.next()) {
      const batch = r.value.filter((e) => keep(e) && e.timeNano > last && (until === undefined || e.timeNano <= until * 1e6));
      if (batch.length) yield batch;
    }
  } finally {
    if (timer) clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    stop.abort();
    await follow.return(undefined);
  }
}

/** docker's JSON of an event (with the deprecated status/id/from its clients still read). */
export async function eventMessage(e: Event): Promise<Record<string, unknown>> {
  return (await import('../store/events.js')).dockerMessage(e);
}
