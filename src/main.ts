/**
 * Entry point. Kept light: only what `--version` needs is loaded up front; clipanion, the command
 * classes and their libraries come in when used, and only the commands of the verb typed are
 * registered (clipanion builds its parser over every registered command).
 */
import { globals } from './paths.js';
import { VERSION } from './version.js';
import { fastParse } from './fast-argv.js';
import { GLOBAL_WITH_VALUE } from './global-options.js';
import { isTerminal, writeStdout } from './util/stdout.js';

/** Global options may come before the verb (`tsctr --root DIR images`), as with docker and podman. */
async function takeGlobals(argv: string[]): Promise<string[]> {
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!GLOBAL_WITH_VALUE.has(name)) break;
    const value = eq > 0 ? arg.slice(eq + 1) : argv[i + 1];
    if (value === undefined) throw new Error(`flag needs an argument: ${name}`);
    if (name === '--root') globals.root = value;
    else if (name === '--runroot') globals.runroot = value;
    else if (name === '--storage-driver') globals.storageDriver = (await import('./store/storage-driver.js')).parseStorageDriver(value, '--storage-driver');
    else (await import('./command-base.js')).applyLogLevel(value);
    i += eq > 0 ? 1 : 2;
  }
  return argv.slice(i);
}

type CommandClass = { paths?: string[][] } & (new () => import('clipanion').Command);

/**
 * The commands to register for a verb: clipanion builds its parser over every registered path, and
 * that costs milliseconds per path, so a known verb gets only its own commands, each with only the
 * paths that start with it (`run`, not also `container run`). Anything else gets every command.
 */
async function commandsFor(verb: string | undefined): Promise<CommandClass[]> {
  const { verbModules } = await import('./commands/verbs.js');
  const load = verb !== undefined && Object.hasOwn(verbModules, verb) ? verbModules[verb] : undefined;
  if (load) {
    const own = Object.values(await load()).filter(
      (c): c is CommandClass => typeof c === 'function' && ((c as CommandClass).paths ?? []).some((p) => p[0] === verb),
    );
    // This process parses one command line: narrowing the classes' own paths in place is safe.
    for (const c of own) c.paths = c.paths!.filter((p) => p[0] === verb);
    if (own.length) return own;
  }
  return (await import('./commands/index.js')).commands as CommandClass[];
}

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

async function main(): Promise<number> {
  let argv: string[];
  try {
    argv = await takeGlobals(process.argv.slice(2));
  } catch (e) {
    return (await import('./command-base.js')).reportError(e, process.stderr);
  }
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    writeStdout(`tsctr version ${VERSION}\n`);
    return 0;
  }
  const [{ Builtins, Cli }, matching] = await Promise.all([import('clipanion'), commandsFor(argv[0])]);
  const cli = new Cli({ binaryName: 'tsctr', binaryLabel: 'tsctr — rootless, daemonless containers', binaryVersion: VERSION, enableColors: isTerminal(1) });
  cli.register(Builtins.HelpCommand);
  for (const c of matching) cli.register(c);
  let command;
  try {
    command = plainCommand(matching, argv) ?? cli.process(argv.length === 0 ? ['--help'] : argv);
  } catch (e) {
    // Unknown flags and verbs are the user's mistake: docker's 125 and a pointer to help.
    const verbs = new Set(matching.flatMap((c) => (c.paths ?? []).map((p) => p[0]!)));
    if (argv[0] && !argv[0].startsWith('-') && !verbs.has(argv[0])) {
      const near = [...verbs].filter((v) => editDistance(v, argv[0]!) <= 2 || (argv[0]!.length >= 3 && v.startsWith(argv[0]!))).sort();
      process.stderr.write(`Error: unknown command "${argv[0]}" for "tsctr"${near.length ? `; did you mean ${near.map((v) => `"${v}"`).join(' or ')}?` : ''}\nSee 'tsctr --help'.\n`);
      return 125;
    }
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
