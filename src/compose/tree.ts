/**
 * Small helpers over the plain trees a YAML file parses to. A compose file is untrusted: keys are
 * set as own properties (a key `__proto__` stays a key, never a prototype), and walks are bounded.
 */
export type Tree = Record<string, unknown>;

export function isMap(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An own, enumerable property, whatever the key. */
export function put(obj: Tree, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The value at `path` (keys and indices), or undefined. */
export function getPath(tree: unknown, path: readonly (string | number)[]): unknown {
  let cur = tree;
  for (const k of path) {
    if (Array.isArray(cur) && typeof k === 'number') cur = cur[k];
    else if (isMap(cur) && Object.prototype.hasOwnProperty.call(cur, String(k))) cur = cur[String(k)];
    else return undefined;
  }
  return cur;
}
