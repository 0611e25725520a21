/** The single executable stands alone: copied to an empty directory, run with an empty environment. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN } from '../support/harness.js';

const dir = fs.mkdtempSync('/var/tmp/tsctr-exe-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('dist/tsctr runs from an empty directory with env -i (no node, no PATH), FFI and shim included', () => {
  const exe = path.join(dir, 'tsctr');
  fs.copyFileSync(BIN, exe);
  fs.chmodSync(exe, 0o755);
  const run = (...args: string[]) => spawnSync('env', ['-i', `HOME=${dir}`, exe, ...args], { cwd: dir, encoding: 'utf8' });
  const v = run('--version');
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /^tsctr version \d+\.\d+\.\d+\n$/);
  // tag takes the store lock (flock through koffi) before it looks the image up: the FFI's native
  // module must load from inside the executable.
  const p = run('tag', 'nosuchimage', 'other');
  assert.equal(p.status, 125, p.stderr);
  assert.equal(p.stderr, 'Error: No such image: nosuchimage\n');
  assert.ok(fs.readdirSync(path.join(dir, '.cache', 'tsctr')).some((f) => f.endsWith('koffi.node')));
  assert.ok(fs.statSync(path.join(dir, '.local', 'share', 'tsctr')).mode & 0o700);
  assert.equal(fs.statSync(path.join(dir, '.local', 'share', 'tsctr')).mode & 0o077, 0, 'the store is private (0700)');
  const help = run('run', '--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /\$ tsctr run -d -p 8080:80 nginx/);
});
