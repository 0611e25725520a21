/**
 * Images as archives and pushes: `GET /images/get` and `/images/{name}/get` (docker save),
 * `POST /images/load` (docker load), `POST /images/{name}/push`. Layer files belong to subordinate
 * uids, so the work is done by a child that is root in the user namespace (the engine's
 * imageArchiveChild); this module streams its input and output and speaks docker's JSON lines.
 */
import type { ChildProcess } from 'node:child_process';
import type { Route } from './router.js';
import type { Ctx } from './http.js';
import { badRequest } from './errors.js';
import { ApiError } from './errors.js';

/** The child's stderr (its one `Error: ...` line) and exit code, once it ended. */
function outcome(child: ChildProcess): Promise<{ code: number; error: string }> {
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d));
  return new Promise((resolve) => {
    child.once('error', (e) => resolve({ code: 125, error: e.message }));
    child.once('close', (code, sig) => resolve({ code: code ?? (sig ? 128 : 125), error: err.trim().split('\n').pop()?.replace(/^Error: /, '') ?? '' }));
  });
}

/** Ends a stream of JSON lines with docker's error line, or nothing when all went well. */
const errorLine = (message: string) => `${JSON.stringify({ errorDetail: { message }, error: message })}\n`;

async function save(ctx: Ctx, names: string[]): Promise<void> {
  if (names.length === 0) throw badRequest('no image names given');
  const { imageArchiveChild, inspectImage } = await import('../engine/images.js');
  for (const n of names) await inspectImage(n); // 404 for a missing one, before anything is sent
  const child = await imageArchiveChild('save', names);
  child.stdin!.end();
  const done = outcome(child);
  ctx.res.once('close', () => {
    if (child.exitCode === null) child.kill('SIGTERM'); // the client went: the archive is not wanted
  });
  // Headers wait for the first byte: a failure before it is still an HTTP error.
  const first = await new Promise<Buffer | undefined>((resolve) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d));
    child.stdout!.once('end', () => resolve(undefined));
  });
  if (!first) {
    const r = await done;
    throw new ApiError(500, r.error || `save failed (exit ${r.code})`);
  }
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  ctx.res.write(first);
  child.stdout!.pipe(ctx.res);
  const r = await done;
  // A failure after the first byte can only cut the archive short: the client's tar reader sees it.
  if (r.code !== 0) ctx.res.destroy();
}

async function load(ctx: Ctx): Promise<void> {
  const { imageArchiveChild } = await import('../engine/images.js');
  const child = await imageArchiveChild('load', []);
  const done = outcome(child);
  child.stdin!.on('error', () => undefined); // the child may refuse the archive before reading it all
  ctx.req.pipe(child.stdin!);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  const r = await done;
  ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  const lines = out.split('\n').filter(Boolean);
  // docker's `quiet` silences progress bars (there are none); the result lines stay, as docker's.
  for (const l of lines) ctx.res.write(`${JSON.stringify({ stream: `${l}\n` })}\n`);
  ctx.res.end(r.code === 0 ? undefined : errorLine(r.error || `load failed (exit ${r.code})`));
}

/**
 * The push's lines as docker's progress JSON (`abc123def456: Pushed` → status + id); the digest line
 * is followed by docker's `aux` message (clients print the status, and take the digest from aux).
 */
function pushLine(line: string): Record<string, unknown>[] {
  const m = /^([0-9a-f]{12}): (.*)$/.exec(line);
  if (m) return [{ status: m[2], progressDetail: {}, id: m[1] }];
  const d = /^(\S+): digest: (sha256:[0-9a-f]{64}) size: (\d+)$/.exec(line);
  if (d) return [{ status: line }, { progressDetail: {}, aux: { Tag: d[1], Digest: d[2], Size: Number(d[3]) } }];
  return [{ status: line }];
}

const jsonLines = (objs: Record<string, unknown>[]) => objs.map((o) => `${JSON.stringify(o)}\n`).join('');

async function push(ctx: Ctx): Promise<void> {
  const tag = ctx.query.get('tag');
  const name = tag ? `${ctx.params.name!}:${tag}` : ctx.params.name!;
  const { imageArchiveChild, inspectImage } = await import('../engine/images.js');
  await inspectImage(name);
  // Credentials come from the store (`tsctr login`, or the API's /auth): X-Registry-Auth is not read.
  const child = await imageArchiveChild('push', [name]);
  child.stdin!.end();
  const done = outcome(child);
  ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  let rest = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split(/\r?\n|\r/);
    rest = parts.pop() ?? '';
    for (const l of parts) if (l.trim()) ctx.res.write(jsonLines(pushLine(l.trim())));
  });
  ctx.res.once('close', () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  const r = await done;
  if (rest.trim()) ctx.res.write(jsonLines(pushLine(rest.trim())));
  ctx.res.end(r.code === 0 ? undefined : errorLine(r.error || `push failed (exit ${r.code})`));
}

export const imageArchiveRoutes: Route[] = [
  { method: 'GET', pattern: '/images/get', handle: (ctx) => save(ctx, ctx.query.getAll('names')) },
  { method: 'POST', pattern: '/images/load', handle: load },
  { method: 'GET', pattern: '/images/{name*}/get', handle: (ctx) => save(ctx, [ctx.params.name!]) },
  { method: 'POST', pattern: '/images/{name*}/push', handle: push },
];
