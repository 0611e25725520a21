/**
 * Files of subordinate ids handled by the CLI itself, as the user, with the shim's namespace
 * helper doing what needs those ids: a layer whose root belongs to another id is moved into the
 * store; cp into a created container gives the directories it copies up the image's owners and
 * writes into directories of other ids; a failing copy is reported.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { useSandbox } from '../support/hooks.js';

const sb = useSandbox('ns-owners', { pull: ['busybox'] });

describe('layer roots', () => {
  test("a layer whose './' belongs to another id (1000:1000 755) is imported, its root owned as its files are", () => {
    sb.ok(['create', '--name', 'rootsrc', 'busybox', 'true']);
    const dir = fs.mkdtempSync(`${sb.dir}/root1000-`);
    const tarFile = `${dir}.tar`;
    sb.ok(['export', '-o', tarFile, 'rootsrc']);
    assert.equal(spawnSync('tar', ['-xf', tarFile, '-C', dir]).status, 0);
    fs.chmodSync(dir, 0o755);
    assert.equal(spawnSync('tar', ['-cf', tarFile, '--owner=1000', '--group=1000', '-C', dir, '.']).status, 0);
    sb.ok(['import', tarFile, 'root1000']);
    const diffId = JSON.parse(sb.ok(['image', 'inspect', 'root1000']))[0].RootFS.Layers[0] as string;
    const layer = `${sb.root}/layers/${diffId.slice(7)}`;
    // namespace 1000 is a subordinate id on the host: the same for the root as for /bin
    assert.notEqual(fs.statSync(layer).uid, process.getuid!());
    assert.equal(fs.statSync(layer).uid, fs.statSync(`${layer}/bin`).uid);
    assert.equal(fs.statSync(layer).mode & 0o7777, 0o755);
    assert.equal(sb.ok(['run', '--rm', 'root1000', 'stat', '-c', '%u:%g', '/bin']), '1000:1000\n');
    // and read-only: 555
    fs.chmodSync(dir, 0o555);
    assert.equal(spawnSync('tar', ['-cf', tarFile, '--owner=1000', '--group=1000', '-C', dir, '.']).status, 0);
    fs.chmodSync(dir, 0o755);
    sb.ok(['import', tarFile, 'root555']);
    assert.equal(sb.ok(['run', '--rm', 'root555', 'stat', '-c', '%a', '/']), '555\n');
    sb.ok(['rm', 'rootsrc']);
  });
});

describe('cp into a created container', () => {
  test('into / of an image whose root is 555: written, and / stays 555', () => {
    sb.ok(['create', '--name', 'own3', 'root555', 'sh', '-c', 'cat /top; stat -c "%a" /']);
    const src = fs.mkdtempSync(`${sb.dir}/top-`);
    fs.writeFileSync(`${src}/top`, 'top\n');
    sb.ok(['cp', `${src}/top`, 'own3:/']);
    assert.equal(sb.ok(['start', '-a', 'own3']), 'top\n555\n');
    sb.ok(['rm', 'own3']);
  });

  test('directories of other ids and read-only ones are written into and keep their owner and mode; copied-up ones get the image owner', () => {
    const ctx = fs.mkdtempSync(`${sb.dir}/ctx-`);
    fs.writeFileSync(`${ctx}/Dockerfile`, 'FROM busybox\nRUN mkdir -p /app/deep /ro && chown 1000:1001 /app /app/deep && chmod 750 /app && chmod 555 /ro\n');
    sb.ok(['build', '-q', '-t', 'owners', ctx]);
    const look = 'cat /app/a.txt /app/deep/b /ro/c; stat -c "%u:%g %a %n" /app /app/a.txt /app/deep /app/deep/b /ro /ro/c';
    sb.ok(['create', '--name', 'own1', 'owners', 'sh', '-c', look]);
    const src = fs.mkdtempSync(`${sb.dir}/src-`);
    for (const f of ['a', 'b', 'c']) fs.writeFileSync(`${src}/${f}`, `${f}\n`, { mode: 0o644 });
    sb.ok(['cp', `${src}/a`, 'own1:/app/a.txt']);
    sb.ok(['cp', `${src}/b`, 'own1:/app/deep/']);
    sb.ok(['cp', `${src}/c`, 'own1:/ro/']);
    assert.equal(
      sb.ok(['start', '-a', 'own1']),
      'a\nb\nc\n1000:1001 750 /app\n0:0 644 /app/a.txt\n1000:1001 755 /app/deep\n0:0 644 /app/deep/b\n0:0 555 /ro\n0:0 644 /ro/c\n',
    );
    sb.ok(['rm', 'own1']);
  });

  test('a copy that fails on the host is an error, not exit 0', () => {
    sb.ok(['create', '--name', 'own2', 'busybox', 'true']);
    const src = fs.mkdtempSync(`${sb.dir}/unreadable-`);
    fs.writeFileSync(`${src}/secret`, 'x\n', { mode: 0o000 });
    const r = sb.run(['cp', `${src}/secret`, 'own2:/tmp/']);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /^Error: copying failed: .*secret: Cannot open: Permission denied\n$/);
    sb.ok(['rm', 'own2']);
  });
});
