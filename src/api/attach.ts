/**
 * `POST /containers/{id}/attach`, hijacked. Two cases, because the monitor has no channel for a
 * second stdin writer:
 *
 * - The container is not running (docker's `run`: create, attach, wait?condition=next-exit, start):
 *   the attachment waits here, and the `start` that follows through this server (`startAttached`)
 *   starts the container attached, with the monitor's stdin, stdout and stderr as pipes this
 *   connection is plugged into — the monitor is the server's child for this run, as it is the CLI's
 *   for `tsctr run -i`. stdin works (with `OpenStdin`), the exit code is the monitor's.
 * - It runs already (`docker attach`): its output is followed from its log (as `tsctr attach`);
 *   stdin is not attached (said in the README).
 *
 * A client that goes away leaves nothing: a waiting attachment is dropped; a running container
 * keeps running and its pipes are drained (its log has everything).
 */
import type { ChildProcess } from 'node:child_process';
import type { Route } from './router.js';
import type { Ctx, Hijacked } from './http.js';
import { boolParam } from './http.js';
import { ApiError } from './errors.js';
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
  const io = hijack(t.tty ? RAW_CONTENT_TYPE : MUX_CONTENT_TYPE);
  const gone = new Promise<void>((resolve) => {
    (io.socket ?? io.output).once('close', () => resolve());
  });
  const write = streamWriter(io.output, t.tty);

  if (logs) {
    const { containerLogs } = await import('../engine/containers.js');
    for await (const batch of containerLogs(t.id, { tail: -1, follow: false }))
      for (const r of batch) if (r.stream === 'stdout' ? stdout : stderr) write(r.stream === 'stdout' ? 1 : 2, r.text);
  }
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

  // Running: its output from now on, from its log, until it stops or the client goes.
  const { containerLogs } = await import('../engine/containers.js');
  const follow = containerLogs(t.id, { tail: 0, follow: true });
  let open = true;
  void gone.then(() => (open = false));
  try {
    for await (const batch of follow) {
      if (!open) break;
      for (const r of batch) if (r.stream === 'stdout' ? stdout : stderr) write(r.stream === 'stdout' ? 1 : 2, r.text);
    }
  } finally {
    await follow.return(undefined);
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

export const attachRoutes: Route[] = [{ method: 'POST', pattern: '/containers/{id}/attach', hijack: attach }];
