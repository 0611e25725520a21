/**
 * exec through the API: `POST /containers/{id}/exec` makes an instance (kept here, in the server's
 * memory, as docker keeps them in its daemon), `POST /exec/{id}/start` runs it — hijacked, its
 * stdin/stdout/stderr plugged into the exec helper's pipes (framed without a tty, raw with one) —
 * or detached; `GET /exec/{id}/json` has its exit code once it ended.
 */
import type { ChildProcess } from 'node:child_process';
import type { Route } from './router.js';
import type { Ctx, Hijacked } from './http.js';
import { readJsonObject, sendJson, sendStatus } from './http.js';
import { ApiError, badRequest, notFound } from './errors.js';
import { MUX_CONTENT_TYPE, RAW_CONTENT_TYPE, streamWriter } from './mux.js';

interface ExecInstance {
  id: string;
  containerId: string;
  cmd: string[];
  tty: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  env: string[];
  user?: string;
  workdir?: string;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  /** When it ended or was made: instances are forgotten a while after they ended. */
  at: number;
}

const execs = new Map<string, ExecInstance>();
/** docker keeps ended execs until their container goes; a server that lives long forgets them after this. */
const KEEP_MS = 10 * 60_000;

function forgetOld(): void {
  const now = Date.now();
  for (const [id, e] of execs) if (!e.running && now - e.at > KEEP_MS) execs.delete(id);
}

const strings = (v: unknown, what: string): string[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw badRequest(`${what} must be a list of strings`);
  return v as string[];
};
const optString = (v: unknown, what: string): string | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw badRequest(`${what} must be a string`);
  return v;
};

async function create(ctx: Ctx): Promise<void> {
  const body = await readJsonObject(ctx);
  const cmd = strings(body.Cmd, 'Cmd');
  if (cmd.length === 0) throw badRequest('No exec command specified');
  const { inspectContainer } = await import('../engine/containers.js');
  const c = (await inspectContainer(ctx.params.id!)) as { Id: string; State: { Running: boolean; Paused: boolean } };
  if (!c.State.Running) throw new ApiError(409, `Container ${c.Id} is not running`);
  if (c.State.Paused) throw new ApiError(409, `Container ${c.Id} is paused, unpause the container before exec`);
  forgetOld();
  const { randomBytes } = await import('node:crypto');
  const id = randomBytes(32).toString('hex');
  execs.set(id, {
    id,
    containerId: c.Id,
    cmd,
    tty: body.Tty === true,
    attachStdin: body.AttachStdin === true,
    attachStdout: body.AttachStdout === true,
    attachStderr: body.AttachStderr === true,
    env: strings(body.Env, 'Env'),
    user: optString(body.User, 'User'),
    workdir: optString(body.WorkingDir, 'WorkingDir'),
    running: false,
    started: false,
    exitCode: null,
    pid: 0,
    at: Date.now(),
  });
  sendJson(ctx, 201, { Id: id });
}

function instance(id: string): ExecInstance {
  const e = execs.get(id);
  if (!e) throw notFound(`No such exec instance: ${id}`);
  return e;
}

function inspect(ctx: Ctx): void {
  const e = instance(ctx.params.id!);
  sendJson(ctx, 200, {
    ID: e.id,
    Running: e.running,
    ExitCode: e.exitCode,
    ProcessConfig: { tty: e.tty, entrypoint: e.cmd[0], arguments: e.cmd.slice(1), privileged: false, user: e.user ?? '' },
    OpenStdin: e.attachStdin,
    OpenStderr: e.attachStderr,
    OpenStdout: e.attachStdout,
    CanRemove: false,
    ContainerID: e.containerId,
    DetachKeys: '',
    Pid: e.pid,
  });
}

/** Runs the instance; `io` absent: detached. Resolves with its exit code once it ended. */
async function run(e: ExecInstance, io: Hijacked | undefined): Promise<number> {
  const { execInContainer } = await import('../engine/containers.js');
  e.started = e.running = true;
  const write = io && streamWriter(io.output, e.tty);
  const drained: Promise<unknown>[] = [];
  const spawned = (child: ChildProcess) => {
    e.pid = child.pid ?? 0;
    if (!io) return;
    child.stdin?.on('error', () => undefined);
    if (e.attachStdin && child.stdin) io.input.pipe(child.stdin);
    for (const [s, n, want] of [[child.stdout, 1, e.attachStdout], [child.stderr, 2, e.attachStderr]] as const) {
      if (!s) continue;
      s.on('data', (d: Buffer) => want && write!(n, d));
      drained.push(new Promise((r) => s.once('close', r)));
    }
  };
  try {
    const code = await execInContainer(e.containerId, {
      command: e.cmd,
      interactive: e.attachStdin && !!io,
      tty: e.tty,
      detach: !io,
      env: e.env,
      envFile: [],
      user: e.user,
      workdir: e.workdir,
      stdio: io ? [e.attachStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] : undefined,
      spawned,
    });
    await Promise.all(drained);
    if (io) e.exitCode = code;
    return code;
  } catch (err) {
    e.exitCode = 126;
    throw err;
  } finally {
    e.running = false;
    e.at = Date.now();
  }
}

async function start(ctx: Ctx, hijack: (contentType?: string) => Hijacked): Promise<void> {
  const e = instance(ctx.params.id!);
  const body = await readJsonObject(ctx, 64 * 1024).catch(() => ({}) as Record<string, unknown>);
  if (e.started) throw new ApiError(409, `Exec ${e.id} has already been started`);
  if (body.Tty === true) e.tty = true;
  if (body.Detach === true) {
    // Detached: the helper returns once the process runs; its code is not followed (docker's exec -d
    // reports none either until inspected, and the helper is gone by then).
    await run(e, undefined);
    e.exitCode = null;
    return sendStatus(ctx, 200);
  }
  const io = hijack(e.tty ? RAW_CONTENT_TYPE : MUX_CONTENT_TYPE);
  try {
    await run(e, io);
  } catch (err) {
    // The stream is under way: what failed goes to the client's stderr, as docker's daemon does.
    streamWriter(io.output, e.tty)(2, `${(err as Error).message}\n`);
  } finally {
    io.output.end();
    io.socket?.end();
  }
}

function resize(ctx: Ctx): void {
  instance(ctx.params.id!);
  sendStatus(ctx, 200); // the helper's pty follows its own terminal only: accepted, not applied
}

export const execRoutes: Route[] = [
  { method: 'POST', pattern: '/containers/{id}/exec', handle: create },
  { method: 'POST', pattern: '/exec/{id}/start', hijack: start },
  { method: 'POST', pattern: '/exec/{id}/resize', handle: resize },
  { method: 'GET', pattern: '/exec/{id}/json', handle: inspect },
];
