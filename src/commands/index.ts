/**
 * The command classes of the table (table.ts), loaded on demand: a command line evaluates the one
 * module of its command and what that imports, not every command. Each class gets its paths from
 * the table here, before clipanion sees it.
 */
import type { Command } from 'clipanion';
import { entriesUnder } from './verbs.js';

export type CommandClass = (new () => Command) & { paths?: string[][]; usage?: import('clipanion').Usage };

/*
 * One import with the file name in it: esbuild bundles every src/commands/*.ts as a module that is
 * evaluated when first imported (a glob import; it matches the `.ts` name, as tsx does), so the table
 * needs no second list of modules.
 */
const loadFile = (file: string): Promise<Record<string, unknown>> => import(`./${file}.ts`);

/**
 * The classes of the commands under a path (all of them for none), each with only the paths under
 * it: clipanion builds its parser over every registered path, and that costs milliseconds per path,
 * so `run` registers `run`, not also `container run`.
 */
export async function loadCommands(path: readonly string[] = []): Promise<CommandClass[]> {
  const selected = entriesUnder(path);
  const modules = new Map(await Promise.all([...new Set(selected.map((s) => s.entry.file))].map(async (f) => [f, await loadFile(f)] as const)));
  return selected.map(({ entry, paths }) => {
    const Cls = modules.get(entry.file)![entry.name] as CommandClass | undefined;
    if (typeof Cls !== 'function') throw new Error(`command table: src/commands/${entry.file}.ts exports no class ${entry.name}`);
    Cls.paths = paths;
    return Cls;
  });
}

/** Every command, with all its paths (help, the reference, tests). */
export const allCommands = (): Promise<CommandClass[]> => loadCommands([]);

/** docker's help of a noun (`tsctr container`): its commands, each with the first line of its description. */
export function groupHelp(path: readonly string[], classes: CommandClass[]): string {
  // Commands without usage are plumbing between tsctr processes, as in the reference.
  const rows = classes.filter((c) => c.usage).map((c) => [c.paths![0]![path.length]!, c.usage!.description ?? ''] as const);
  const width = Math.max(0, ...rows.map(([w]) => w.length)) + 3;
  const name = ['tsctr', ...path].join(' ');
  return [
    `Usage:  ${name} COMMAND`,
    '',
    'Commands:',
    ...rows.map(([w, d]) => `  ${w.padEnd(width)}${d}`.trimEnd()),
    '',
    `Run '${name} COMMAND --help' for more information on a command.`,
    '',
  ].join('\n');
}
