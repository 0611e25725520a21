/**
 * `compose config`: the project as docker compose v2 prints it — the resolved, normalised file:
 * long syntax everywhere, absolute paths, durations as Go durations, keys sorted, empty and false
 * values left out, a service's unused network attachment as `null`.
 */
import type { Project, Service } from './model.js';
import { isMap, put, type Tree } from './tree.js';

/** Keys whose number is milliseconds in the model and a Go duration in the file. */
const DURATIONS = new Set(['interval', 'timeout', 'start_period', 'start_interval', 'stop_grace_period', 'delay', 'window']);

/** Keys whose number is bytes. */
const SIZES = new Set(['memory', 'mem_limit', 'shm_size']);

/** Go's time.Duration String() of a number of milliseconds: `1m30s`, `500ms`, `2h0m0s`. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return Number.isInteger(ms) ? `${ms}ms` : `${ms * 1000}µs`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const secs = `${Number(s.toFixed(9))}s`;
  if (h) return `${h}h${m}m${secs}`;
  if (m) return `${m}m${secs}`;
  return secs;
}

/** The tree `compose config` prints (also its JSON form). */
export function configTree(project: Project): Tree {
  const out: Tree = { name: project.name };
  const services: Tree = {};
  // Go's YAML writes a map's keys sorted: services, networks... by name.
  for (const s of Object.values(project.services).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) put(services, s.name, serviceTree(s));
  out.services = services;
  for (const k of ['networks', 'volumes', 'configs', 'secrets'] as const) {
    const section: Tree = {};
    for (const key of Object.keys(project[k]).sort()) put(section, key, clean(project[k][key], '') ?? {});
    if (Object.keys(section).length) out[k] = section;
  }
  return out;
}

function serviceTree(s: Service): Tree {
  const { name: _name, extra, networks, ...rest } = s;
  const t = (clean(rest, '') ?? {}) as Tree;
  // Attached with nothing to say: docker compose prints `default: null`.
  const nets: Tree = {};
  for (const [n, v] of Object.entries(networks)) put(nets, n, clean(v, '') ?? null);
  if (Object.keys(nets).length) t.networks = nets;
  for (const [k, v] of Object.entries(extra)) put(t, k, v);
  return sortKeys(t) as Tree;
}

/** Empty lists and maps, false and undefined left out; durations formatted; keys sorted. */
function clean(v: unknown, key: string): unknown {
  if (v === undefined || v === false || v === null) return undefined;
  if (typeof v === 'number' && DURATIONS.has(key)) return goDuration(v);
  // As docker compose prints them, and as the schema wants `memory` (a string only).
  if (typeof v === 'number' && SIZES.has(key)) return String(v);
  if (Array.isArray(v)) {
    const list = v.map((x) => clean(x, '')).filter((x) => x !== undefined);
    return list.length ? list : undefined;
  }
  if (isMap(v)) {
    const out: Tree = {};
    for (const k of Object.keys(v).sort()) {
      const c = key === 'environment' || key === 'labels' || key === 'args' ? v[k] : clean(v[k], k);
      if (c !== undefined) put(out, k, c);
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v;
}

/** Entries of these lists keep compose-go's field order (its structs), not the alphabet. */
const FIELD_ORDER: Record<string, string[]> = {
  ports: ['name', 'mode', 'host_ip', 'target', 'published', 'protocol', 'app_protocol'],
  volumes: ['type', 'source', 'target', 'read_only', 'consistency', 'bind', 'volume', 'tmpfs', 'image'],
};

function sortKeys(v: unknown, parent = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => sortKeys(x, `${parent}[]`));
  if (!isMap(v)) return v;
  const order = parent.endsWith('[]') ? FIELD_ORDER[parent.slice(0, -2)] : undefined;
  const rank = (k: string) => (order && order.includes(k) ? order.indexOf(k) : Infinity);
  const keys = Object.keys(v).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const out: Tree = {};
  for (const k of keys) put(out, k, sortKeys(v[k], k));
  return out;
}

export async function configYaml(project: Project): Promise<string> {
  const { stringify } = await import('yaml');
  return stringify(configTree(project), { lineWidth: 0, aliasDuplicateObjects: false, defaultStringType: 'PLAIN', defaultKeyType: 'PLAIN' });
}

/** `--profiles`: every profile any service names, sorted, once. */
export function allProfiles(project: Project): string[] {
  const set = new Set<string>();
  for (const s of [...Object.values(project.services), ...Object.values(project.disabled_services)]) for (const p of s.profiles) set.add(p);
  return [...set].sort();
}

/** The image a service runs: its `image:`, or what `compose build` tags (`<project>-<service>`). */
export function serviceImageName(project: Project, s: Service): string {
  return s.image ?? `${project.name}-${s.name}`;
}
