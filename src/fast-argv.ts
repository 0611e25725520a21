/**
 * A quick way past clipanion's parser for plain command lines. clipanion compiles a state machine
 * over every option of the registered commands on each invocation — 11 ms of `run`'s start-up for
 * its forty options. This reads the same option definitions from the command class and handles
 * the everyday forms (`--opt value`, `--opt=value`, `-o value`, `-abc` flags, positionals, `--`,
 * a trailing command); option values go through clipanion's own transformers, so defaults mean
 * the same. Anything else — help, an unknown or malformed option, a missing or extra argument —
 * returns undefined and goes to clipanion, which parses it and explains the mistake.
 */
import type { Command } from 'clipanion';

interface OptionSpec {
  definition(builder: object, key: string): void;
  transformer(builder: object, key: string, state: ParseState, context: object): unknown;
}

interface ParseState {
  options: { name: string; value: string | boolean }[];
  positionals: { value: string; extra: boolean }[];
}

type Def =
  | { kind: 'option'; names: string[]; arity: number; required: boolean }
  | { kind: 'positional'; required: boolean }
  | { kind: 'rest'; required: number }
  | { kind: 'proxy' };

const isSpec = (v: unknown): v is OptionSpec =>
  typeof v === 'object' && v !== null && typeof (v as OptionSpec).definition === 'function' && typeof (v as OptionSpec).transformer === 'function';

function definitions(command: Command): Map<string, { spec: OptionSpec; def: Def }> {
  const out = new Map<string, { spec: OptionSpec; def: Def }>();
  for (const [key, value] of Object.entries(command)) {
    if (!isSpec(value)) continue;
    let def: Def | undefined;
    value.definition(
      {
        addOption: (o: { names: string[]; arity?: number; required?: boolean }) => (def = { kind: 'option', names: o.names, arity: o.arity ?? 0, required: !!o.required }),
        addPositional: (p: { required?: boolean }) => (def = { kind: 'positional', required: p.required !== false }),
        addRest: (r: { required?: number }) => (def = { kind: 'rest', required: r.required ?? 0 }),
        addProxy: () => (def = { kind: 'proxy' }),
      },
      key,
    );
    if (def) out.set(key, { spec: value, def });
  }
  return out;
}

export function fastParse<C extends Command>(Cls: new () => C, path: string[], args: string[]): C | undefined {
  const command = new Cls();
  const defs = definitions(command);
  const byName = new Map<string, { arity: number }>();
  const positionalKeys: string[] = [];
  let restKey: string | undefined;
  let proxyKey: string | undefined;
  for (const [key, { def }] of defs) {
    if (def.kind === 'option') {
      if (def.arity > 1) return undefined;
      for (const n of def.names) byName.set(n, { arity: def.arity });
    } else if (def.kind === 'positional') {
      // Required ones first, as clipanion orders them; anything else is left to it.
      if (def.required && positionalKeys.some((k) => (defs.get(k)!.def as { required: boolean }).required === false)) return undefined;
      positionalKeys.push(key);
    } else if (def.kind === 'rest') restKey = key;
    else proxyKey = key;
  }
  if (restKey && proxyKey) return undefined;

  const state: ParseState = { options: [], positionals: [] };
  const positionals: string[] = [];
  let proxied: string[] = [];
  let endOfOptions = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    // After the positionals before it, a proxy takes everything, options included (`run IMAGE ls -l`).
    if (proxyKey && positionals.length === positionalKeys.length) {
      proxied = args.slice(i);
      break;
    }
    if (endOfOptions || !a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    if (a === '--') {
      if (proxyKey) return undefined;
      endOfOptions = true;
      continue;
    }
    if (a === '--help' || a === '-h') return undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a : a.slice(0, eq);
      const o = byName.get(name);
      if (!o) return undefined;
      if (eq >= 0) {
        if (o.arity !== 1) return undefined;
        state.options.push({ name, value: a.slice(eq + 1) });
      } else if (o.arity === 1) {
        const value = args[++i];
        if (value === undefined) return undefined;
        state.options.push({ name, value });
      } else {
        state.options.push({ name, value: true });
      }
      continue;
    }
    if (a.length === 2) {
      const o = byName.get(a);
      if (!o) return undefined;
      if (o.arity === 1) {
        const value = args[++i];
        if (value === undefined) return undefined;
        state.options.push({ name: a, value });
      } else {
        state.options.push({ name: a, value: true });
      }
      continue;
    }
    // Bundled flags (`-it`); a bundle with a value-taking option (`-p8080`) is left to clipanion.
    for (const ch of a.slice(1)) {
      if (byName.get(`-${ch}`)?.arity !== 0) return undefined;
      state.options.push({ name: `-${ch}`, value: true });
    }
  }
  const required = positionalKeys.filter((k) => (defs.get(k)!.def as { required: boolean }).required).length;
  if (positionals.length < required) return undefined;
  if (positionals.length > positionalKeys.length && !restKey) return undefined;
  if (restKey && positionals.length - positionalKeys.length < (defs.get(restKey)!.def as { required: number }).required) return undefined;

  const context = { env: process.env };
  const given = new Set(state.options.map((o) => o.name));
  for (const [key, { spec, def }] of defs) {
    if (def.kind === 'option') {
      if (def.required && !def.names.some((n) => given.has(n))) return undefined;
      (command as Record<string, unknown>)[key] = spec.transformer({}, key, state, context);
    }
  }
  positionalKeys.forEach((key, i) => ((command as Record<string, unknown>)[key] = positionals[i]));
  if (restKey) (command as Record<string, unknown>)[restKey] = positionals.slice(positionalKeys.length);
  if (proxyKey) (command as Record<string, unknown>)[proxyKey] = proxied;
  command.path = path;
  return command;
}
