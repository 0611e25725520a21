/**
 * `POST /containers/{id}/attach`, hijacked. Two cases:
 *
 * - The container is not running (docker's `run`: create, attach, wait?condition=next-exit, start):
 *   the attachment waits here, and the `start` that follows through this server (`startAttached`)
 *   starts the container attached, with the monitor's stdin, stdout and stderr as pipes this
 *   connection is plugged into — the monitor is the server's child for this run, as it is the CLI's
 *   for `tsctr run -i`. stdin works (with `OpenStdin`), the exit code is the monitor's.
 * - It runs already (`docker attach`): its output is followed from its log, and stdin goes through
 *   its monitor's socket (as `tsctr attach`), with docker's detach keys when it has a tty; `resize`
 *   sets its tty's size through the same socket (containers.ts).
 *
 * A client that goes away leaves nothing: a waiting attachment is dropped; a running container
 * keeps running and its pipes are drained (its log has everything).
 */
import type { ChildProcess } from 'node:child_process';
import type { Route } from './router.js';
import type { Ctx, Hijacked } from './http.js';
import { boolParam, intParam } from './http.js';
import { ApiError, badRequest } from './errors.js';
import { MUX_CONTENT_TYPE, RAW_CONTENT_TYPE, streamWriter } from './mux.js';

interface Pending {
  io: Hijacked;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** Ends the attach request (the connection is closed). */
  finish(): void;
}

/** Attachments waiting for their container's start, by container id. */
const pending = new Map<string, Pending>();

interface Target {
  id: string;
  running: boolean;
  tty: boolean;
  openStdin: boolean;
}

async function attachTarget(query: string): Promise<Target> {
  const { inspectContainer } = await import('../engine/containers.js');
  const c = (await inspectContainer(query)) as { Id: string; State: { Running: boolean }; Config: { Tty: boolean; OpenStdin: boolean } };
  return { id: c.Id, running: c.State.Running, tty: c.Config.Tty, openStdin: c.Config.OpenStdin };
}

/** Closes our side of a hijacked connection once everything written is flushed. */
function close(io: Hijacked): void {
  io.output.end();
  io.socket?.end();
}

async function attach(ctx: Ctx, hijack: (contentType?: string) => Hijacked): Promise<void> {
  const t = await attachTarget(ctx.params.id!);
  const q = ctx.query;
  const stdin = boolParam(q, 'stdin');
  const stdout = boolParam(q, 'stdout');
  const stderr = boolParam(q, 'stderr');
  const logs = boolParam(q, 'logs');
  const stream = boolParam(q, 'stream');
  const detachKeys = q.get('detachKeys') ?? '';
  const engineAttach = await import('../engine/attach.js');
  if (detachKeys) await engineAttach.checkDetachKeys(detachKeys).catch((e: Error) => Promise.reject(new ApiError(400, e.message)));
  const io = hijack(t.tty ? RAW_CONTENT_TYPE : MUX_CONTENT_TYPE);
  const gone = new Promise<void>((resolve) => {
    (io.socket ?? io.output).once('close', () => resolve());
  });
  const write = streamWriter(io.output, t.tty);
  const { containerLogs } = await import('../engine/containers.js');
  const pass = (batch: { stream: string; text: string }[]) => {
    for (const r of batch) if (r.stream === 'stdout' ? stdout : stderr) write(r.stream === 'stdout' ? 1 : 2, r.text);
  };

  if (logs && !(stream && t.running)) for await (const batch of containerLogs(t.id, { tail: -1, follow: false })) pass(batch);
  if (!stream) return close(io);

  if (!t.running) {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const p: Pending = { io, stdin: stdin && t.openStdin, stdout, stderr, tty: t.tty, finish };
    pending.set(t.id, p);
    await Promise.race([finished, gone]);
    if (pending.get(t.id) === p) pending.delete(t.id);
    return;
  }

  // Running: stdin through its monitor's socket when the monitor keeps the container's stdin; the
  // output from its log (what is there first with logs=1, one read so nothing falls between), until
  // it stops, the client goes or types the detach keys.
  let link: Awaited<ReturnType<typeof engineAttach.linkContainerStdin>>;
  if (stdin && t.openStdin) {
    try {
      link = await engineAttach.linkContainerStdin(t.id, io.input, { detachKeys });
    } catch (e) {
      write(2, `${(e as Error).message}\n`); // another client has its stdin: output only
    }
  }
  let open = true;
  void gone.then(() => (open = false));
  void link?.detached.then(() => (open = false));
  const follow = containerLogs(t.id, { tail: logs ? -1 : 0, follow: true });
  try {
    for await (const batch of follow) {
      pass(batch);
      if (!open) break;
    }
  } finally {
    await follow.return(undefined);
    link?.close();
    close(io);
  }
}

/**
 * The start of a container with an attachment waiting: started attached, through this server, with
 * the attachment plugged into the monitor's pipes. Resolves once it runs (false if nothing waits);
 * a failed start throws with the monitor's message, as docker's start answers 500 for it.
 */
export async function startAttached(id: string): Promise<boolean> {
  const p = pending.get(id);
  if (!p) return false;
  pending.delete(id);
  const { cleanupContainer, startContainer } = await import('../engine/containers.js');
  const write = streamWriter(p.io.output, p.tty);
  let started = false;
  let early: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const spawned = (child: ChildProcess) => {
      child.stdin!.on('error', () => undefined); // the container may close its stdin first
      if (p.stdin) p.io.input.pipe(child.stdin!);
      else child.stdin!.end();
      // Always read both: a monitor whose pipe is full would block the container.
      child.stdout!.on('data', (d: Buffer) => p.stdout && write(1, d));
      child.stderr!.on('data', (d: Buffer) => {
        if (!started) early.push(d); // the monitor's own error, if the start fails
        else if (p.stderr) write(2, d);
      });
    };
    startContainer(id, {
      attach: true,
      interactive: p.stdin,
      pipes: {
        spawned,
        started: () => {
          started = true;
          if (p.stderr) for (const d of early) write(2, d);
          early = [];
          resolve();
        },
      },
    }).then(
      async () => {
        // The monitor leaves --rm to the process that holds it attached (us), as to the CLI.
        await cleanupContainer(id).catch(() => undefined);
        close(p.io);
        p.finish();
      },
      async (e: unknown) => {
        // docker removes a --rm container whose start failed too (its CLI waits for that).
        await cleanupContainer(id).catch(() => undefined);
        close(p.io);
        p.finish();
        if (started) return;
        const said = Buffer.concat(early).toString().trim().replace(/^Error: /, '');
        reject(said ? new ApiError(500, said) : e);
      },
    );
  });
  return true;
}

/**
 * `resize`'s `h` and `w` (docker's: both integers, else 400); undefined when one is 0, which no pty
 * takes (a client without a terminal sends that).
 */
export function ttySize(q: URLSearchParams): { rows: number; cols: number } | undefined {
  const rows = intParam(q, 'h') ?? 0;
  const cols = intParam(q, 'w') ?? 0;
  if (rows < 0 || cols < 0 || rows > 65535 || cols > 65535) throw badRequest(`invalid tty size ${rows}x${cols}`);
  return rows && cols ? { rows, cols } : undefined;
}

export const attachRoutes: Route[] = [{ method: 'POST', pattern: '/containers/{id}/attach', hijack: attach }];
