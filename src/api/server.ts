/**
 * The Docker Engine API server of `tsctr system service`: one Node process on a unix socket,
 * driving the same store as the CLI through the engine. It owns no state: every container it
 * starts has its own monitor, so the server may exit (idle timeout) and they keep running.
 */
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { TsctrError } from '../errors.js';
import { log } from '../util/log.js';
import { apiErrorOf } from './errors.js';
import type { Ctx, Hijacked } from './http.js';
import { compile, match, splitVersion, type Route } from './router.js';
import type { TcpAddress, TlsMaterial } from './listen.js';
import { ROUTES } from './routes.js';

export interface ServeOptions {
  /** A unix socket path to listen on; ignored when `fd` is given. */
  socketPath?: string;
  /** An inherited listening socket (systemd socket activation: fd 3). */
  fd?: number;
  /** A TCP address to listen on instead of a unix socket (listen.ts: tcpListen checks the flags). */
  tcp?: TcpAddress;
  /** Serve HTTPS with these (a TCP listener, or an inherited TCP socket); `ca` = verify clients. */
  tls?: TlsMaterial;
  /** Exit after this many ms without a request in flight; 0 = never. */
  idleMs: number;
  /** Extra routes (tests); looked up before the built-in ones. */
  routes?: readonly Route[];
}

export interface Service {
  readonly server: http.Server;
  /** Resolves when the server has stopped (idle timeout or close()). */
  readonly done: Promise<void>;
  /** Stops listening; requests in flight finish first, unless `force` (SIGTERM): then every connection is cut. */
  close(force?: boolean): void;
}

/** Routes a request; every failure becomes `{"message": …}` with its status, never a crash. */
function dispatcher(table: ReturnType<typeof compile>) {
  return async (req: IncomingMessage, res: ServerResponse, upgrade?: { socket: Duplex; head: Buffer }): Promise<void> => {
    const method = req.method ?? 'GET';
    let ctx: Ctx | undefined;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const { version, path: p } = splitVersion(url.pathname);
      const { route, params } = match(table, method, p.length > 1 ? p.replace(/\/+$/, '') : p);
      ctx = { req, res, method, path: p, version, params, query: url.searchParams };
      log.debug(`api: ${method} ${req.url}`);
      if (route.hijack) {
        let taken = false;
        const hijack = (contentType = 'application/vnd.docker.raw-stream'): Hijacked => {
          if (taken) throw new Error('hijack() called twice');
          taken = true;
          if (upgrade) {
            res.detachSocket(upgrade.socket as Socket);
            upgrade.socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
            if (upgrade.head.length) upgrade.socket.unshift(upgrade.head);
            return { input: upgrade.socket, output: upgrade.socket, socket: upgrade.socket };
          }
          res.writeHead(200, { 'Content-Type': contentType });
          res.flushHeaders();
          return { input: req, output: res };
        };
        await route.hijack(ctx, hijack);
      } else await route.handle!(ctx);
    } catch (e) {
      const { status, message } = apiErrorOf(e);
      if (status >= 500) log.debug(`api: ${method} ${req.url}: ${(e as Error)?.stack ?? message}`);
      if (!res.headersSent && !res.writableEnded) {
        const body = JSON.stringify({ message });
        res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.end(method === 'HEAD' ? undefined : body);
      } else if (!res.writableEnded) {
        // A stream already under way (pull progress, logs): docker's clients read an error line.
        try {
          res.end(`${JSON.stringify({ errorDetail: { message }, error: message })}\n`);
        } catch {
          res.destroy();
        }
      }
    }
  };
}

/**
 * An upgrade request's body (exec start sends `{"Detach":false,"Tty":false}`): Node leaves it in the
 * socket, after the head. Its Content-Length bytes are taken off as the request's body (http.ts's
 * readBody returns them), so handlers read it as any body and only what follows is the stream.
 */
type UpgradeRequest = IncomingMessage & { upgradeBody?: Buffer };

async function upgradeBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<Buffer> {
  const want = Number(req.headers['content-length'] ?? 0);
  if (!Number.isInteger(want) || want <= 0 || want > 1 << 20) return head;
  let got = head;
  while (got.length < want) {
    const chunk = await new Promise<Buffer>((resolve, reject) => {
      const onData = (d: Buffer) => {
        socket.off('close', onClose);
        socket.pause();
        resolve(d);
      };
      const onClose = () => {
        socket.off('data', onData);
        reject(new Error('closed'));
      };
      socket.once('data', onData);
      socket.once('close', onClose);
      socket.resume();
    });
    got = Buffer.concat([got, chunk]);
  }
  (req as UpgradeRequest).upgradeBody = got.subarray(0, want);
  return got.subarray(want);
}

/** Refuses to take over a live socket; removes a stale one. */
export async function claimSocketPath(p: string): Promise<void> {
  const dir = path.dirname(p);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  if (!st) return;
  if (!st.isSocket()) throw new TsctrError(`${p} exists and is not a socket: refusing to replace it`);
  const live = await new Promise<boolean>((resolve) => {
    const c = net.connect(p);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (live) throw new TsctrError(`another service is already listening on ${p}`);
  fs.unlinkSync(p);
}

export async function serve(o: ServeOptions): Promise<Service> {
  const table = compile([...(o.routes ?? []), ...ROUTES]);
  const dispatch = dispatcher(table);
  // The TLS machinery is loaded for TCP only: the unix socket's start-up does not pay for it.
  const tcp = o.tcp || o.tls ? await import('./listen.js') : undefined;
  const server = tcp ? tcp.createTcpServer(o.tls, { keepAlive: true }) : http.createServer({ keepAlive: true });
  server.keepAliveTimeout = 60_000;
  // Big uploads (docker cp, build contexts) and slow streams (logs -f) must not be cut by Node's defaults.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;

  // The idle timer counts requests in flight, hijacked connections included.
  let active = 0;
  let timer: NodeJS.Timeout | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  // Upgraded connections are no longer the HTTP server's: cut by hand on a forced close.
  const upgraded = new Set<Duplex>();
  let closing = false;
  const close = (force = false) => {
    if (timer) clearTimeout(timer);
    if (!closing) server.close(() => resolveDone());
    closing = true;
    // Keep-alive connections hold no request: they would keep close() waiting.
    server.closeIdleConnections();
    if (force) {
      server.closeAllConnections();
      for (const s of upgraded) s.destroy();
    }
  };
  const arm = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    // Once closing, a stream that ends must not start a new count: the timer would hold the process.
    if (o.idleMs > 0 && active === 0 && !closing) timer = setTimeout(() => close(), o.idleMs);
  };
  const track = (closes: NodeJS.EventEmitter) => {
    active++;
    if (timer) clearTimeout(timer);
    timer = undefined;
    let settled = false;
    const end = () => {
      if (settled) return;
      settled = true;
      active--;
      arm();
    };
    closes.once('close', end);
  };

  // A new connection restarts the count too: an idle exit must not cut one that has not sent its request yet.
  server.on('connection', arm);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    track(res);
    void dispatch(req, res);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    track(socket);
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    socket.on('error', () => socket.destroy());
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    void upgradeBody(req, socket, head).then(
      (rest) => dispatch(req, res, { socket, head: rest }),
      () => socket.destroy(),
    );
  });
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    // Malformed HTTP: docker would answer 400; the socket may already be gone.
    if (socket.writable && err.code !== 'ECONNRESET') socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"message":"bad request"}');
    else socket.destroy();
  });

  if (o.tcp) {
    await tcp!.listenTcp(server, o.tcp);
  } else if (o.fd !== undefined) {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen({ fd: o.fd }, resolve));
  } else {
    const p = o.socketPath!;
    await claimSocketPath(p);
    const old = process.umask(0o177); // the socket is 0600 from its first moment
    try {
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(p, resolve));
    } finally {
      process.umask(old);
    }
    fs.chmodSync(p, 0o600);
    server.once('close', () => fs.rmSync(p, { force: true }));
  }
  arm();
  return { server, done, close };
}
