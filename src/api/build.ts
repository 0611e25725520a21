/**
 * `POST /build`: docker's classic builder protocol (docker CLI with DOCKER_BUILDKIT=0,
 * docker-compose's `build:`). The body is the context as a tar (plain or compressed); the query
 * carries the options; the answer is JSON lines, `{"stream": …}` for the builder's output, then
 * `{"aux":{"ID": …}}`, or `{"error": …}` when it failed. Options that tune resources of the RUN
 * containers (cpu*, memory*, shmsize, ulimits, cgroupparent) and the cache sources are accepted
 * and not applied.
 */
import { Writable } from 'node:stream';
import type { Route } from './router.js';
import type { Ctx } from './http.js';
import { boolParam } from './http.js';
import { badRequest } from './errors.js';

/** A JSON map parameter (`buildargs`, `labels`) as `KEY=VALUE` strings. */
function mapParam(q: URLSearchParams, name: string): string[] {
  const raw = q.get(name);
  if (!raw) return [];
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw badRequest(`invalid ${name}: not JSON`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`invalid ${name}: not a JSON object`);
  // A null build argument means "take it from the environment" in docker: the server has none to give.
  return Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== null).map(([k, x]) => `${k}=${String(x)}`);
}

async function build(ctx: Ctx): Promise<void> {
  const q = ctx.query;
  if (q.get('remote')) throw badRequest('remote build contexts (URLs, git) are not supported: send the context as a tar');
  const network = q.get('networkmode') || undefined;
  const options = {
    dockerfile: q.get('dockerfile') || undefined,
    tags: q.getAll('t').filter(Boolean),
    buildArgs: mapParam(q, 'buildargs'),
    labels: mapParam(q, 'labels'),
    noCache: boolParam(q, 'nocache'),
    pull: boolParam(q, 'pull'),
    target: q.get('target') || undefined,
    quiet: boolParam(q, 'q'),
    // docker's "default" is the default network
    network: network === 'default' ? undefined : network,
  };
  const { buildFromContextArchive, checkTag } = await import('../engine/images.js');
  for (const t of options.tags) await checkTag(t); // a bad tag is a 400, before the context is read
  ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  let open = true;
  ctx.res.once('close', () => (open = false));
  const line = (o: unknown) => open && ctx.res.write(`${JSON.stringify(o)}\n`);
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      line({ stream: chunk.toString() });
      cb();
    },
  });
  try {
    const image = await buildFromContextArchive(ctx.req, { ...options, out });
    line({ aux: { ID: image.id } });
    if (options.quiet) line({ stream: `${image.id}\n` });
  } catch (e) {
    const message = (e as Error).message;
    line({ errorDetail: { message }, error: message });
  }
  ctx.res.end();
}

export const buildRoutes: Route[] = [{ method: 'POST', pattern: '/build', handle: build }];
