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
});

