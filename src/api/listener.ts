/**
 * `system service` as a small resident listener and an on-demand Node worker (issue 19: an idle
 * server must cost less memory than podman's). This process binds the socket, then execs
 * `tsctr-shim api-listen` (same pid: systemd units, `kill $!` and pid files keep working), which
 * holds the socket for a few hundred kB and starts this program again as a worker when a client
 * connects, handing the socket over as systemd's socket activation does (fd 3, LISTEN_FDS=1,
 * LISTEN_PID). The worker serves until it has been idle for `workerIdleSeconds`, then exits; the
 * next connection waits in the socket's backlog until the next worker accepts it. See
 * src/shim/README.md, "API listener".
 */
import fs from 'node:fs';
import util from 'node:util';
import { TsctrError } from '../errors.js';
import { clearCloexec, listenUnixInheritable, SyscallError } from '../rootless/syscalls.js';
import { selfExecutable } from '../rootless/userns.js';
import { shimPath } from '../runtime/shim-path.js';
import { claimSocketPath } from './server.js';

/** Set by the listener's parent for the worker (and removed by the worker at once): its idle seconds. */
export const WORKER_ENV = 'TSCTR_API_WORKER_IDLE';

/** Whether this Node can replace itself by the listener (process.execve: Node >= 22.15). */
export function canExecListener(): boolean {
  return typeof process.execve === 'function';
}

/**
 * The socket at path, 0600 in a 0700 directory from its first moment, as an inheritable descriptor
 * (a stale socket is replaced, a live one refused).
 */
export async function bindServiceSocket(socketPath: string): Promise<number> {
  await claimSocketPath(socketPath);
  const old = process.umask(0o177);
  try {
    return listenUnixInheritable(socketPath);
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    throw new TsctrError(`cannot listen on ${socketPath}: ${e.call}: ${util.getSystemErrorName(-e.errno)}`);
  } finally {
    process.umask(old);
    if (fs.existsSync(socketPath)) fs.chmodSync(socketPath, 0o600);
  }
}

export interface ListenerOptions {
  /** The listening socket (any stream socket: unix, or TCP). */
  fd: number;
  /** The service's idle timeout: seconds without a worker before the listener exits; 0 = never. */
  idleSeconds: number;
  /** A worker exits after this many seconds without a request or an open stream. */
  workerIdleSeconds: number;
  /** The socket path this process created: the listener removes it when it exits. */
  unlinkPath?: string;
}

/**
 * Replaces this process by the listener. The worker runs this same program with the same
 * arguments (so whatever they say about the socket, TLS included, holds for it), told by
 * WORKER_ENV that it is one.
 */
export function execListener(o: ListenerOptions): never {
  clearCloexec(o.fd);
  const shim = shimPath();
  const env: NodeJS.ProcessEnv = { ...process.env, [WORKER_ENV]: String(o.workerIdleSeconds) };
  const args = [shim, 'api-listen', '--fd', String(o.fd), '--time', String(o.idleSeconds), '--worker-idle', String(o.workerIdleSeconds)];
  if (o.unlinkPath) args.push('--unlink', o.unlinkPath);
  args.push('--', ...selfExecutable(), ...process.argv.slice(2));
  try {
    return process.execve!(shim, args, env);
  } catch (e) {
    throw new TsctrError(`cannot start the API listener ${shim}: ${(e as Error).message}`);
  }
}
