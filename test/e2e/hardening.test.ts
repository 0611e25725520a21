/**
 * Where tsctr keeps its state is checked before it is used, and bad input is one clear line.
 * (Another user's directories: test/cross-user.sh, which runs as root with two real users.)
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Sandbox } from '../support/harness.js';

describe('hardening', () => {
  const sb = new Sandbox('hardening');
  before(() => sb.ok(['pull', '-q', 'busybox']));
  after(() => sb.cleanup());

  test('--root or --runroot that is a file, or not ours: one Error line, 125', () => {
    const file = path.join(sb.dir, 'a-file');
    fs.writeFileSync(file, '');
    for (const args of [['--root', file, 'ps', '-a'], ['--runroot', file, 'run', '--rm', 'busybox', 'true'], ['--root', '/', 'images'], ['--root', '/etc', 'ps', '-a']]) {
      const r = sb.run(args);
      assert.equal(r.code, 125, args.join(' '));
      assert.match(r.stderr, /^Error: --(root|runroot) \S+ (is not a directory|is not owned by the current user)/, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  test('a store or run directory of ours that others may write becomes private again before use', () => {
    const root = path.join(sb.dir, 'open-root');
    const run = path.join(sb.dir, 'open-run');
    fs.mkdirSync(root, { mode: 0o777 });
    fs.mkdirSync(run, { mode: 0o777 });
    fs.chmodSync(root, 0o777);
    fs.chmodSync(run, 0o777);
    sb.ok(['--root', root, '--runroot', run, 'pull', '-q', 'busybox']);
    sb.ok(['--root', root, '--runroot', run, 'run', '--rm', 'busybox', 'true']);
    assert.equal(fs.statSync(root).mode & 0o777, 0o700);
    assert.equal(fs.statSync(run).mode & 0o777, 0o700);
  });

  test('--env-file anywhere after the verb is tsctr\'s or the container\'s, never Node\'s', () => {
    assert.equal(sb.ok(['run', '--rm', 'busybox', 'echo', '--env-file', 'x']), '--env-file x\n');
    assert.equal(sb.ok(['run', '--rm', 'busybox', 'echo', '--env-file=y', '--env-file-if-exists=z']), '--env-file=y --env-file-if-exists=z\n');
    const missing = sb.run(['run', '--rm', '--env-file', path.join(sb.dir, 'missing'), 'busybox', 'true']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /^Error: open \S+missing: no such file or directory\n$/);
    const file = path.join(sb.dir, 'env');
    fs.writeFileSync(file, 'A=from-file\n# comment\nB\n');
    assert.equal(sb.ok(['run', '--rm', '--env-file', file, 'busybox', 'sh', '-c', 'echo $A']), 'from-file\n');
    assert.equal(sb.ok(['run', '--rm', `--env-file=${file}`, 'busybox', 'sh', '-c', 'echo $A']), 'from-file\n');
  });

  const oneLine = (r: { code: number; stderr: string }, msg: RegExp, what: string, code = 125) => {
    assert.equal(r.code, code, `${what}: exit ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, msg, what);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${what}: ${r.stderr}`);
  };

  test('bad run flags: one Error line naming the real problem, 125, nothing created', () => {
    const before = sb.ok(['ps', '-aq']);
    const ports = Array.from({ length: 300 }, (_, i) => ['-p', `127.0.0.1:${20000 + i}:80`]).flat();
    for (const [args, msg] of [
      [['--tmpfs', '/x:bogus=1'], /^Error: invalid tmpfs option "bogus=1"/],
      [['--stop-signal', 'BOGUS'], /^Error: invalid signal: BOGUS$/m],
      [ports, /^Error: too many published ports \(300\)/],
      [['-v', `${sb.dir}:/proc`], /^Error: invalid mount specification .*\/proc cannot be mounted over/],
      [['-v', `${sb.dir}:/sys/kernel`], /^Error: invalid mount specification .*\/sys\/kernel cannot be mounted over/],
      [['-v', `${sb.dir}:/dev`], /^Error: invalid mount specification .*\/dev cannot be mounted over/],
      [['--tmpfs', '/proc'], /^Error: invalid mount specification .*\/proc cannot be mounted over/],
    ] as [string[], RegExp][]) {
      for (const verb of ['run', 'create']) oneLine(sb.run([verb, '--rm', ...args, 'busybox', 'true'].filter((a) => verb === 'run' || a !== '--rm')), msg, `${verb} ${args.slice(0, 2).join(' ')}`);
    }
    assert.equal(sb.ok(['ps', '-aq']), before);
  });

  test('a mount the kernel refuses is reported as such, not as the network helper that lost its container', () => {
    const r = sb.run(['run', '--rm', '-v', `${sb.dir}:/bin/sh/x`, 'busybox', 'true']);
    oneLine(r, /^Error: resolve \/bin\/sh\/x in rootfs: not a directory$/m, 'bind under a file');
    assert.doesNotMatch(r.stderr, /slirp4netns/);
  });

  test('--format with a field the rows do not have fails as Go templates do', () => {
    sb.ok(['run', '-d', '--name', 'fmt', 'busybox', 'sleep', '100']);
    oneLine(sb.run(['ps', '--format', '{{.Nope}}']), /^Error: template: :1:2: executing "" at <\.Nope>: can't evaluate field Nope/, 'ps');
    oneLine(sb.run(['images', '--format', 'table {{.Repository}} {{.Nope}}']), /can't evaluate field Nope/, 'images');
    assert.equal(sb.ok(['ps', '--format', '{{.Names}}']), 'fmt\n');
    sb.ok(['rm', '-f', 'fmt']);
  });

  test('a containers.json of the wrong shape is one clear error, not a TypeError', () => {
    const root = path.join(sb.dir, 'shape-root');
    fs.mkdirSync(root, { mode: 0o700 });
    for (const doc of [{ schemaVersion: 1, containers: [] }, { schemaVersion: 1, containers: { abc: { id: 'abc' } } }, { schemaVersion: 1, containers: { abc: 7 } }]) {
      fs.writeFileSync(path.join(root, 'containers.json'), JSON.stringify(doc));
      for (const args of [['ps', '-a'], ['rm', '-f', 'abc'], ['inspect', 'abc']]) {
        // (rm is a verb over names: 1, as docker's)
        oneLine(sb.run(['--root', root, ...args]), /^Error: store file \S+containers\.json is corrupt \(/, `${JSON.stringify(doc)} ${args[0]}`, args[0] === 'rm' ? 1 : 125);
      }
    }
  });

  test('a shim that cannot be started: one Error line, and run --rm leaves no record', () => {
    const before = sb.ok(['ps', '-aq']);
    for (const d of [[], ['-d']]) {
      const r = sb.run(['run', '--rm', ...d, 'busybox', 'true'], { env: { TSCTR_SHIM: path.join(sb.dir, 'no-such-shim') } });
      oneLine(r, /^Error: cannot start the container monitor \S+no-such-shim: /, `run ${d.join(' ')}`);
    }
    assert.equal(sb.ok(['ps', '-aq']), before);
  });

  test('an attached run --rm whose CLI is SIGKILLed is still removed when the container exits (by its monitor)', async () => {
    const child = sb.runAsync(['run', '--rm', '--name', 'orphan', 'busybox', 'sleep', '1']);
    for (let i = 0; i < 100 && !sb.ok(['ps', '-q', '--filter', 'name=orphan']).trim(); i++) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await child;
    for (let i = 0; i < 200 && sb.ok(['ps', '-aq', '--filter', 'name=orphan']).trim(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(sb.ok(['ps', '-aq', '--filter', 'name=orphan']), '', 'the record is gone');
  });
});

