/**
 * `tsctr system service` in a test: started on a unix socket or a TCP port of the sandbox's store,
 * waited for until it serves, stopped at the end. A service that exits while being waited for fails
 * the wait with its stderr (a refused flag would otherwise look like a slow start).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Result, Sandbox } from './harness.js';
import { sleep } from './wait.js';

export type Proc = ReturnType<Sandbox['runAsync']>;

/** Where `system service` listens when given no URI. */
export const defaultSocket = (sb: Sandbox): string => path.join(sb.env.XDG_RUNTIME_DIR!, 'tsctr', 'tsctr.sock');

/** Whether something accepts TCP connections on host:port. */
export function listening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect({ host, port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Waits until `proc` serves at `at` (a socket file exists, or a port accepts); throws if it exits first, or after ms. */
export async function waitServing(proc: Proc, at: { socket: string } | { port: number }, ms = 15_000): Promise<void> {
  let exited: string | undefined;
  void proc.then((r) => (exited = `the service exited ${r.code}: ${r.stderr}`));
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
    if (exited) throw new Error(exited);
    if ('socket' in at ? fs.existsSync(at.socket) : await listening(at.port)) return;
  }
  throw new Error(`the service does not serve at ${'socket' in at ? at.socket : `port ${at.port}`}`);
}

export interface Service {
  proc: Proc;
  /** The unix socket, for a unix:// service. */
  socket?: string;
  /** Ends it (SIGTERM) and waits for it: how it exited. */
  stop(): Promise<Result>;
}

/**
 * Starts `tsctr system service --time TIME ARGS... [URL]` (no URL: the default socket) and waits until it
 * serves. `--time 0` by default: it must not go away while the test is slow.
 */
export async function startService(sb: Sandbox, o: { url?: string; time?: string; args?: string[] } = {}): Promise<Service> {
  const proc = sb.runAsync(['system', 'service', '--time', o.time ?? '0', ...(o.args ?? []), ...(o.url ? [o.url] : [])]);
  const url = o.url ?? `unix://${defaultSocket(sb)}`;
  const tcp = /^tcp:\/\/[^:]+:(\d+)$/.exec(url);
  const socket = tcp ? undefined : url.replace(/^unix:\/\//, '');
  await waitServing(proc, socket ? { socket } : { port: Number(tcp![1]) });
  return {
    proc,
    socket,
    stop: () => {
      proc.kill('SIGTERM');
      return proc;
    },
  };
}
