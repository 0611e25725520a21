/**
 * `configHash(project, service)`: a stable digest of what a service's containers are made from,
 * written as the label com.docker.compose.config-hash so that `up` recreates only the services whose
 * config changed. As docker compose, it leaves out what does not change a container: the build
 * section (the image it makes is what counts, see up.ts's image label), the pull policy, the replica
 * count, dependencies and profiles. Unlike the service's own keys, some inputs of its containers
 * live elsewhere in the project, so they are hashed too: the content of each config and secret it
 * mounts (docker compose hashes them per target), its aliases with the links other services make
 * to it, and the engine names of its networks and volumes.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { effectiveAliases } from './links.js';
import type { Project, Service } from './model.js';

export function configHash(p: Project, service: Service, aliases = effectiveAliases(p).aliases[service.name]): string {
  const { build: _b, pull_policy: _p, scale: _s, depends_on: _d, profiles: _pr, ...rest } = service;
  const deploy = rest.deploy ? { ...rest.deploy, replicas: undefined } : undefined;
  const networks = Object.fromEntries(
    Object.entries(rest.networks).map(([k, n]) => [k, { ...n, aliases: aliases?.[k] ?? n.aliases, engine_name: p.networks[k]?.name ?? k }]),
  );
  const volumes = rest.volumes.map((v) => (v.type === 'volume' && v.source ? { ...v, engine_name: p.volumes[v.source]?.name ?? v.source } : v));
  const files = (kind: 'configs' | 'secrets') => rest[kind].map((r) => ({ ...r, content_digest: fileDigest(p, kind, r.source) }));
  const model = { ...rest, deploy, networks, volumes, configs: files('configs'), secrets: files('secrets') };
  return crypto.createHash('sha256').update(stableJson(prune(model))).digest('hex');
}

/** Every enabled service's hash (`config --hash`, the runtime project). */
export function serviceHashes(p: Project): Record<string, string> {
  const { aliases } = effectiveAliases(p);
  return Object.fromEntries(Object.values(p.services).map((s) => [s.name, configHash(p, s, aliases[s.name])]));
}

/** What a config or secret would mount, digested: inline content, the variable's value, or the file (a directory: its tree). */
export function fileDigest(p: Project, kind: 'configs' | 'secrets', source: string): string {
  const o = Object.prototype.hasOwnProperty.call(p[kind], source) ? p[kind][source] : undefined;
  if (!o || o.external) return 'external';
  if (o.content !== undefined) return sha256(o.content);
  if (o.environment !== undefined) return Object.prototype.hasOwnProperty.call(p.environment, o.environment) ? sha256(p.environment[o.environment]!) : 'unset';
  return o.file ? pathDigest(o.file) : 'none';
}

const sha256 = (b: string | Buffer) => crypto.createHash('sha256').update(b).digest('hex');

function pathDigest(file: string, depth = 0): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return 'missing';
  }
  try {
    if (st.isFile()) return sha256(fs.readFileSync(file));
    if (st.isDirectory() && depth < 16) {
      const entries = fs.readdirSync(file).sort().map((n) => `${n}\0${pathDigest(path.join(file, n), depth + 1)}`);
      return sha256(entries.join('\n'));
    }
  } catch {
    return 'unreadable';
  }
  return `mode ${st.mode}`;
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
