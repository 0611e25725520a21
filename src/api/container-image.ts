/**
 * A container's filesystem as the docker CLI asks for it: `POST /commit` (docker commit),
 * `GET /containers/{id}/export` (docker export), `GET /containers/{id}/changes` (docker diff).
 * Each is the engine's use case that `tsctr commit`, `export` and `diff` call.
 */
import { badRequest } from './errors.js';
import { boolParam, readJson, sendJson, type Ctx } from './http.js';
import type { Route } from './router.js';
import { NotFoundError } from '../errors.js';

/** `repo` and `tag` → the REPOSITORY[:TAG] that `tsctr commit` takes (none: an untagged image). */
export function commitReference(repo: string | null, tag: string | null): string | undefined {
  if (!repo) {
    if (tag) throw badRequest('tag requires a repository');
    return undefined;
  }
  return tag ? `${repo}:${tag}` : repo;
}

async function commit(ctx: Ctx): Promise<void> {
  // The body is a container config docker merges into the image's; the CLI sends its `--change`
  // lines as `changes=` instead, which is what the engine applies.
  await readJson(ctx);
  const container = ctx.query.get('container');
  if (!container) throw badRequest('container is required');
  const options = {
    tag: commitReference(ctx.query.get('repo'), ctx.query.get('tag')),
    message: ctx.query.get('comment') || undefined,
    author: ctx.query.get('author') || undefined,
    changes: ctx.query.getAll('changes').filter((c) => c !== ''),
  };
  const { checkCommit, commitContainer } = await import('../engine/images.js');
  try {
    await checkCommit(container, options);
  } catch (e) {
    if (e instanceof NotFoundError) throw e;
    throw badRequest((e as Error).message);
  }
  // docker pauses by default; `pause=0` (docker commit --pause=false) reads the files as they run.
  const pause = ctx.query.has('pause') ? boolParam(ctx.query, 'pause') : true;
  const resume = pause ? await (await import('../engine/containers.js')).pauseWhile(container) : () => undefined;
  try {
    const image = await commitContainer(container, options);
    sendJson(ctx, 201, { Id: image.id.startsWith('sha256:') ? image.id : `sha256:${image.id}` });
  } finally {
    resume();
  }
}

async function exportTar(ctx: Ctx): Promise<void> {
  const { exportContainer } = await import('../engine/containers.js');
  // Resolved (a 404 for a wrong name) before the answer's head goes out.
  const tar = await exportContainer(ctx.params.id!);
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  let gone = false;
  ctx.res.on('close', () => (gone = true));
  for await (const chunk of tar) {
    if (gone) break;
    if (!ctx.res.write(chunk)) await new Promise<void>((resolve) => (ctx.res.once('drain', resolve), ctx.res.once('close', resolve)));
  }
  ctx.res.end();
}

async function changes(ctx: Ctx): Promise<void> {
  const { containerChanges } = await import('../engine/extra.js');
  const list = await containerChanges(ctx.params.id!);
  // docker's Path, Kind (0 changed, 1 added, 2 deleted), in that order of keys
  sendJson(ctx, 200, list.map((c) => ({ Path: c.Path, Kind: c.Kind })));
}

export const containerImageRoutes: Route[] = [
  { method: 'POST', pattern: '/commit', handle: commit },
  { method: 'GET', pattern: '/containers/{id}/export', handle: exportTar },
  { method: 'GET', pattern: '/containers/{id}/changes', handle: changes },
];
