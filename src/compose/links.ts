/**
 * compose's links (`db` or `db:alias`) as tsctr honours them: the alias names the linked service on
 * its default network (or its first one). They change the *linked* service's aliases, so its config
 * hash must see them too (hash.ts): both read them from here.
 */
import type { Project } from './model.js';

export interface Aliases {
  /** Service → network key → its aliases there, links included. */
  aliases: Record<string, Record<string, string[]>>;
  /** Links that name no service, or one on no network: `services.web.links (x)`. */
  unresolved: string[];
}

export function effectiveAliases(p: Project): Aliases {
  const aliases: Aliases['aliases'] = {};
  for (const s of Object.values(p.services)) aliases[s.name] = Object.fromEntries(Object.entries(s.networks).map(([k, n]) => [k, [...n.aliases]]));
  const unresolved: string[] = [];
  for (const s of Object.values(p.services)) {
    for (const l of s.links) {
      const [target = '', alias = target] = l.split(':');
      const nets = Object.prototype.hasOwnProperty.call(aliases, target) ? aliases[target] : undefined;
      const net = nets && ('default' in nets ? 'default' : Object.keys(nets)[0]);
      if (!nets || net === undefined) {
        unresolved.push(`services.${s.name}.links (${l})`);
        continue;
      }
      nets[net] = [...new Set([...(nets[net] ?? []), alias])];
    }
  }
  return { aliases, unresolved };
}
