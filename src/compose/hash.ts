/**
 * `configHash(service)`: a stable digest of what a service's containers are made from, written as the
 * label com.docker.compose.config-hash so that `up` recreates only the services whose config changed.
 * As docker compose, it leaves out what does not change a container: the build section (the image
 * it makes is what counts), the pull policy, the replica count, dependencies and profiles.
 */
import crypto from 'node:crypto';
import type { Service } from './model.js';

export function configHash(service: Service): string {
  const { build: _b, pull_policy: _p, scale: _s, depends_on: _d, profiles: _pr, ...rest } = service;
  const deploy = rest.deploy ? { ...rest.deploy, replicas: undefined } : undefined;
  return crypto.createHash('sha256').update(stableJson(prune({ ...rest, deploy }))).digest('hex');
}

/** Empty lists and maps, false and undefined dropped: `deploy: {replicas: 3}` hashes as no deploy. */
function prune(v: unknown): unknown {
  if (v === undefined || v === false) return undefined;
  if (Array.isArray(v)) {
    const list = v.map(prune).filter((x) => x !== undefined);
    return list.length ? list : undefined;
  }
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const p = prune(x);
      if (p !== undefined) Object.defineProperty(out, k, { value: p, enumerable: true });
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v;
}

/** JSON with the keys of every object sorted, undefined left out: the same value always gives the same text. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : stableJson(x))).join(',')}]`;
  if (v && typeof v === 'object') {
    const keys = Object.keys(v).sort();
    const parts: string[] = [];
    for (const k of keys) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) parts.push(`${JSON.stringify(k)}:${stableJson(x)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
