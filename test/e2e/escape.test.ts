/**
 * The container is hostile: its root (the user's own uid) attacks what tsctr runs beside it, as
 * CVE-2019-5736 attacked runc's exec helper: read the helper's environment, take a handle on its
 * executable, look at its descriptors. A static watcher compiled now does that from inside.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Sandbox } from '../support/harness.js';
import { compileProbe } from '../support/probes.js';

describe('escape attempts from inside the container', () => {
  const sb = new Sandbox('escape');
  const probeDir = path.join(sb.dir, 'probe');
  before(() => {
    fs.mkdirSync(probeDir);
    compileProbe('exec-watcher', probeDir);
    sb.ok(['pull', '-q', 'busybox']);
  });
  after(() => sb.dispose());

  test('25 execs: the container never reads the exec helper\'s environment, executable or descriptors', () => {
    const secret = `TSCTR_SECRET=host-token-${process.pid}`;
    sb.ok(['run', '-d', '--name', 'target', '-v', `${probeDir}:/probe:ro`, 'busybox', '/probe/exec-watcher', '12', 'TSCTR_SECRET']);
    for (let i = 0; i < 25; i++) {
      const r = sb.run(['exec', 'target', 'true'], { env: { TSCTR_SECRET: secret.split('=')[1] } });
      assert.equal(r.code, 0, r.stderr);
    }
    for (let i = 0; i < 25; i++) assert.equal(sb.run(['exec', '-t', 'target', 'true'], { env: { TSCTR_SECRET: 'x' } }).code, 0);
    assert.equal(sb.ok(['wait', 'target']).trim(), '0');
    const out = sb.ok(['logs', 'target']);
    assert.match(out, /^done \d+$/m, 'the watcher ran to its end');
    const found = out.split('\n').filter((l) => /^(environ|exe|fd) /.test(l));
    assert.deepEqual(found, [], 'what the container got hold of');
  });

  test('--init runs from a sealed copy: the container cannot write it, and no host file is mounted in for it', () => {
    const out = sb.ok(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'readlink /proc/1/exe; echo x > /proc/1/exe && echo WRITTEN; grep -c tsctr-init /proc/mounts; true']);
    assert.match(out, /^\/memfd:tsctr-shim/m);
    assert.doesNotMatch(out, /WRITTEN/);
    assert.match(out, /^0$/m, 'nothing of the host is bind-mounted for the init');
  });

  test('a pod\'s infra runs pause from the sealed copy too: nothing of the host mounted in', () => {
    sb.ok(['pod', 'create', '--name', 'pp']);
    const infra = JSON.parse(sb.ok(['inspect', 'pp-infra']))[0] as { State: { Pid: number }; Mounts: unknown[]; HostConfig: { Binds: string[] } };
    assert.deepEqual(infra.HostConfig.Binds, []);
    assert.match(fs.readlinkSync(`/proc/${infra.State.Pid}/exe`), /^\/memfd:tsctr-shim/);
    sb.ok(['pod', 'rm', '-f', 'pp']);
  });

  test('a tampered cached shim (chmod, truncated) is replaced, not executed, and never a stack trace', () => {
    const cache = path.join(sb.dir, 'cache');
    const env = { XDG_CACHE_HOME: cache };
    sb.ok(['run', '--rm', 'busybox', 'true'], { env });
    const shim = fs.readdirSync(path.join(cache, 'tsctr')).find((f) => f.endsWith('-tsctr-shim'))!;
    const file = path.join(cache, 'tsctr', shim);
    assert.equal(fs.statSync(file).mode & 0o777, 0o555, 'nobody may write the cached shim');
    const size = fs.statSync(file).size;
    for (const tamper of [
      () => fs.chmodSync(file, 0o644),
      () => {
        fs.chmodSync(file, 0o755);
        fs.writeFileSync(file, '#!/bin/sh\necho pwned\n');
      },
    ]) {
      tamper();
      const r = sb.run(['run', '--rm', 'busybox', 'echo', 'genuine'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'genuine\n');
      assert.doesNotMatch(r.stderr, /pwned|at .*\.js|node:internal/);
      assert.equal(fs.statSync(file).mode & 0o777, 0o555);
      assert.equal(fs.statSync(file).size, size);
    }
  });
});
