/**
 * A small Docker Engine API client over any of the transports: node's HTTP client on our own
 * streams (an agent that keeps connections open, so a command's requests share one ssh session).
 * An error answer's `{"message"}` becomes the engine's typed error of the same meaning (404 →
 * NotFoundError, 409 → ConflictError), so the user sees one `Error: <message>` as locally.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { ConflictError, NotFoundError, TsctrError } from '../errors.js';
import { openStream } from './transport.js';
import type { RemoteTarget } from './target.js';

/** The API version we speak: the server's (docker 20.10's). */
const PREFIX = '/v1.41';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Statuses that are answers, not errors (304 for a no-op start). */
  accept?: number[];
}

class StreamAgent extends http.Agent {
  constructor(private readonly target: RemoteTarget) {
    super({ keepAlive: true, maxSockets: 8 });
  }

  override createConnection(_o: object, cb: (err: Error | null, s?: Duplex) => void): undefined {
    openStream(this.target).then((s) => cb(null, s), (e: Error) => cb(e));
    return undefined;
  }
}

export function errorOf(status: number, text: string): TsctrError {
  let message = text.trim();
  try {
    const j = JSON.parse(text) as { message?: unknown };
    if (typeof j.message === 'string') message = j.message;
  } catch {
    /* not JSON: the text as it is */
  }
  if (!message) message = `the remote engine answered ${status} ${http.STATUS_CODES[status] ?? ''}`.trim();
  if (status === 404) return new NotFoundError(message);
  if (status === 409) return new ConflictError(message);
  return new TsctrError(message);
}

/** One line: OpenSSL's errors carry its file and line, and a newline; its reason is what says something. */
export function connectionError(e: Error): string {
  const first = e.message.split('\n')[0]!.trim();
  const ssl = /:SSL routines:[^:]*:([^:]+):/.exec(first);
  return ssl ? `TLS: ${ssl[1]}` : first;
}

export async function readText(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export class ApiClient {
  private readonly agent: StreamAgent;

  constructor(readonly target: RemoteTarget) {
    this.agent = new StreamAgent(target);
  }

  /** The response, its body unread; an error status (not in `accept`) is thrown as a typed error. */
  async request(method: string, path: string, o: RequestOptions = {}): Promise<http.IncomingMessage> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) q.set(k, String(v));
    const qs = q.toString();
    const body = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(
        {
          agent: this.agent,
          method,
          host: this.target.kind === 'tcp' ? this.target.host : 'tsctr',
          path: `${PREFIX}${path}${qs ? `?${qs}` : ''}`,
          headers: { 'User-Agent': 'tsctr-remote', ...(body ? { 'Content-Type': 'application/json', 'Content-Length': body.length } : {}) },
        },
        resolve,
      );
      req.on('error', (e) => reject(e instanceof TsctrError ? e : new TsctrError(`cannot connect to ${this.target.url}: ${connectionError(e)}`)));
      req.end(body);
    });
    if (res.statusCode! >= 400 && !o.accept?.includes(res.statusCode!)) throw errorOf(res.statusCode!, await readText(res));
    return res;
  }

  /**
   * A request answered by taking over the connection (attach and exec start with stdin, as docker's
   * CLI does: `Upgrade: tcp`, `101 UPGRADED`): the connection, and the bytes already read past the answer.
   */
  async upgrade(method: string, path: string, o: RequestOptions = {}): Promise<{ socket: Duplex; head: Buffer; raw: boolean }> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) q.set(k, String(v));
    const qs = q.toString();
    const body = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    return new Promise((resolve, reject) => {
      const req = http.request({
        agent: this.agent,
        method,
        host: this.target.kind === 'tcp' ? this.target.host : 'tsctr',
        path: `${PREFIX}${path}${qs ? `?${qs}` : ''}`,
        headers: { 'User-Agent': 'tsctr-remote', Connection: 'Upgrade', Upgrade: 'tcp', ...(body ? { 'Content-Type': 'application/json', 'Content-Length': body.length } : {}) },
      });
      req.on('upgrade', (res, socket, head) => resolve({ socket: socket as Duplex, head, raw: /raw-stream/.test(String(res.headers['content-type'])) }));
      req.on('response', (res) => {
        void readText(res).then((text) => reject(res.statusCode! >= 400 ? errorOf(res.statusCode!, text) : new TsctrError(`the remote engine did not take over the connection for ${path}`)));
      });
      req.on('error', (e) => reject(e instanceof TsctrError ? e : new TsctrError(`cannot connect to ${this.target.url}: ${connectionError(e)}`)));
      req.end(body);
    });
  }

  async json<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, o);
    const text = await readText(res);
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new TsctrError(`the remote engine answered ${method} ${path} with something that is not JSON`);
    }
  }

  /** Lets the process exit: idle kept-alive connections (and ssh children) are closed. */
  close(): void {
    this.agent.destroy();
  }
}
