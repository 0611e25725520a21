/**
 * `tsctr system service`: from its parsed options to a serving socket. A unix socket (or one systemd
 * hands over) is held by the small C listener, which starts this same command as the Node worker
 * (listener.ts); tcp:// is checked against its TLS policy (listen.ts) and served by one process.
 */
import { TsctrError } from '../errors.js';
import { log } from '../util/log.js';
import type { TcpFlags } from './listen.js';

export interface ServiceOptions {
  /** --time: seconds of idleness before the service exits (0: never), as typed. */
  time: string;
  /** --worker-idle, as typed. */
  workerIdle: string;
  uri?: string;
  tls: TcpFlags;
}

export async function runService(o: ServiceOptions): Promise<void> {
  if (!/^\d+$/.test(o.time)) throw new TsctrError(`invalid --time "${o.time}": a number of seconds`);
  if (!/^\d+$/.test(o.workerIdle)) throw new TsctrError(`invalid --worker-idle "${o.workerIdle}": a number of seconds`);
  const idleMs = Number(o.time) * 1000;
  const activated = process.env.LISTEN_FDS === '1' && (!process.env.LISTEN_PID || process.env.LISTEN_PID === String(process.pid));
  // Consumed (as sd_listen_fds(1) does): the monitors and helpers this process starts are not meant.
  for (const k of ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES']) delete process.env[k];
  const { WORKER_ENV, bindServiceSocket, canExecListener, execListener } = await import('./listener.js');
  const worker = process.env[WORKER_ENV];
  delete process.env[WORKER_ENV]; // not for the programs this one starts
  let socketPath: string | undefined;
  const flags = o.tls;
  const anyTlsFlag = Object.values(flags).some((v) => v);
  const tcp = !activated && o.uri?.startsWith('tcp://') ? (await import('./listen.js')).tcpListen(o.uri, flags) : undefined;
  // An inherited socket may be TCP (a systemd .socket with ListenStream=PORT): the flags apply to it.
  const inherited = activated && anyTlsFlag ? (await import('./listen.js')).tlsPolicy(flags, 'the inherited socket') : undefined;
  if (!activated && !tcp && anyTlsFlag) throw new TsctrError('--tls, --tlsverify, --tlscacert, --tlscert, --tlskey and --insecure-tcp apply to a tcp:// URI only');
  if (!activated && !tcp) {
    if (o.uri === undefined) socketPath = (await import('../system/service-socket.js')).defaultServiceSocket();
    else if (o.uri.startsWith('unix://')) socketPath = o.uri.slice('unix://'.length);
    else if (o.uri.startsWith('/')) socketPath = o.uri;
    else throw new TsctrError(`unsupported URI "${o.uri}": use unix:///path/to/socket or tcp://HOST:PORT`);
    if (!socketPath.startsWith('/')) throw new TsctrError(`invalid URI "${o.uri}": the socket path must be absolute`);
  }
  // The worker's idle time never outlasts the service's own (--time 1 means a second, not ten).
  const workerIdle = Math.min(Number(o.workerIdle), idleMs > 0 ? Number(o.time) : Infinity);
  if (worker === undefined) for (const w of (tcp ?? inherited)?.warnings ?? []) log.warn(w);
  // tcp:// is served by one process: its socket is Node's (not inheritable across an exec).
  if (worker === undefined && workerIdle > 0 && !tcp && canExecListener()) {
    const fd = activated ? 3 : await bindServiceSocket(socketPath!);
    try {
      execListener({ fd, idleSeconds: Number(o.time), workerIdleSeconds: workerIdle, unlinkPath: socketPath });
    } catch (e) {
      if (socketPath) (await import('node:fs')).rmSync(socketPath, { force: true });
      throw e;
    }
  }
  const { serve } = await import('./server.js');
  const service = await serve(activated ? { fd: 3, tls: inherited?.tls, idleMs: worker !== undefined ? Number(worker) * 1000 : idleMs } : tcp ? { tcp: tcp.address, tls: tcp.tls, idleMs } : { socketPath, idleMs });
  // `tsctr info` lists it while it serves.
  const forget = tcp ? (await import('../system/service-tcp.js')).recordTcpService(tcp.describe) : undefined;
  // Streams in flight (logs -f, attach, a wait) would hold a plain close() open: a signal cuts them.
  const stop = () => service.close(true);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await service.done;
  forget?.();
}
