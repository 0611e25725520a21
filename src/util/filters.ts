import { TsctrError } from '../errors.js';

/** docker's `--filter key=value`, split; the value may itself contain `=` (label=k=v). */
export function splitFilter(f: string): [string, string] {
  const eq = f.indexOf('=');
  if (eq <= 0) throw new TsctrError(`bad format of filter (expected name=value): ${f}`);
  return [f.slice(0, eq), f.slice(eq + 1)];
}
