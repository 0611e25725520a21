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

test("each command's first run leaves a V8 code cache that later runs use; a damaged one is replaced, not trusted", () => {
  const home = fs.mkdtempSync(path.join(dir, 'home-'));
  const run = (...args: string[]) => spawnSync('env', ['-i', `HOME=${home}`, BIN, ...args], { cwd: dir, encoding: 'utf8' });
  const caches = () => {
    const base = path.join(home, '.cache', 'tsctr');
    const d = fs.readdirSync(base).find((f) => f.endsWith('-code-cache'));
    return d ? path.join(base, d) : undefined;
  };
  assert.equal(run('ps', '-a').status, 0);
  const d = caches();
  assert.ok(d, 'a code cache directory');
  assert.equal(fs.statSync(d).mode & 0o077, 0, 'private');
  const ps = path.join(d, 'ps');
  const first = fs.statSync(ps);
  assert.ok(first.size > 100_000, `a cache with the compiled functions (${first.size} bytes)`);
  // Accepted by the second run: not rewritten.
  const second = run('ps', '-a');
  assert.equal(second.status, 0);
  assert.match(second.stdout, /^CONTAINER ID +IMAGE/);
  assert.equal(fs.statSync(ps).mtimeMs, first.mtimeMs);
  // Garbage in its place: V8 rejects it, the command still works, and a good cache replaces it.
  fs.writeFileSync(ps, Buffer.alloc(first.size, 0x41));
  const third = run('ps', '-a');
  assert.equal(third.status, 0, third.stderr);
  assert.equal(third.stdout, second.stdout);
  assert.equal(third.stderr, '');
  assert.notEqual(fs.readFileSync(ps)[0], 0x41);
  // Damage V8 does not notice (it checks no checksum in release builds): a flipped byte deep in
  // the compiled code, a truncated file, a file others may write. Each is compiled anew, never run.
  const good = fs.readFileSync(ps);
  const damages: [string, () => void][] = [
    ['flipped bytes', () => {
      const bad = Buffer.from(good);
      for (let i = Math.floor(bad.length / 2); i < bad.length; i += 4096) bad[i] = bad[i]! ^ 0xff;
      fs.writeFileSync(ps, bad);
    }],
    ['truncated', () => fs.writeFileSync(ps, good.subarray(0, good.length - 1000))],
    ['group-writable', () => {
      fs.writeFileSync(ps, good);
      fs.chmodSync(ps, 0o664);
    }],
  ];
  for (const [what, damage] of damages) {
    damage();
    const r = run('ps', '-a');
    assert.equal(r.status, 0, `${what}: ${r.stderr}`);
    assert.equal(r.stdout, second.stdout, what);
    assert.equal(fs.statSync(ps).mode & 0o777, 0o600, `${what}: rewritten, private`);
    const st = fs.statSync(ps, { bigint: true });
    assert.equal(fs.readFileSync(`${ps}.stamp`, 'latin1'), `${st.ino} ${st.size} ${st.ctimeNs}`, `${what}: rewritten and stamped anew`);
    assert.ok(st.size > 100_000n, `${what}: a whole cache`);
  }
  // Another command has its own.
  assert.equal(run('images').status, 0);
  assert.ok(fs.existsSync(path.join(d, 'images')));
});
