import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Builtins, Cli, Command } from 'clipanion';
import { COMMANDS } from '../../src/commands/table.js';
import { allCommands, groupHelp, loadCommands, type CommandClass } from '../../src/commands/index.js';
import { isGroup, splitCommandLine, unknownVerbMessage, verbs } from '../../src/commands/verbs.js';
import { fastParse } from '../../src/fast-argv.js';
import { applyGlobal } from '../../src/command-base.js';
import { globals } from '../../src/paths.js';
import { TsctrError } from '../../src/errors.js';

const DIR = path.resolve(import.meta.dirname, '..', '..', 'src', 'commands');
const words = (line: string) => line.split(' ');

// First, before loadCommands gives the classes their paths from the table.
test('no command class declares its own paths: the table is their one source', async () => {
  for (const file of new Set(COMMANDS.map((c) => c.file))) {
    for (const [name, value] of Object.entries(await import(path.join(DIR, `${file}.ts`)))) {
      if (typeof value === 'function') assert.ok(!Object.hasOwn(value, 'paths'), `${file}.ts: ${name} has static paths; put them in src/commands/table.ts`);
    }
  }
});

test('every command class exported under src/commands is in the table', async () => {
  const listed = new Set(COMMANDS.map((c) => `${c.file}.${c.name}`));
  const classes = await allCommands();
  // Abstract bases (ContainerCreateCommand) are extended by listed classes, never run themselves.
  const bases = new Set(classes.map((c) => Object.getPrototypeOf(c)));
  for (const f of fs.readdirSync(DIR).filter((f) => f.endsWith('.ts'))) {
    for (const [name, value] of Object.entries(await import(path.join(DIR, f)))) {
      if (typeof value !== 'function' || !(value.prototype instanceof Command) || bases.has(value)) continue;
      assert.ok(listed.has(`${f.replace(/\.ts$/, '')}.${name}`), `${f} exports ${name}, which src/commands/table.ts does not list`);
    }
  }
});

test('every path of the table reaches its command, through the table alone and through clipanion', async () => {
  for (const entry of COMMANDS) {
    for (const p of entry.paths) {
      const line = splitCommandLine([...p, '--some-option', 'arg']);
      assert.deepEqual(line.path, p, `the table reads ${p.join(' ')} as the path ${line.path.join(' ')}`);
      // What main.ts does: load the commands under the path, register them, parse.
      const classes = await loadCommands(line.path);
      const Cls = classes.find((c) => c.name === entry.name);
      assert.ok(Cls, `${p.join(' ')} does not load ${entry.name}`);
      assert.ok(Cls.paths?.some((q) => q.join(' ') === p.join(' ')));
      const cli = new Cli({ binaryName: 'tsctr' });
      cli.register(Builtins.HelpCommand);
      for (const c of classes) cli.register(c);
      const help = cli.process([...p, '--help']) as Command & { commands: number[]; contexts: { commandClass: unknown }[] };
      assert.equal(help.contexts[help.commands[0]!]!.commandClass, Cls, `clipanion: ${p.join(' ')} --help is not ${entry.name}'s`);
    }
  }
});

test('no two commands share a path, and a path loads only the modules of the commands under it', async () => {
  const owner = new Map<string, string>();
  for (const entry of COMMANDS) {
    for (const p of entry.paths) {
      const k = p.join(' ');
      assert.ok(!owner.has(k), `${k} is both ${owner.get(k)} and ${entry.name}`);
      owner.set(k, entry.name);
    }
  }
  assert.deepEqual((await loadCommands(['run'])).map((c) => [c.name, c.paths]), [['RunCommand', [['run']]]]);
  assert.deepEqual((await loadCommands(words('container ls'))).map((c) => [c.name, c.paths]), [['PsCommand', [['container', 'ls']]]]);
  const containerVerbs = (await loadCommands(['container'])).flatMap((c) => c.paths!.map((p) => p.join(' ')));
  assert.ok(containerVerbs.includes('container rm') && containerVerbs.every((v) => v.startsWith('container ')));
});

test("the SEA loader's cache key (the path read by the table) is the command's: every command has its own", () => {
  // runtime/sea-loader.ts keys each cache by splitCommandLine(argv).path: a group word such as
  // `image` must take its second word, a plain verb must not take its argument.
  const keyOwner = new Map<string, string>();
  for (const entry of COMMANDS) {
    for (const p of entry.paths) {
      const key = splitCommandLine(['--root', '/x', ...p, 'web', '-a']).path.join('-');
      assert.equal(key, p.join('-'));
      assert.ok(!keyOwner.has(key) || keyOwner.get(key) === entry.name, `cache key ${key} is shared`);
      keyOwner.set(key, entry.name);
    }
  }
  assert.deepEqual(splitCommandLine(words('run busybox ls')).path, ['run']);
  assert.deepEqual(splitCommandLine(words('image ls')).path, ['image', 'ls']);
  assert.deepEqual(splitCommandLine(words('image bogus')).path, ['image']);
});

test('verbs and noun forms come from the table; unknown verbs get suggestions', () => {
  const v = verbs();
  for (const w of ['run', 'ps', 'container', 'image', 'volume', 'system', 'pod', 'generate', 'kube', 'builder', 'doctor']) assert.ok(v.includes(w), w);
  assert.ok(!v.includes('network') || COMMANDS.some((c) => c.paths.some((p) => p[0] === 'network')));
  assert.match(unknownVerbMessage('pss'), /^Error: unknown command "pss" for "tsctr"; did you mean .*"ps"/);
  assert.match(unknownVerbMessage('zzzzzz'), /^Error: unknown command "zzzzzz" for "tsctr"\nSee 'tsctr --help'.\n$/);
  assert.deepEqual(splitCommandLine(['pss', 'x']).path, []);
});

test("a noun alone lists its commands, as docker's `docker container`; a wrong verb after it gets suggestions", async () => {
  assert.ok(isGroup(['container']) && isGroup(['image']) && isGroup(['kube']));
  assert.ok(!isGroup(['ps']) && !isGroup(['container', 'ls']) && !isGroup([]) && !isGroup(['nothing']));
  const help = groupHelp(['image'], await loadCommands(['image']));
  assert.match(help, /^Usage: {2}tsctr image COMMAND\n\nCommands:\n/);
  assert.match(help, /\n {2}ls +List images\n/);
  assert.match(help, /\n {2}pull +Download an image/);
  assert.doesNotMatch(help, /\n {2}(images|rmi|ps) /);
  assert.deepEqual(verbs(['volume']).sort(), ['create', 'exists', 'inspect', 'list', 'ls', 'prune', 'remove', 'rm']);
  assert.equal(unknownVerbMessage('lss', ['container']), 'Error: unknown command "lss" for "tsctr container"; did you mean "list" or "logs" or "ls"?\nSee \'tsctr container --help\'.\n');
});

test('global options before the verb and between a path’s words are taken out of the command line', () => {
  assert.deepEqual(splitCommandLine(words('--root /r --log-level debug ps -a')), { path: ['ps'], globals: [['--root', '/r'], ['--log-level', 'debug']], rest: ['-a'] });
  assert.deepEqual(splitCommandLine(words('--root=/r container --runroot /rr ls -q')), {
    path: ['container', 'ls'],
    globals: [['--root', '/r'], ['--runroot', '/rr']],
    rest: ['-q'],
  });
  assert.deepEqual(splitCommandLine(words('--storage-driver fuse-overlayfs image --root=/r rm x')).globals, [['--storage-driver', 'fuse-overlayfs'], ['--root', '/r']]);
  // After the verb they stay: the command's own options (below) or the container's arguments.
  assert.deepEqual(splitCommandLine(words('run --root /r busybox ls --root x')), { path: ['run'], globals: [], rest: words('--root /r busybox ls --root x') });
  assert.equal(splitCommandLine(['ps', '--root']).missingValue, undefined);
  assert.equal(splitCommandLine(['--root']).missingValue, '--root');
  assert.equal(splitCommandLine(['container', '--runroot']).missingValue, '--runroot');
  assert.deepEqual(splitCommandLine(words('--version')), { path: [], globals: [], rest: ['--version'] });
});

/** Parses a command line the two ways main.ts does; both must agree. */
async function parse(line: string): Promise<Record<string, unknown>> {
  const argv = words(line);
  const { path: p } = splitCommandLine(argv);
  const classes = await loadCommands(p);
  const Cls = classes.find((c) => c.paths!.some((q) => q.join(' ') === p.join(' '))) as CommandClass;
  const fast = fastParse(Cls, p, argv.slice(p.length));
  const cli = new Cli({ binaryName: 'tsctr' });
  for (const c of classes) cli.register(c);
  const slow = cli.process(argv);
  const pick = (c: Command) => Object.fromEntries(Object.entries(c).filter(([k]) => ['root', 'runroot', 'storageDriver', 'logLevel', 'args', 'all', 'image', 'command'].includes(k)));
  assert.ok(fast, `fast-argv gave up on ${line}`);
  assert.deepEqual(pick(fast), pick(slow), line);
  return pick(slow);
}

test('global options after the verb are every command’s options; after run’s image they are the container’s', async () => {
  assert.deepEqual(await parse('ps --root /r -a'), { root: '/r', runroot: undefined, storageDriver: undefined, logLevel: undefined, all: true });
  assert.deepEqual(await parse('ps -a --runroot /rr --storage-driver overlay --log-level debug'), {
    root: undefined,
    runroot: '/rr',
    storageDriver: 'overlay',
    logLevel: 'debug',
    all: true,
  });
  const run = await parse('run --root /r busybox ls --root x --log-level y');
  assert.equal(run.root, '/r');
  assert.equal(run.logLevel, undefined);
  assert.equal(run.image, 'busybox');
  assert.deepEqual(run.args ?? run.command, ['ls', '--root', 'x', '--log-level', 'y']);
  const images = await parse('image ls --root=/r');
  assert.equal(images.root, '/r');
});

test('a global option’s value is checked before the command runs', async () => {
  const before = { ...globals };
  try {
    await applyGlobal('--root', '/tmp/r');
    await applyGlobal('--storage-driver', 'fuse-overlayfs');
    assert.equal(globals.root, '/tmp/r');
    assert.equal(globals.storageDriver, 'fuse-overlayfs');
    await assert.rejects(applyGlobal('--storage-driver', 'zfs'), (e) => e instanceof TsctrError && /unknown storage driver "zfs"/.test(e.message));
    await assert.rejects(applyGlobal('--log-level', 'loud'), (e) => e instanceof TsctrError && /invalid log level "loud"/.test(e.message));
  } finally {
    Object.assign(globals, { root: undefined, runroot: undefined, storageDriver: undefined }, before);
  }
});
