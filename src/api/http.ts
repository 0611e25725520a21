/**
 * What a handler gets: the request, its path parameters and query, and helpers to answer in the
 * Engine API's shapes. Reading a body is capped; a query boolean is docker's (`1`, `true`, `True`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Readable, Writable } from 'node:stream';
import { ApiError, badRequest } from './errors.js';

/** A JSON body larger than this is refused (413): create bodies are a few KiB. */
export const JSON_BODY_LIMIT = 4 * 1024 * 1024;

export interface Ctx {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  /** The path without its `/vX.Y` prefix. */
  readonly path: string;
  /** The API version the client asked for (`1.41`), or the server's when the path had none. */
  readonly version: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
}

/** The two ends of a hijacked connection (attach, exec start): raw bytes, no HTTP framing. */
export interface Hijacked {
  /** What the client sends (stdin), after the request head. */
  readonly input: Readable;
  /** What goes to the client (stdout/stderr, multiplexed or raw). */
  readonly output: Writable;
  /** The socket itself, when the connection was upgraded (for half-close and destroy). */
  readonly socket?: Duplex;
}

export function sendJson(ctx: Ctx, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  ctx.res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  ctx.res.end(ctx.method === 'HEAD' ? undefined : text);
}

/** A status without a body (204 and 304 may not even say Content-Length). */
export function sendStatus(ctx: Ctx, status: number): void {
  ctx.res.writeHead(status, status === 204 || status === 304 ? {} : { 'Content-Length': 0 });
  ctx.res.end();
}

export function sendText(ctx: Ctx, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  ctx.res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  ctx.res.end(ctx.method === 'HEAD' ? undefined : text);
}

/** The request body, at most `limit` bytes (413 beyond). */
export async function readBody(ctx: Ctx, limit = JSON_BODY_LIMIT): Promise<Buffer> {
  // An upgrade request's body, taken off its socket by the server (Node parses none there).
  const upgraded = (ctx.req as { upgradeBody?: Buffer }).upgradeBody;
  if (upgraded) return upgraded;
  const declared = Number(ctx.req.headers['content-length'] ?? 0);
  if (declared > limit) throw new ApiError(413, `request body too large (${declared} bytes, at most ${limit})`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ApiError(413, `request body too large (more than ${limit} bytes)`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The body as JSON; an empty body is `undefined` (docker's clients send none for many POSTs). */
export async function readJson(ctx: Ctx, limit = JSON_BODY_LIMIT): Promise<unknown> {
  const buf = await readBody(ctx, limit);
  const text = buf.toString('utf8').trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`invalid JSON in the request body: ${(e as Error).message}`);
  }
}

/** The body as a JSON object (an empty body is `{}`). */
export async function readJsonObject(ctx: Ctx, limit = JSON_BODY_LIMIT): Promise<Record<string, unknown>> {
  const v = await readJson(ctx, limit);
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest('the request body must be a JSON object');
  return v as Record<string, unknown>;
}

/** A boolean query parameter as docker reads it: `1`, `true`, `True` (any case) are true. */
export function boolParam(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  const l = v.toLowerCase();
  if (l === '1' || l === 'true' || l === 'yes') return true;
  if (l === '0' || l === 'false' || l === 'no') return false;
  throw badRequest(`invalid boolean value for ${name}: ${JSON.stringify(v)}`);
}

/** An integer query parameter; absent or empty is `undefined`. */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`invalid integer value for ${name}: ${JSON.stringify(v)}`);
  return Number(v);
}

/**
 * `filters` as docker sends it: JSON `{"label": {"a=b": true}}` (or the older `{"label": ["a=b"]}`),
 * as a map of key → values.
 */
export function filtersParam(q: URLSearchParams): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const raw = q.get('filters');
  if (!raw) return out;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw badRequest(`invalid filters: ${JSON.stringify(raw)}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest('invalid filters: not a JSON object');
  for (const [k, vals] of Object.entries(v as Record<string, unknown>)) {
    if (Array.isArray(vals)) out.set(k, vals.map(String));
    else if (vals && typeof vals === 'object') out.set(k, Object.entries(vals).filter(([, on]) => on).map(([x]) => x));
    else throw badRequest(`invalid filters: values of ${k} must be a list or a map`);
  }
  return out;
}

/** API 1.42's ConsoleSize, `[height, width]` of the client's terminal; [0, 0] or absent: none. */
export function consoleSize(v: unknown): { rows: number; cols: number } | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((n) => Number.isInteger(n) && n >= 0 && n <= 65535)) throw badRequest('invalid ConsoleSize: expected [height, width]');
  return v[0] && v[1] ? { rows: v[0] as number, cols: v[1] as number } : undefined;
}
