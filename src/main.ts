/**
 * Entry point. Kept light: only what `--version` needs is loaded up front; clipanion, the command
 * classes and their libraries come in when used, and only the commands of the verb typed are
 * registered (clipanion builds its parser over every registered command).
 */
import { VERSION } from './version.js';
import { fastParse } from './fast-argv.js';
import { isGroup, splitCommandLine, unknownVerbMessage } from './commands/verbs.js';
import type { CommandClass } from './commands/index.js';
import { isTerminal, writeStdout } from './util/stdout.js';

/** The command of a plain command line, parsed without building clipanion's parser (fast-argv.ts). */
function plainCommand(classes: CommandClass[], argv: string[]): import('clipanion').Command | undefined {
  let best: { Cls: CommandClass; path: string[] } | undefined;
  for (const Cls of classes) {
    for (const path of Cls.paths ?? []) {
      if (path.length > (best?.path.length ?? 0) && path.every((p, i) => argv[i] === p)) best = { Cls, path };
    }
  }
  return best ? fastParse(best.Cls, best.path, argv.slice(best.path.length)) : undefined;
}

async function main(): Promise<number> {
  let args = process.argv.slice(2);
  if (args.includes('compose')) args = (await import('./commands/compose-argv.js')).hoistProjectOptions(args);
  const line = splitCommandLine(args);
  if (line.missingValue) {
    process.stderr.write(`Error: flag needs an argument: ${line.missingValue}\n`);
    return 125;
  }
  if (line.globals.length) {
    const { applyGlobal } = await import('./command-base.js');
    try {
      for (const [name, value] of line.globals) await applyGlobal(name, value);
    } catch (e) {
      return (await import('./command-base.js')).reportError(e, process.stderr);
    }
  }
  // The command line without the global options taken out above.
  const argv = [...line.path, ...line.rest];
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    writeStdout(`tsctr version ${VERSION}\n`);
    return 0;
  }
  if (line.path.length === 0 && argv[0] !== undefined && !argv[0].startsWith('-')) {
    // Unknown verbs are the user's mistake: docker's 125 and a pointer to help.
    process.stderr.write(unknownVerbMessage(argv[0]));
    return 125;
  }
  if (isGroup(line.path) && line.rest[0] !== undefined && !line.rest[0].startsWith('-')) {
    process.stderr.write(unknownVerbMessage(line.rest[0], line.path));
    return 125;
  }
  if (isGroup(line.path) && (line.rest.length === 0 || (line.rest.length === 1 && ['--help', '-h'].includes(line.rest[0]!)))) {
    // A noun alone, as docker: the list of its commands.
    const { groupHelp, loadCommands } = await import('./commands/index.js');
    writeStdout(groupHelp(line.path, await loadCommands(line.path)));
    return 0;
  }
  const [{ Builtins, Cli }, matching] = await Promise.all([import('clipanion'), import('./commands/index.js').then((m) => m.loadCommands(line.path))]);
  const cli = new Cli({ binaryName: 'tsctr', binaryLabel: 'tsctr — rootless, daemonless containers', binaryVersion: VERSION, enableColors: isTerminal(1) });
  cli.register(Builtins.HelpCommand);
  for (const c of matching) cli.register(c);
  let command;
  try {
    command = plainCommand(matching, argv) ?? cli.process(argv.length === 0 ? ['--help'] : argv);
  } catch (e) {
    // Unknown flags are the user's mistake: docker's 125 and a pointer to help.
    const msg = (e as Error).message.split('\n').find((l) => l.trim()) ?? String(e);
    process.stderr.write(`Error: ${msg.replace(/^(Usage Error|Error): /, '')}\nSee 'tsctr ${argv[0] ?? ''} --help'.\n`);
    return 125;
  }
  return cli.run(command);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (e) => {
    process.exitCode = (await import('./command-base.js')).reportError(e, process.stderr);
  },
);
