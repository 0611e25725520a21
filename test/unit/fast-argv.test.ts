import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cli, Builtins, type Command } from 'clipanion';
import { allCommands } from '../../src/commands/index.js';
import { fastParse } from '../../src/fast-argv.js';

const commands = await allCommands();

type Cls = (new () => Command) & { paths?: string[][] };

/** What a parsed command holds (its option and positional fields), comparable across parsers. */
function fields(c: Command): Record<string, unknown> {
  const out: Record<string, unknown> = { path: c.path };
  for (const [k, v] of Object.entries(c)) if (!['context', 'cli', 'path', 'help'].includes(k)) out[k] = v;
  return out;
}

function clipanion(argv: string[]): Record<string, unknown> | Error {
  const cli = new Cli({ binaryName: 'tsctr' });
  cli.register(Builtins.HelpCommand);
  for (const c of commands) cli.register(c as Cls);
  try {
    return fields(cli.process(argv));
  } catch (e) {
    return e as Error;
  }
}

function fast(argv: string[]): Record<string, unknown> | undefined {
  let best: { Cls: Cls; path: string[] } | undefined;
  for (const Cls of commands as Cls[]) {
    for (const p of Cls.paths ?? []) if (p.length > (best?.path.length ?? 0) && p.every((w, i) => argv[i] === w)) best = { Cls, path: p };
  }
  const c = best && fastParse(best.Cls, best.path, argv.slice(best.path.length));
  return c && fields(c);
}

const LINES = [
  'run busybox',
  'run --rm -it busybox sh',
  'run -d --name web -p 8080:80 -p 127.0.0.1:8443:443 -e A=1 -e B --env-file f nginx',
  'run --name=x --restart=always -v /a:/b:ro --tmpfs /t busybox ls -l /',
  'run busybox -la',
  'run -dit busybox',
  'run --entrypoint "" busybox echo',
  'run --pull never --network none -w /srv -u 1:2 busybox sh -c "echo hi"',
  'create --name c busybox true',
  'exec -it c sh -c ls',
  'exec c ls -la /',
  'ps',
  'ps -a',
  'ps -aq --no-trunc',
  'ps -a --filter name=x --filter status=exited --format "{{.Names}}"',
  'images -a',
  'rm -f a b c',
  'rm a -f',
  'stop -t 3 web',
  'logs -f --tail 10 web',
  'start --all --filter restart-policy=always',
  'build -t a:1 -t b --build-arg X=1 --no-cache .',
  'generate systemd --new --files web',
  'generate kube -s -f out.yaml a b',
  'container run busybox',
  'image ls',
  'pull -q busybox',
  'tag a b',
  'inspect -f "{{.Id}}" a',
  'volume create v',
  'rm -- -f',
];

test('the fast path parses plain command lines exactly as clipanion does', () => {
  let fastCount = 0;
  for (const line of LINES) {
    const argv = (line.match(/"[^"]*"|\S+/g) ?? []).map((w) => w.replace(/^"|"$/g, ''));
    const quick = fast(argv);
    const slow = clipanion(argv);
    if (quick === undefined) continue;
    fastCount++;
    assert.ok(!(slow instanceof Error), `${line}: clipanion refuses what the fast path accepted: ${(slow as Error).message}`);
    assert.deepEqual(quick, slow, line);
  }
  assert.ok(fastCount >= LINES.length - 3, `only ${fastCount} of ${LINES.length} lines took the fast path`);
});

test('help, unknown options and missing arguments are left to clipanion', () => {
  for (const line of ['run --help', 'run -h busybox', 'run --bogus busybox', 'run', 'run --name', 'rmi', 'ps extra', 'run -p8080:80 busybox', 'stop -t']) {
    assert.equal(fast(line.split(' ')), undefined, line);
  }
});
