/**
 * The route table's matcher: `/vX.Y` prefixes (1.24–1.43, or none), `{param}` segments and
 * `{param*}` for image names, which contain slashes (`/images/library/busybox:1/json`).
 */
import type { Ctx, Hijacked } from './http.js';
import { ApiError } from './errors.js';
import { API_VERSION } from '../version.js';

export const MIN_API_VERSION = '1.24';
export const MAX_API_VERSION = '1.43';

/** A handler that answers through ctx.res (JSON, a stream of JSON lines, a tar...). */
export type Handler = (ctx: Ctx) => Promise<void> | void;

/**
 * A handler that may take over the connection (attach, exec start). It may answer like any
 * handler (or throw) before calling `hijack()`; after, the HTTP layer is gone: `hijack()` has sent
 * `101 UPGRADED` (or `200 OK` when the client did not ask to upgrade) with `contentType`, and the
 * handler owns both ends until it ends `output`.
 */
export type HijackHandler = (ctx: Ctx, hijack: (contentType?: string) => Hijacked) => Promise<void> | void;

export interface Route {
  readonly method: string;
  readonly pattern: string;
  readonly handle?: Handler;
  readonly hijack?: HijackHandler;
}

interface Compiled extends Route {
  readonly re: RegExp;
  readonly names: string[];
}

export function compile(routes: readonly Route[]): Compiled[] {
  return routes.map((r) => {
    const names: string[] = [];
    const src = r.pattern
      .split('/')
      .map((seg) => {
        const m = /^\{(\w+)(\*?)\}$/.exec(seg);
        if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(m[1]!);
        return m[2] ? '(.+)' : '([^/]+)';
      })
      .join('/');
    return { ...r, re: new RegExp(`^${src}$`), names };
  });
}

const versionNumber = (v: string) => {
  const [a, b] = v.split('.').map(Number);
  return a! * 1000 + b!;
};

/** The version a path asks for, and the path without its prefix. */
export function splitVersion(path: string): { version: string; path: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
  if (!m) return { version: API_VERSION, path };
  const version = m[1]!;
  if (versionNumber(version) < versionNumber(MIN_API_VERSION))
    throw new ApiError(400, `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  if (versionNumber(version) > versionNumber(MAX_API_VERSION))
    throw new ApiError(400, `client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}`);
  return { version, path: m[2]! };
}

export interface Match {
  route: Compiled;
  params: Record<string, string>;
}

/** The route for a method and a path (without prefix); HEAD falls back to GET. 404/405 otherwise. */
export function match(table: readonly Compiled[], method: string, path: string): Match {
  let pathKnown = false;
  for (const want of method === 'HEAD' ? ['HEAD', 'GET'] : [method]) {
    for (const r of table) {
      const m = r.re.exec(path);
      if (!m) continue;
      pathKnown = true;
      if (r.method !== want) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => {
        try {
          params[n] = decodeURIComponent(m[i + 1]!);
        } catch {
          throw new ApiError(400, `bad escape in the path: ${path}`);
        }
      });
      return { route: r, params };
    }
  }
  if (pathKnown) throw new ApiError(405, `method ${method} is not allowed for ${path}`);
  throw new ApiError(404, 'page not found');
}
