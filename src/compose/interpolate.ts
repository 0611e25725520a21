/**
 * compose's variable interpolation (compose-spec "Interpolation"): `$VAR`, `${VAR}`, `${VAR:-d}`,
 * `${VAR-d}`, `${VAR:?err}`, `${VAR?err}`, `${VAR:+alt}`, `${VAR+alt}`, nested in the word, and `$$`
 * for a literal `$`. Applied to the values of a parsed file (never its keys), before validation, so
 * that `ports: ["${PORT}:80"]` is checked with its value.
 */
import { ComposeError } from './errors.js';
import { put } from './tree.js';

export type Lookup = (name: string) => string | undefined;

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;

export class InterpolationError extends ComposeError {}

/** A string with its variables replaced; `onUnset` hears each variable used without a value or default. */
export function interpolateString(s: string, lookup: Lookup, onUnset: (name: string) => void = () => {}): string {
  if (!s.includes('$')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(s, i + 2);
      if (end < 0) throw new InterpolationError(`Invalid template: "${s}"`);
      out += expand(s.slice(i + 2, end), s, lookup, onUnset);
      i = end + 1;
      continue;
    }
    const m = NAME.exec(s.slice(i + 1));
    if (!m) {
      // Not a variable: kept as written, as compose does.
      out += '$';
      i++;
      continue;
    }
    const v = lookup(m[0]);
    if (v === undefined) onUnset(m[0]);
    out += v ?? '';
    i += 1 + m[0].length;
  }
  return out;
}

/** The index of the `}` closing the `${` whose body starts at `from`, nested `${...}` skipped. */
function closingBrace(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') {
      i++;
    } else if (s[i] === '$' && s[i + 1] === '{') {
      depth++;
      i++;
    } else if (s[i] === '}') {
      if (--depth === 0) return i;
    }
  }
  return -1;
}

function expand(body: string, whole: string, lookup: Lookup, onUnset: (name: string) => void): string {
  const m = NAME.exec(body);
  if (!m) throw new InterpolationError(`Invalid template: "${whole}"`);
  const name = m[0];
  const rest = body.slice(name.length);
  const value = lookup(name);
  if (rest === '') {
    if (value === undefined) onUnset(name);
    return value ?? '';
  }
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (!op) throw new InterpolationError(`Invalid template: "${whole}"`);
  const word = rest.slice(op.length);
  // `:` makes an empty value count as unset.
  const unset = op.startsWith(':') ? !value : value === undefined;
  // The word is expanded only when it is used: `${A:-${B}}` does not warn about B when A is set.
  const sub = () => interpolateString(word, lookup, onUnset);
  switch (op.replace(':', '')) {
    case '-':
      return unset ? sub() : value!;
    case '+':
      return unset ? '' : sub();
    default: {
      if (!unset) return value!;
      const why = sub();
      throw new InterpolationError(`required variable ${name} is missing a value${why ? `: ${why}` : ''}`);
    }
  }
}

/**
 * Every string value in a parsed YAML tree, interpolated; keys are left alone. Numbers, booleans and
 * nulls stay as they are. `path` names the value in errors (`services.web.image`).
 */
export function interpolateTree(value: unknown, lookup: Lookup, onUnset: (name: string) => void, path = ''): unknown {
  if (typeof value === 'string') {
    try {
      return interpolateString(value, lookup, onUnset);
    } catch (err) {
      if (err instanceof InterpolationError && path) throw new InterpolationError(`error while interpolating ${path}: ${err.message}`);
      throw err;
    }
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateTree(v, lookup, onUnset, path ? `${path}.[${i}]` : `[${i}]`));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) put(out, k, interpolateTree(v, lookup, onUnset, path ? `${path}.${k}` : k));
    return out;
  }
  return value;
}
