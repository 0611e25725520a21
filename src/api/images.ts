/** The `/images` endpoints that do not stream archives (pull progress is JSON lines). */
import { ApiError, badRequest, notFound } from './errors.js';
import { boolParam, filtersParam, intParam, sendJson, type Ctx } from './http.js';
import type { Route } from './router.js';

type Obj = Record<string, unknown>;
const engine = () => import('../engine/images.js');

/** `fromImage` and `tag` as one reference (`tag` may be a digest). */
export function pullReference(fromImage: string, tag: string | null): string {
  if (!tag) return fromImage;
  if (tag.includes(':')) return `${fromImage}@${tag}`;
  // A reference that already has a tag or digest keeps it.
  const last = fromImage.slice(fromImage.lastIndexOf('/') + 1);
  return last.includes(':') || fromImage.includes('@') ? fromImage : `${fromImage}:${tag}`;
}

async function pull(ctx: Ctx): Promise<void> {
  const from = ctx.query.get('fromImage');
  if (ctx.query.get('fromSrc')) throw new ApiError(501, 'importing through images/create (fromSrc) is not supported: use POST /images/load');
  if (!from) throw badRequest('fromImage is required');
  const ref = pullReference(from, ctx.query.get('tag'));
  const { checkReference } = await engine();
  try {
    await checkReference(ref);
  } catch (e) {
    throw badRequest((e as Error).message);
  }
  const { pullInNamespace } = await import('../engine/pull.js');
  const abort = new AbortController();
  ctx.res.on('close', () => abort.abort());
  ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  const line = (o: Obj) => ctx.res.writableEnded || ctx.res.write(`${JSON.stringify(o)}\n`);
  line({ status: `Pulling from ${from}`, id: ctx.query.get('tag') || 'latest' });
  let said = false;
  await pullInNamespace(ref, ctx.query.get('platform') || undefined, (text, stream) => {
    if (stream === 'stdout' && !/\s/.test(text)) return; // the full reference the CLI prints last
    said ||= text.startsWith('Status:');
    line({ status: text });
  }, abort.signal);
  if (!said) line({ status: `Status: Downloaded newer image for ${ref}` });
  ctx.res.end();
}

/** docker's image list entry, from the inspect document. */
function listEntry(j: Obj, containers: number): Obj {
  const cfg = (j.Config as Obj) ?? {};
  return {
    Id: j.Id,
    ParentId: j.Parent ?? '',
    RepoTags: (j.RepoTags as string[])?.length ? j.RepoTags : ['<none>:<none>'],
    RepoDigests: j.RepoDigests ?? [],
    Created: Math.floor(Date.parse(String(j.Created)) / 1000) || 0,
    Size: j.Size ?? 0,
    SharedSize: -1,
    VirtualSize: j.VirtualSize ?? j.Size ?? 0,
    Labels: cfg.Labels ?? {},
    Containers: containers,
  };
}

async function list(ctx: Ctx): Promise<void> {
  const { inspectImage, listImages } = await engine();
  const filters: string[] = [];
  for (const [k, vals] of filtersParam(ctx.query)) for (const v of vals) filters.push(`${k}=${v}`);
  const rows = await listImages({ all: boolParam(ctx.query, 'all'), noTrunc: true, filters });
  const seen = new Set<string>();
  const out: Obj[] = [];
  for (const r of rows) {
    if (seen.has(r.ID)) continue;
    seen.add(r.ID);
    try {
      out.push(listEntry(await inspectImage(r.ID), Number(r.Containers) || 0));
    } catch {
      /* removed meanwhile */
    }
  }
  sendJson(ctx, 200, out);
}

async function inspect(ctx: Ctx): Promise<void> {
  sendJson(ctx, 200, await (await engine()).inspectImage(ctx.params.name!));
}

async function history(ctx: Ctx): Promise<void> {
  const { imageHistory, inspectImage } = await engine();
  const rows = await imageHistory(ctx.params.name!, true);
  const id = String((await inspectImage(ctx.params.name!)).Id);
  const tags = ((await inspectImage(ctx.params.name!)).RepoTags as string[]) ?? [];
  sendJson(
    ctx,
    200,
    rows.map((r, i) => ({
      Id: i === 0 ? id : '<missing>',
      Created: Math.floor(Date.parse(r.CreatedAt) / 1000) || 0,
      CreatedBy: r.CreatedBy,
      Tags: i === 0 ? tags : null,
      Size: sizeOf(r.Size),
      Comment: r.Comment,
    })),
  );
}

/** The history rows' human sizes back to bytes (approximately, as shown). */
function sizeOf(s: string): number {
  const m = /^([\d.]+)\s*([kMGT]?B)$/i.exec(s.trim());
  if (!m) return 0;
  const mult: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12 };
  return Math.round(Number(m[1]) * (mult[m[2]!.toLowerCase()] ?? 1));
}

async function tag(ctx: Ctx): Promise<void> {
  const repo = ctx.query.get('repo');
  if (!repo) throw badRequest('repo is required');
  const t = ctx.query.get('tag');
  const { checkReference, tagImage } = await engine();
  const target = t ? `${repo}:${t}` : repo;
  try {
    await checkReference(target);
  } catch (e) {
    throw badRequest((e as Error).message);
  }
  await tagImage(ctx.params.name!, target);
  ctx.res.writeHead(201, { 'Content-Length': 0 });
  ctx.res.end();
}

async function remove(ctx: Ctx): Promise<void> {
  const r = await (await engine()).removeImage(ctx.params.name!, boolParam(ctx.query, 'force'));
  sendJson(ctx, 200, [...r.untagged.map((u) => ({ Untagged: u })), ...r.deleted.map((d) => ({ Deleted: d }))]);
}

async function prune(ctx: Ctx): Promise<void> {
  const f = filtersParam(ctx.query);
  const dangling = f.get('dangling')?.[0];
  const r = await (await engine()).pruneImages(dangling === 'false' || dangling === '0');
  sendJson(ctx, 200, { ImagesDeleted: [...r.untagged.map((u) => ({ Untagged: u })), ...r.deleted.map((d) => ({ Deleted: d }))], SpaceReclaimed: r.reclaimed });
}

/**
 * `docker search`: the engine's search (the registry's catalog, or docker's /v1/search), in docker's
 * result shape. The filters arrive as JSON (`{"stars":{"3":true}}`) and become the CLI's `k=v`.
 */
async function search(ctx: Ctx): Promise<void> {
  const term = ctx.query.get('term');
  if (!term) throw badRequest('term is required');
  const limit = intParam(ctx.query, 'limit') ?? 25;
  if (limit < 1 || limit > 100) throw badRequest(`invalid limit value ${limit}: must be between 1 and 100`);
  const filters = [...filtersParam(ctx.query)].flatMap(([k, vs]) => vs.map((v) => `${k}=${v}`));
  for (const f of filters) if (!/^(stars=-?\d+|is-(official|automated)=(true|false))$/.test(f)) throw badRequest(`invalid filter '${f}'`);
  const { searchImages } = await import('../engine/search.js');
  const hits = await searchImages(term, { limit, filters });
  sendJson(ctx, 200, hits.map((h) => ({ name: h.name, description: h.description, star_count: h.stars, is_official: h.official, is_automated: h.automated })));
}

function plugin(ctx: Ctx): never {
  throw notFound(`plugin "${ctx.params.name}" not found`);
}

export const IMAGE_ROUTES: Route[] = [
  { method: 'POST', pattern: '/images/create', handle: pull },
  { method: 'GET', pattern: '/images/json', handle: list },
  { method: 'POST', pattern: '/images/prune', handle: prune },
  { method: 'GET', pattern: '/images/search', handle: search },
  { method: 'GET', pattern: '/images/{name*}/json', handle: inspect },
  { method: 'GET', pattern: '/images/{name*}/history', handle: history },
  { method: 'POST', pattern: '/images/{name*}/tag', handle: tag },
  { method: 'DELETE', pattern: '/images/{name*}', handle: remove },
  { method: 'GET', pattern: '/plugins/{name*}/json', handle: plugin },
];
