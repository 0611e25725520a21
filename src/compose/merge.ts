/**
 * Several compose files (`-f a.yaml -f b.yaml`, or compose.yaml + compose.override.yaml) merged into
 * one tree by compose-spec's rules ("Merge"): mappings merged key by key; sequences appended, without
 * repeating an equal entry; `command`, `entrypoint` and `healthcheck.test` replaced; ports, volumes,
 * configs and secrets unique by their target (an override of the same target replaces the entry);
 * `environment`, `labels`, `networks`, `depends_on`... merged by key whichever syntax each file uses;
 * `!reset` removes what earlier files set and `!override` replaces it whole.
 */
import { isMap, put, type Tree } from './tree.js';
import { portKey, volumeTarget } from './normalize.js';

/** Paths (keys and indices from the root) tagged `!reset` / `!override` in one file. */
export interface Tags {
  reset: (string | number)[][];
  override: (string | number)[][];
}

/** Service keys whose value replaces the earlier one. */
const REPLACED = new Set(['command', 'entrypoint']);
/** Service keys that are a mapping in long syntax and a `K=V` (or `K`) list in short syntax. */
const KEY_VALUE = new Set(['environment', 'labels', 'annotations', 'sysctls', 'extra_hosts']);
/** Service keys that are a mapping in long syntax and a list of names in short syntax. */
const NAME_LIST = new Set(['networks', 'depends_on']);
/** Service keys that may be one string or a list of strings. */
const STRING_OR_LIST = new Set(['dns', 'dns_search', 'tmpfs', 'env_file', 'label_file']);

/** The later tree wins; `tags` are the later file's. Neither input is modified. */
export function mergeTrees(base: Tree, over: Tree, tags: Tags = { reset: [], override: [] }): Tree {
  const result = clone(base) as Tree;
  for (const p of tags.reset) removePath(result, p);
  const overrides = new Set(tags.override.map((p) => JSON.stringify(p)));
  return mergeMap(result, over, [], overrides);
}

function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone);
  if (isMap(v)) {
    const out: Tree = {};
    for (const [k, x] of Object.entries(v)) put(out, k, clone(x));
    return out;
  }
  return v;
}

function removePath(tree: unknown, path: (string | number)[]): void {
  let cur = tree;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    cur = Array.isArray(cur) ? cur[k as number] : isMap(cur) ? cur[String(k)] : undefined;
    if (cur === undefined) return;
  }
  const last = path[path.length - 1];
  if (last === undefined) return;
  if (isMap(cur)) delete cur[String(last)];
}

function mergeMap(base: Tree, over: Tree, path: string[], overrides: Set<string>): Tree {
  for (const [k, v] of Object.entries(over)) {
    const here = [...path, k];
    const prev = Object.prototype.hasOwnProperty.call(base, k) ? base[k] : undefined;
    if (prev === undefined || overrides.has(JSON.stringify(here))) put(base, k, clone(v));
    else put(base, k, mergeValue(prev, v, here, overrides));
  }
  return base;
}

function mergeValue(prev: unknown, next: unknown, path: string[], overrides: Set<string>): unknown {
  const inService = path.length === 3 && path[0] === 'services';
  const key = path[path.length - 1]!;
  if (inService) {
    if (REPLACED.has(key)) return clone(next);
    if (KEY_VALUE.has(key)) return mergeMap(toMap(prev, '='), toMap(next, '='), path, overrides);
    if (NAME_LIST.has(key)) return mergeMap(toMap(prev), toMap(next), path, overrides);
    if (STRING_OR_LIST.has(key)) return appendUnique(toList(prev), toList(next), (x) => JSON.stringify(x));
    if (key === 'build') return mergeMap(buildMap(prev), buildMap(next), path, overrides);
    if (key === 'ports') return appendUnique(toList(prev), toList(next), portKey, true);
    if (key === 'volumes') return appendUnique(toList(prev), toList(next), volumeTarget, true);
    if (key === 'configs' || key === 'secrets') return appendUnique(toList(prev), toList(next), (x) => refTarget(x, key), true);
  }
  if (path.length === 4 && path[0] === 'services' && path[2] === 'healthcheck' && key === 'test') return clone(next);
  if (path.length === 4 && path[0] === 'services' && path[2] === 'build' && (key === 'args' || key === 'labels')) {
    return mergeMap(toMap(prev, '='), toMap(next, '='), path, overrides);
  }
  if (isMap(prev) && isMap(next)) return mergeMap(prev, next, path, overrides);
  if (Array.isArray(prev) && Array.isArray(next)) return appendUnique(prev, next, (x) => JSON.stringify(x));
  return clone(next);
}

/** `["A=1", "B"]` or `["a", "b"]` as a mapping; a mapping as it is. A bare name maps to null. */
function toMap(v: unknown, sep?: string): Tree {
  if (isMap(v)) return clone(v) as Tree;
  const out: Tree = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = String(item);
      const i = sep ? s.indexOf(sep) : -1;
      if (i < 0) put(out, s, null);
      else put(out, s.slice(0, i), s.slice(i + 1));
    }
  }
  return out;
}

function toList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  return v === undefined || v === null ? [] : [v];
}

function buildMap(v: unknown): Tree {
  if (typeof v === 'string') {
    const out: Tree = {};
    put(out, 'context', v);
    return out;
  }
  return isMap(v) ? (clone(v) as Tree) : {};
}

function refTarget(x: unknown, kind: string): string {
  const source = typeof x === 'string' ? x : isMap(x) ? String(x.source ?? '') : '';
  const target = isMap(x) && typeof x.target === 'string' ? x.target : undefined;
  if (target) return target.startsWith('/') || kind === 'configs' ? target : `/run/secrets/${target}`;
  return kind === 'configs' ? `/${source}` : `/run/secrets/${source}`;
}

/**
 * The earlier entries, then the later ones; a later entry with the key of an earlier one replaces it
 * in place when `replace`, and an entry equal to an earlier one is not repeated.
 */
function appendUnique(prev: unknown[], next: unknown[], key: (x: unknown) => string | undefined, replace = false): unknown[] {
  const out = prev.map(clone);
  const keys = out.map((x) => key(x));
  for (const item of next) {
    const k = key(item);
    const at = k === undefined ? -1 : keys.indexOf(k);
    if (at >= 0) {
      if (replace) out[at] = clone(item);
      continue;
    }
    out.push(clone(item));
    keys.push(k);
  }
  return out;
}
