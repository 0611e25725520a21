/**
 * Entry point. Kept light: command modules import their heavy libraries (undici, tar, koffi)
 * lazily, so `tsctr --version` or `tsctr ps` pay only for what they use.
 */
import { Builtins, Cli } from 'clipanion';
import { commands } from './commands/index.js';
import { globals } from './paths.js';
import { applyLogLevel, reportError } from './command-base.js';
import { VERSION } from './version.js';
import { bindLifetimeToParent } from './rootless/userns.js';

const GLOBAL_WITH_VALUE = new Set(['--root', '--runroot', '--log-level']);

/** Global options may come before the verb (`tsctr --root DIR images`), as with docker and podman. */
function takeGlobals(argv: string[]): string[] {
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (!GLOBAL_WITH_VALUE.has(name)) break;
    const value = inline ?? argv[i + 1];
    if (value === undefined) throw new Error(`flag needs an argument: ${name}`);
    if (name === '--root') globals.root = value;
    else if (name === '--runroot') globals.runroot = value;
    else applyLogLevel(value);
    i += inline === undefined ? 2 : 1;
  }
  return argv.slice(i);
}

async function main(): Promise<number> {
  await bindLifetimeToParent();
  let argv: string[];
  try {
    argv = takeGlobals(process.argv.slice(2));
  } catch (e) {
    return reportError(e, process.stderr);
  }
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    process.stdout.write(`tsctr version ${VERSION}\n`);
    return 0;
  }
  const cli = new Cli({ binaryName: 'tsctr', binaryLabel: 'tsctr — rootless, daemonless containers', binaryVersion: VERSION, enableColors: Boolean(process.stdout.isTTY) });
  cli.register(Builtins.HelpCommand);
  for (const c of commands) cli.register(c);
  let command;
  try {
    command = cli.process(argv.length === 0 ? ['--help'] : argv);
  } catch (e) {
    // Unknown flags and verbs are the user's mistake: docker's 125 and a pointer to help.
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
  (e) => {
    process.exitCode = reportError(e, process.stderr);
  },
);
