/**
 * `POST /exec/{id}/start` runs an instance `POST /containers/{id}/exec` made (exec-store.ts):
 * hijacked, its stdin/stdout/stderr plugged into the exec helper's pipes (framed without a tty, raw
 * with one), or detached; `GET /exec/{id}/json` (containers.ts) has its exit code once it ended.
 */
import type { ChildProcess } from 'node:child_process';
import type { Route } from './router.js';
import type { Ctx, Hijacked } from './http.js';
import { consoleSize, readJsonObject, sendStatus } from './http.js';
import { ApiError, notFound } from './errors.js';
import { getExec, type ExecInstance } from './exec-store.js';
import { MUX_CONTENT_TYPE, RAW_CONTENT_TYPE, streamWriter } from './mux.js';
import { ttySize } from './attach.js';

/** How long a tty exec without a size waits for the client's first resize before it starts. */
const FIRST_RESIZE_MS = 200;

/** Instances started once: docker refuses a second start. */
const started = new WeakSet<ExecInstance>();

function instance(id: string): ExecInstance {
  const e = getExec(id);
  if (!e) throw notFound(`No such exec instance: ${id}`);
  return e;
}

/** Runs the instance; `io` absent: detached. Resolves with its exit code once it ended. */
async function run(e: ExecInstance, io: Hijacked | undefined): Promise<number> {
  const { execInContainer } = await import('../engine/containers.js');
  started.add(e);
  e.running = true;
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
      command: e.command,
      interactive: e.attachStdin && !!io,
      tty: e.tty,
      detach: !io,
      env: e.env,
      envFile: [],
      user: e.user,
      workdir: e.workdir,
      stdio: io ? [e.attachStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] : undefined,
      spawned,
      ...(e.size ? { winsize: e.size } : {}),
      resizer: (resize) => {
        e.resize = resize;
        if (e.size) resize(e.size.rows, e.size.cols); // a resize that came before it ran
      },
    });
    await Promise.all(drained);
    if (io) e.exitCode = code;
    return code;
  } catch (err) {
    e.exitCode = 126;
    throw err;
  } finally {
    e.running = false;
    delete e.resize;
  }
}

async function start(ctx: Ctx, hijack: (contentType?: string) => Hijacked): Promise<void> {
  const e = instance(ctx.params.id!);
  const body = await readJsonObject(ctx, 64 * 1024).catch(() => ({}) as Record<string, unknown>);
  if (started.has(e)) throw new ApiError(409, `Exec ${e.id} has already been started`);
  // API 1.42+ may send the terminal's size here too; it wins over create's.
  const size = consoleSize(body.ConsoleSize);
  if (size && e.tty) e.size = size;
  if (body.Detach === true) {
    // Detached: the helper returns once the process runs; its code is not followed (docker's exec -d
    // reports none either until inspected, and the helper is gone by then).
    await run(e, undefined);
    e.exitCode = null;
    return sendStatus(ctx, 200);
  }
  const io = hijack(e.tty ? RAW_CONTENT_TYPE : MUX_CONTENT_TYPE);
  if (e.tty && !e.size) {
    // Clients of API < 1.42 send no ConsoleSize: the docker CLI resizes right after this answer,
    // and a command that looks at its size at once (`stty size`) would see 24x80. Wait for that
    // first resize a moment (it comes within milliseconds; a client without a terminal sends none).
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, FIRST_RESIZE_MS);
      e.sized = () => {
        clearTimeout(t);
        resolve();
      };
    });
    delete e.sized;
  }
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

/** A tty instance's pty takes the size (the exec helper holds it; attach.c's frames on a pipe). */
function resize(ctx: Ctx): void {
  const e = instance(ctx.params.id!);
  const size = ttySize(ctx.query);
  if (size && e.tty) {
    e.size = size;
    e.resize?.(size.rows, size.cols);
    e.sized?.();
  }
  sendStatus(ctx, 200);
}

export const execRoutes: Route[] = [
  { method: 'POST', pattern: '/exec/{id}/start', hijack: start },
  { method: 'POST', pattern: '/exec/{id}/resize', handle: resize },
];
