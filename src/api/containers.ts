/** The `/containers` endpoints (those that do not stream; attach, logs -f and stats are elsewhere). */
import { Buffer } from 'node:buffer';
import { ApiError, badRequest, notFound } from './errors.js';
import { boolParam, filtersParam, intParam, readJsonObject, readJson, sendJson, sendStatus, type Ctx } from './http.js';
import type { Route } from './router.js';
import { addExec, getExec } from './exec-store.js';

type Obj = Record<string, unknown>;

const engine = () => import('../engine/containers.js');

async function isRunning(id: string): Promise<boolean> {
  const j = await (await engine()).inspectContainer(id);
  return Boolean((j.State as Obj).Running);
}

async function create(ctx: Ctx): Promise<void> {
  const body = await readJsonObject(ctx);
  const { bodyImage, specFromBody } = await import('./create-body.js');
  const { createContainer, localImageConfig } = await import('../engine/create.js');
  const { processHost } = await import('../container/options.js');
  const image = bodyImage(body);
  const local = await localImageConfig(image);
  // docker's CLI pulls on exactly this answer, then creates again.
  if (!local) throw notFound(`No such image: ${image}`);
  const name = ctx.query.get('name') || undefined;
  const spec = specFromBody({ body, ...(name ? { name } : {}), ...(ctx.query.get('platform') ? { platform: ctx.query.get('platform')! } : {}) }, local.config, processHost());
  const rec = await createContainer(spec, local.image);
  sendJson(ctx, 201, { Id: rec.id, Warnings: [] });
}

/** docker's list entry, from the container's inspect document and its ps row. */
function listEntry(j: Obj, status: string): Obj {
  const cfg = j.Config as Obj;
  const st = j.State as Obj;
  const hc = j.HostConfig as Obj;
  const ns = j.NetworkSettings as Obj;
  const ports: Obj[] = [];
  for (const [key, binds] of Object.entries((ns.Ports as Record<string, { HostIp: string; HostPort: string }[] | null>) ?? {})) {
    const [port, type = 'tcp'] = key.split('/');
    if (!binds) ports.push({ PrivatePort: Number(port), Type: type });
    // IP is what `docker ps` shows the host port with: without it, no host port at all.
    else for (const b of binds) ports.push({ IP: b.HostIp || '0.0.0.0', PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: type });
  }
  const argv = [j.Path, ...((j.Args as string[]) ?? [])].filter((x) => x !== undefined);
  return {
    Id: j.Id,
    Names: [j.Name],
    Image: cfg.Image,
    ImageID: j.Image,
    Command: argv.join(' '),
    Created: Math.floor(Date.parse(String(j.Created)) / 1000),
    Ports: ports,
    Labels: cfg.Labels ?? {},
    State: st.Status,
    Status: status,
    HostConfig: { NetworkMode: hc.NetworkMode },
    NetworkSettings: { Networks: ns.Networks ?? {} },
    Mounts: j.Mounts ?? [],
  };
}

async function list(ctx: Ctx): Promise<void> {
  const { inspectContainer, listContainers } = await engine();
  const filters: string[] = [];
  for (const [k, vals] of filtersParam(ctx.query)) for (const v of vals) filters.push(`${k}=${v}`);
  const limit = intParam(ctx.query, 'limit');
  const rows = await listContainers({ all: boolParam(ctx.query, 'all'), noTrunc: true, filters, ...(limit && limit > 0 ? { last: limit } : {}) });
  const out: Obj[] = [];
  for (const r of rows) {
    try {
      out.push(listEntry(await inspectContainer(r.ID), r.Status));
    } catch {
      /* removed meanwhile */
    }
  }
  sendJson(ctx, 200, out);
}

async function inspect(ctx: Ctx): Promise<void> {
  sendJson(ctx, 200, await (await engine()).inspectContainer(ctx.params.id!));
}

async function start(ctx: Ctx): Promise<void> {
  const id = ctx.params.id!;
  if (await isRunning(id)) return sendStatus(ctx, 304);
  // An attachment waiting for this start (docker's run: attach, wait, start) gets it: attach.ts.
  if (await (await import('./attach.js')).startAttached((await (await engine()).getContainer(id)).id)) return sendStatus(ctx, 204);
  await (await engine()).startContainer(id, { attach: false, interactive: false });
  sendStatus(ctx, 204);
}

async function stop(ctx: Ctx): Promise<void> {
  const id = ctx.params.id!;
  if (!(await isRunning(id))) return sendStatus(ctx, 304);
  await (await engine()).stopContainer(id, intParam(ctx.query, 't') ?? intParam(ctx.query, 'timeout'));
  sendStatus(ctx, 204);
}

async function restart(ctx: Ctx): Promise<void> {
  await (await engine()).restartContainer(ctx.params.id!, intParam(ctx.query, 't') ?? intParam(ctx.query, 'timeout'));
  sendStatus(ctx, 204);
}

async function kill(ctx: Ctx): Promise<void> {
  const { checkSignal, killContainer } = await engine();
  const signal = ctx.query.get('signal') || 'SIGKILL';
  try {
    await checkSignal(signal);
  } catch (e) {
    throw badRequest((e as Error).message);
  }
  await killContainer(ctx.params.id!, signal);
  sendStatus(ctx, 204);
}

async function wait(ctx: Ctx): Promise<void> {
  const condition = ctx.query.get('condition') || 'not-running';
  if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw badRequest(`invalid condition: "${condition}"`);
  const { waitForCondition } = await import('../engine/wait.js');
  const { getContainer } = await engine();
  const c = await getContainer(ctx.params.id!); // a missing one is a 404 before the 200 goes out
  const abort = new AbortController();
  ctx.res.on('close', () => abort.abort());
  // The header goes at once: docker's CLI starts the container only once its wait is in place.
  ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  ctx.res.flushHeaders();
  let body: Obj;
  try {
    body = { StatusCode: await waitForCondition(c.id, condition as 'not-running' | 'next-exit' | 'removed', abort.signal), Error: null };
  } catch (e) {
    body = { StatusCode: -1, Error: { Message: (e as Error).message } };
  }
  if (!ctx.res.writableEnded && !ctx.res.destroyed) ctx.res.end(JSON.stringify(body));
}

async function remove(ctx: Ctx): Promise<void> {
  await (await engine()).removeContainer(ctx.params.id!, { force: boolParam(ctx.query, 'force'), volumes: boolParam(ctx.query, 'v'), stopTimeout: 0 });
  sendStatus(ctx, 204);
}

/** docker's 8-byte frame header: stream (1 stdout, 2 stderr), 3 zero bytes, the size (big-endian). */
export function frame(stream: 'stdout' | 'stderr', payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head[0] = stream === 'stdout' ? 1 : 2;
  head.writeUInt32BE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

async function logs(ctx: Ctx): Promise<void> {
  const q = ctx.query;
  if (boolParam(q, 'follow')) return (await import('./logs-follow.js')).followLogs(ctx);
  const wantOut = boolParam(q, 'stdout');
  const wantErr = boolParam(q, 'stderr');
  if (!wantOut && !wantErr) throw badRequest('Bad parameters: you must choose at least one stream');
  const tailRaw = q.get('tail');
  const tail = !tailRaw || tailRaw === 'all' ? -1 : Number(tailRaw);
  if (!Number.isInteger(tail) || tail < -1) throw badRequest(`invalid tail: ${JSON.stringify(tailRaw)}`);
  const seconds = (name: string) => {
    const v = q.get(name);
    if (!v || v === '0') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw badRequest(`invalid ${name}: ${JSON.stringify(v)}`);
    return n * 1000;
  };
  const since = seconds('since');
  const until = seconds('until');
  const timestamps = boolParam(q, 'timestamps');
  const { containerLogs, inspectContainer } = await engine();
  const tty = Boolean(((await inspectContainer(ctx.params.id!)).Config as Obj).Tty);
  ctx.res.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
  for await (const batch of containerLogs(ctx.params.id!, { tail, follow: false, ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) })) {
    for (const r of batch) {
      if ((r.stream === 'stdout' && !wantOut) || (r.stream === 'stderr' && !wantErr)) continue;
      const payload = Buffer.from(timestamps ? `${r.time} ${r.text}` : r.text);
      ctx.res.write(tty ? payload : frame(r.stream, payload));
    }
  }
  ctx.res.end();
}

async function top(ctx: Ctx): Promise<void> {
  const psArgs = (ctx.query.get('ps_args') ?? '').split(/\s+/).filter(Boolean);
  const r = await (await engine()).topContainer(ctx.params.id!, psArgs);
  if (!r.ok) throw new ApiError(500, `ps: ${r.stderr.trim() || 'failed'}`);
  const lines = r.stdout.split('\n').filter((l) => l.trim());
  const titles = (lines[0] ?? '').trim().split(/\s+/);
  const processes = lines.slice(1).map((l) => {
    const cols = l.trim().split(/\s+/);
    return [...cols.slice(0, titles.length - 1), cols.slice(titles.length - 1).join(' ')];
  });
  sendJson(ctx, 200, { Titles: titles, Processes: processes });
}

async function rename(ctx: Ctx): Promise<void> {
  const name = ctx.query.get('name');
  if (!name) throw badRequest('name is required');
  await (await engine()).renameContainer(ctx.params.id!, name);
  sendStatus(ctx, 204);
}

async function prune(ctx: Ctx): Promise<void> {
  const r = await (await engine()).pruneContainers();
  sendJson(ctx, 200, { ContainersDeleted: r.removed, SpaceReclaimed: r.reclaimed });
}

async function resize(ctx: Ctx): Promise<void> {
  const { ttySize } = await import('./attach.js');
  const size = ttySize(ctx.query);
  const c = await (await engine()).getContainer(ctx.params.id!);
  if (size) await (await import('../engine/attach.js')).resizeContainerTty(c.id, size.rows, size.cols);
  sendStatus(ctx, 200);
}

async function archiveStat(ctx: Ctx) {
  const p = ctx.query.get('path');
  if (!p) throw badRequest('path is required');
  const { getContainer } = await engine();
  const c = await getContainer(ctx.params.id!);
  const { statContainerPath } = await import('../engine/archive.js');
  const st = await statContainerPath(c.id, p);
  if (!st) throw notFound(`Could not find the file ${p} in container ${ctx.params.id}`);
  return { id: c.id, path: p, stat: st, header: Buffer.from(JSON.stringify(st)).toString('base64') };
}

async function archiveHead(ctx: Ctx): Promise<void> {
  const { header } = await archiveStat(ctx);
  ctx.res.writeHead(200, { 'X-Docker-Container-Path-Stat': header, 'Content-Length': 0 });
  ctx.res.end();
}

async function archiveGet(ctx: Ctx): Promise<void> {
  const { id, path, header } = await archiveStat(ctx);
  const { archiveContainerPath } = await import('../engine/archive.js');
  ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': header });
  await archiveContainerPath(id, path, ctx.res);
  ctx.res.end();
}

async function archivePut(ctx: Ctx): Promise<void> {
  const { id, path, stat } = await archiveStat(ctx);
  if (!(stat.mode & 0x80000000)) throw badRequest(`extraction point is not a directory: ${path}`);
  const { extractIntoContainer } = await import('../engine/archive.js');
  await extractIntoContainer(id, path, ctx.req);
  sendStatus(ctx, 200);
}

async function execCreate(ctx: Ctx): Promise<void> {
  const b = await readJsonObject(ctx);
  const { getContainer } = await engine();
  const c = await getContainer(ctx.params.id!);
  if (!(await isRunning(c.id))) throw new ApiError(409, `Container ${c.id} is not running`);
  const cmd = b.Cmd;
  if (!Array.isArray(cmd) || !cmd.length || !cmd.every((w) => typeof w === 'string')) throw badRequest('Cmd is required: a list of strings');
  const str = (k: string) => (typeof b[k] === 'string' && b[k] ? (b[k] as string) : undefined);
  const env = Array.isArray(b.Env) ? b.Env.filter((e): e is string => typeof e === 'string') : [];
  const user = str('User');
  const workdir = str('WorkingDir');
  // [height, width] of the client's terminal (API 1.42+): the pty's size from its start
  const cs = b.ConsoleSize;
  const size = Array.isArray(cs) && cs.length === 2 && cs.every((n) => Number.isInteger(n) && n > 0 && n <= 65535) ? { rows: cs[0] as number, cols: cs[1] as number } : undefined;
  const inst = addExec({
    containerId: c.id,
    command: cmd as string[],
    tty: b.Tty === true,
    attachStdin: b.AttachStdin === true,
    attachStdout: b.AttachStdout !== false,
    attachStderr: b.AttachStderr !== false,
    env,
    ...(user ? { user } : {}),
    ...(workdir ? { workdir } : {}),
    detachKeys: str('DetachKeys') ?? '',
    ...(size ? { size } : {}),
  });
  sendJson(ctx, 201, { Id: inst.id });
}

function execInspect(ctx: Ctx): void {
  const e = getExec(ctx.params.id!);
  if (!e) throw notFound(`No such exec instance: ${ctx.params.id}`);
  sendJson(ctx, 200, {
    ID: e.id,
    ContainerID: e.containerId,
    Running: e.running,
    ExitCode: e.exitCode,
    Pid: e.pid,
    OpenStdin: e.attachStdin,
    OpenStdout: e.attachStdout,
    OpenStderr: e.attachStderr,
    CanRemove: false,
    DetachKeys: e.detachKeys,
    ProcessConfig: { entrypoint: e.command[0], arguments: e.command.slice(1), tty: e.tty, privileged: false, user: e.user ?? '' },
  });
}

async function pause(ctx: Ctx): Promise<void> {
  await (await import('../engine/extra.js')).pauseContainer(ctx.params.id!);
  sendStatus(ctx, 204);
}

async function unpause(ctx: Ctx): Promise<void> {
  await (await import('../engine/extra.js')).unpauseContainer(ctx.params.id!);
  sendStatus(ctx, 204);
}

/** Unused bodies are read and dropped, so that a keep-alive connection stays in step. */
async function drain(ctx: Ctx): Promise<void> {
  await readJson(ctx);
}

export const CONTAINER_ROUTES: Route[] = [
  { method: 'POST', pattern: '/containers/create', handle: create },
  { method: 'GET', pattern: '/containers/json', handle: list },
  { method: 'POST', pattern: '/containers/prune', handle: prune },
  { method: 'GET', pattern: '/containers/{id}/json', handle: inspect },
  { method: 'POST', pattern: '/containers/{id}/start', handle: async (ctx) => (await drain(ctx), start(ctx)) },
  { method: 'POST', pattern: '/containers/{id}/stop', handle: stop },
  { method: 'POST', pattern: '/containers/{id}/restart', handle: restart },
  { method: 'POST', pattern: '/containers/{id}/kill', handle: kill },
  { method: 'POST', pattern: '/containers/{id}/wait', handle: wait },
  { method: 'DELETE', pattern: '/containers/{id}', handle: remove },
  { method: 'GET', pattern: '/containers/{id}/logs', handle: logs },
  { method: 'GET', pattern: '/containers/{id}/top', handle: top },
  { method: 'POST', pattern: '/containers/{id}/rename', handle: rename },
  { method: 'POST', pattern: '/containers/{id}/resize', handle: resize },
  { method: 'HEAD', pattern: '/containers/{id}/archive', handle: archiveHead },
  { method: 'GET', pattern: '/containers/{id}/archive', handle: archiveGet },
  { method: 'PUT', pattern: '/containers/{id}/archive', handle: archivePut },
  { method: 'POST', pattern: '/containers/{id}/exec', handle: execCreate },
  { method: 'GET', pattern: '/exec/{id}/json', handle: execInspect },
  { method: 'POST', pattern: '/containers/{id}/pause', handle: pause },
  { method: 'POST', pattern: '/containers/{id}/unpause', handle: unpause },
];
