/**
 * What a command line's first words mean, read from the command table alone (no command module is
 * loaded): which command path they name, the global options among them, and what a mistyped verb
 * was probably meant to be. Shared by main.ts and the SEA loader, so both see the same command.
 */
import { GLOBAL_BOOLEAN, GLOBAL_WITH_VALUE } from '../global-options.js';
import { COMMANDS, type CommandEntry } from './table.js';

const startsWith = (path: readonly string[], words: readonly string[]) => words.every((w, i) => path[i] === w);

/** Whether some command's path continues past these words (`container` → `container ls`). */
const extendable = (words: readonly string[]) => COMMANDS.some((c) => c.paths.some((p) => p.length > words.length && startsWith(p, words)));

export interface CommandLine {
  /** The command's path as typed (`['container', 'ls']`); empty when the first word is no verb. */
  path: string[];
  /** Global options found before the command's own arguments, in order. */
  globals: [name: string, value: string][];
  /** A global option given without its value. */
  missingValue?: string;
  /** Everything after the path: the command's options and arguments. */
  rest: string[];
}

/**
 * Splits a command line into global options, the command path and the rest. Global options are
 * taken before the verb and between the words of a path (`tsctr --root D container --runroot R ls`),
 * as podman does; after the path they are the command's own (TsctrCommand declares them), so that
 * a container's command after the image keeps them (`run IMAGE cmd --root x`).
 */
export function splitCommandLine(argv: readonly string[]): CommandLine {
  const path: string[] = [];
  const globals: [string, string][] = [];
  let i = 0;
  while (i < argv.length && (path.length === 0 || extendable(path))) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (GLOBAL_WITH_VALUE.has(name)) {
      const value = eq > 0 && name !== arg ? arg.slice(eq + 1) : argv[i + 1];
      if (value === undefined) return { path, globals, missingValue: name, rest: argv.slice(i + 1) };
      globals.push([name, value]);
      i += name === arg ? 2 : 1;
      continue;
    }
    if (GLOBAL_BOOLEAN.has(name)) {
      globals.push([name, name === arg ? 'true' : arg.slice(eq + 1)]);
      i++;
      continue;
    }
    if (arg.startsWith('-') || !extendable(path) || !COMMANDS.some((c) => c.paths.some((p) => startsWith(p, [...path, arg])))) break;
    path.push(arg);
    i++;
  }
  return { path, globals, rest: argv.slice(i) };
}

/** The commands a path selects, each with only its paths under it (`container` → every `container …`). */
export function entriesUnder(path: readonly string[]): { entry: CommandEntry; paths: string[][] }[] {
  return COMMANDS.flatMap((entry) => {
    const paths = entry.paths.filter((p) => startsWith(p, path)).map((p) => [...p]);
    return paths.length ? [{ entry, paths }] : [];
  });
}

/** Every first word: the verbs and the nouns (`container`, `image`, …); after a noun, its verbs. */
export function verbs(under: readonly string[] = []): string[] {
  return [...new Set(COMMANDS.flatMap((c) => c.paths.filter((p) => p.length > under.length && startsWith(p, under)).map((p) => p[under.length]!)))];
}

/** Whether these words name a group of commands (`container`), not a command. */
export const isGroup = (path: readonly string[]): boolean =>
  path.length > 0 && extendable(path) && !COMMANDS.some((c) => c.paths.some((p) => p.length === path.length && startsWith(p, path)));

/** Levenshtein distance: how far a mistyped verb is from a real one (cobra suggests within 2). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** docker's message for a verb it does not know (after a noun: one of the noun's), with cobra's suggestions. */
export function unknownVerbMessage(word: string, under: readonly string[] = []): string {
  const near = verbs(under)
    .filter((v) => editDistance(v, word) <= 2 || (word.length >= 3 && v.startsWith(word)))
    .sort();
  const where = ['tsctr', ...under].join(' ');
  return `Error: unknown command "${word}" for "${where}"${near.length ? `; did you mean ${near.map((v) => `"${v}"`).join(' or ')}?` : ''}\nSee '${where} --help'.\n`;
}
