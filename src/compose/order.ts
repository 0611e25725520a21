/** Dependency order of a project's services: start in it, stop in its reverse. */
import { TsctrError } from '../errors.js';

/** The services in an order where each comes after what it depends on; a cycle is an error naming it. */
export function startOrder(deps: Record<string, string[]>): string[] {
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (s: string, path: string[]) => {
    const st = state.get(s);
    if (st === 'done') return;
    if (st === 'visiting') throw new TsctrError(`dependency cycle detected: ${[...path, s].join(' -> ')}`);
    state.set(s, 'visiting');
    for (const d of deps[s] ?? []) {
      if (!(d in deps)) throw new TsctrError(`service "${s}" depends on undefined service "${d}"`);
      visit(d, [...path, s]);
    }
    state.set(s, 'done');
    out.push(s);
  };
  for (const s of Object.keys(deps).sort()) visit(s, []);
  return out;
}

/** The named services and, transitively, what they depend on (for `up web`, `run --no-deps` not). */
export function withDependencies(deps: Record<string, string[]>, names: string[]): Set<string> {
  const out = new Set<string>();
  const add = (s: string) => {
    if (out.has(s)) return;
    out.add(s);
    for (const d of deps[s] ?? []) add(d);
  };
  names.forEach(add);
  return out;
}
