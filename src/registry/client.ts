/**
 * A client for one repository on one registry endpoint (distribution spec v2): anonymous, Basic and
 * Bearer-token auth (the WWW-Authenticate challenge flow), HTTPS with a plain-HTTP fallback for
 * registries marked insecure, redirects followed for reads (blob storage is often a CDN). Uploads
 * (./upload.ts) go through `request`, which also takes the absolute URLs of upload sessions.
 */
import type { Readable } from 'node:stream';
import { Agent, interceptors, request, type Dispatcher } from 'undici';
import { NetworkError, RegistryError } from '../errors.js';
import { parseWwwAuthenticate, type Challenge } from './www-authenticate.js';
import type { Credentials } from './credentials.js';
import { log } from '../util/log.js';
import { sha256 } from '../util/digest.js';

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(', ');

let dispatcher: Dispatcher | undefined;
function agent(): Dispatcher {
  dispatcher ??= new Agent({ connect: { timeout: 15_000 }, headersTimeout: 60_000, bodyTimeout: 120_000 }).compose(
    interceptors.redirect({ maxRedirections: 5 }),
  );
  return dispatcher;
}

/**
 * Writes are never redirected: a redirect of a streamed body cannot be replayed, and a registry
 * that moves an upload says so with a Location header instead.
 */
let writeDispatcher: Dispatcher | undefined;
function writeAgent(): Dispatcher {
  writeDispatcher ??= new Agent({ connect: { timeout: 15_000 }, headersTimeout: 120_000, bodyTimeout: 120_000 });
  return writeDispatcher;
}

interface CachedToken {
  header: string;
  expires: number;
}
/** Tokens are shared by every client in this process for their lifetime (keyed by realm, service, scope). */
const tokenCache = new Map<string, CachedToken>();
/** Which scheme each host answered on, so the HTTPS probe of an insecure registry happens once. */
const schemeCache = new Map<string, 'https' | 'http'>();

export interface ClientOptions {
  registry: string; // host[:port]
  repository: string;
  insecure: boolean;
  credentials?: Credentials;
  /** 'pull' or 'pull,push' */
  actions?: string;
  /** More token scopes, e.g. `repository:other/repo:pull` for a cross-repository mount from it. */
  scopes?: string[];
}

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  headers?: Record<string, string>;
  /**
   * A buffer, or a function opening a stream, called for each attempt so that the body can be
   * sent again after a 401 challenge. A streamed body is never retried after a connection error
   * (the registry may have taken part of it): the caller restarts the upload instead.
   */
  body?: Buffer | (() => Readable);
}

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  body: Buffer;
}

type Response = Dispatcher.ResponseData;

export class RegistryClient {
  private authHeader: string | undefined;

  constructor(readonly opts: ClientOptions) {}

  get name(): string {
    return `${this.opts.registry}/${this.opts.repository}`;
  }

  async getManifest(reference: string): Promise<FetchedManifest | undefined> {
    const res = await this.request('GET', `/v2/${this.opts.repository}/manifests/${reference}`, { headers: { accept: MANIFEST_ACCEPT } });
    if (res.statusCode === 404) {
      await res.body.dump();
      return undefined;
    }
    await this.expectOk(res, `reading manifest ${reference} in ${this.name}`);
    const body = Buffer.from(await res.body.arrayBuffer());
    const mediaType = headerValue(res, 'content-type')?.split(';')[0]?.trim() || sniffMediaType(body);
    return { mediaType, digest: sha256(body), body };
  }

  /** The blob's body as a stream; the caller verifies the digest while consuming it. */
  async getBlob(digest: string): Promise<Response['body']> {
    const res = await this.request('GET', `/v2/${this.opts.repository}/blobs/${digest}`);
    await this.expectOk(res, `fetching blob ${digest} from ${this.name}`);
    return res.body;
  }

  /** GET /v2/ with credentials: how `login` proves they work. */
  async ping(): Promise<void> {
    const res = await this.request('GET', '/v2/');
    await res.body.dump();
    if (res.statusCode === 401) throw new RegistryError(`unable to log in to ${this.opts.registry}: invalid username/password`);
    if (res.statusCode >= 400) throw new RegistryError(`${this.opts.registry} answered ${res.statusCode} to /v2/`);
  }

  /** Throws the registry's own error (its JSON `errors`, when it sent them) unless the status is 2xx. */
  async expectOk(res: Response, what: string): Promise<void> {
    if (res.statusCode >= 200 && res.statusCode < 300) return;
    const text = await readText(res.body);
    let detail = '';
    try {
      const errs = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors ?? [];
      detail = errs.map((e) => `${(e.code ?? '').toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}`).join('; ');
    } catch {
      detail = text.slice(0, 200).trim();
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new RegistryError(`${what}: access denied (${res.statusCode})${detail ? `: ${detail}` : ''}; try 'tsctr login ${this.opts.registry}'`);
    }
    throw new RegistryError(`${what}: ${res.statusCode}${detail ? ` ${detail}` : ''}`);
  }

  /**
   * One request, authenticated: a 401 is answered (token or Basic credentials) and the request sent
   * once more. `target` is a path on the registry or an absolute URL (an upload's Location).
   */
  async request(method: Method, target: string, opts: RequestOptions = {}): Promise<Response> {
    const sentWith = this.authHeader;
    let res = await this.raw(method, target, opts);
    if (res.statusCode !== 401) return res;
    const challenges = parseWwwAuthenticate(headerValue(res, 'www-authenticate') ?? '');
    await res.body.dump();
    // Requests run in parallel (layers): another one may have answered the challenge meanwhile.
    const fresh = this.authHeader !== sentWith || (await this.authorize(challenges));
    if (!fresh) return res;
    res = await this.raw(method, target, opts);
    return res;
  }

  /**
   * An absolute URL for a Location header, which may be relative to the registry (distribution
   * sends /v2/...) or absolute, possibly on another host (a storage backend).
   */
  resolve(location: string): string {
    if (/^https?:\/\//i.test(location)) return location;
    const scheme = schemeCache.get(this.opts.registry) ?? (this.opts.insecure ? 'http' : 'https');
    return new URL(location, `${scheme}://${this.opts.registry}/`).href;
  }

  /** Answers a 401 challenge; returns false when there is nothing new to try. */
  private async authorize(challenges: Challenge[]): Promise<boolean> {
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      const before = this.authHeader;
      this.authHeader = await this.fetchToken(bearer);
      return this.authHeader !== before;
    }
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (basic && this.opts.credentials && !this.authHeader?.startsWith('Basic')) {
      const { username, password } = this.opts.credentials;
      this.authHeader = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      return true;
    }
    return false;
  }

  private async fetchToken(ch: Challenge): Promise<string> {
    const realm = ch.params.realm;
    if (!realm) throw new RegistryError(`${this.opts.registry} sent a Bearer challenge without a realm`);
    // A login probe has no repository: ask for a token with no scope, which proves the credentials.
    const scopes = [...(this.opts.repository ? [`repository:${this.opts.repository}:${this.opts.actions ?? 'pull'}`] : []), ...(this.opts.scopes ?? [])];
    const scope = scopes.join(' ');
    const key = `${realm}|${ch.params.service ?? ''}|${scope}|${this.opts.credentials?.username ?? ''}`;
    const cached = tokenCache.get(key);
    if (cached && cached.expires > Date.now()) return cached.header;

    const url = new URL(realm);
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    // One parameter per scope, as docker sends them (token servers split on either).
    for (const sc of scopes) url.searchParams.append('scope', sc);
    const headers: Record<string, string> = {};
    if (this.opts.credentials) {
      const { username, password } = this.opts.credentials;
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    log.debug(`token request ${url.href}`);
    let res: Response;
    try {
      res = await request(url, { method: 'GET', headers, dispatcher: agent() });
    } catch (e) {
      throw new RegistryError(`token server ${url.host} unreachable: ${(e as Error).message}`);
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump();
      throw new RegistryError(`unable to get a token from ${url.host} for ${scope}: invalid username/password`);
    }
    await this.expectOk(res, `requesting a token from ${url.host}`);
    const doc = (await res.body.json()) as { token?: string; access_token?: string; expires_in?: number };
    const token = doc.token || doc.access_token;
    if (!token) throw new RegistryError(`token server ${url.host} returned no token`);
    // The spec's default lifetime is 60 s; keep a margin so a token never expires mid-request.
    const lifetime = Math.max(10, (doc.expires_in ?? 60) - 10) * 1000;
    const header = `Bearer ${token}`;
    tokenCache.set(key, { header, expires: Date.now() + lifetime });
    return header;
  }

  private async raw(method: Method, target: string, opts: RequestOptions): Promise<Response> {
    const host = this.opts.registry;
    const absolute = /^https?:\/\//i.test(target);
    // Credentials go to the registry only, never to a storage host an upload was sent on to.
    const ours = !absolute || new URL(target).host === host;
    const headers = { 'user-agent': 'tsctr/0.1', ...opts.headers, ...(this.authHeader && ours ? { authorization: this.authHeader } : {}) };
    const dispatcher = method === 'GET' || method === 'HEAD' ? agent() : writeAgent();
    const { body } = opts;
    const send = (url: string) => {
      log.debug(`${method} ${url}`);
      return request(url, { method, headers, body: typeof body === 'function' ? body() : body, dispatcher });
    };
    const attempt = (url: string) => (typeof body === 'function' ? send(url) : withRetries(() => send(url)));
    if (absolute) {
      try {
        return await attempt(target);
      } catch (e) {
        throw new NetworkError(`registry ${new URL(target).host} unreachable: ${describeNetError(e)}`);
      }
    }
    const known = schemeCache.get(host);
    const schemes: ('https' | 'http')[] = known ? [known] : this.opts.insecure ? ['https', 'http'] : ['https'];
    let lastErr: unknown;
    for (const scheme of schemes) {
      try {
        const res = await attempt(`${scheme}://${host}${target}`);
        schemeCache.set(host, scheme);
        return res;
      } catch (e) {
        lastErr = e;
      }
    }
    throw new NetworkError(`registry ${host} unreachable: ${describeNetError(lastErr)}`);
  }
}

/**
 * A short error body, read by iterating rather than with body.text(): undici's text() throws from a
 * microtask (uncatchable) when the body has already ended, as a HEAD answer's empty body has.
 */
async function readText(body: Response['body'], limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (n < limit) chunks.push(chunk);
      n += chunk.length;
    }
  } catch {
    // What arrived before the failure is still worth showing.
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Connection-level failures (reset, refused, timeouts) are retried; answers are not. */
async function withRetries<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (e) {
      last = e;
      const code = (e as { code?: string }).code ?? '';
      const transient = ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EAI_AGAIN'].includes(code);
      if (!transient) break;
      await new Promise((r) => setTimeout(r, 200 * (i + 1)));
    }
  }
  throw last;
}

function describeNetError(e: unknown): string {
  const err = e as { message?: string; code?: string; cause?: { message?: string } };
  return err?.cause?.message || err?.message || String(e);
}

export function headerValue(res: Response, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sniffMediaType(body: Buffer): string {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { mediaType?: string; schemaVersion?: number; manifests?: unknown };
    if (doc.mediaType) return doc.mediaType;
    if (doc.schemaVersion === 1) return MEDIA.dockerSchema1;
    return doc.manifests ? MEDIA.ociIndex : MEDIA.ociManifest;
  } catch {
    return 'application/octet-stream';
  }
}
