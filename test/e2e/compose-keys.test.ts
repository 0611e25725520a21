/**
 * Compose keys that map onto run flags (issue 18), checked from inside the containers: file configs
 * and secrets mounted read-only (a secret keeps its owner-only mode), privileged, sysctls, shm_size,
 * logging, and network_mode service: sharing the other service's network namespace.
 */
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Sandbox, REGISTRY, inspectJson } from '../support/harness.js';

const sb = new Sandbox('compose-keys');
const dir = path.join(sb.dir, 'keys');
const file = path.join(dir, 'compose.yaml');
const IMAGE = `${REGISTRY}/library/busybox:latest`;
const exec = (c: string, ...cmd: string[]) => sb.ok(['exec', c, ...cmd]).trim();
let upStderr = '';

before(() => {
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'app.conf'), 'setting=42\n');
  fs.writeFileSync(path.join(dir, 'pw.txt'), 's3cret\n', { mode: 0o600 });
  fs.writeFileSync(
    file,
    `name: keys
services:
  app:
    image: ${IMAGE}
    command: ["sleep", "300"]
    privileged: true
    sysctls:
      net.ipv4.ip_unprivileged_port_start: "443"
    shm_size: 32m
    logging:
      driver: json-file
      options: { max-size: 1m, max-file: "2" }
    configs:
      - cfg
      - { source: cfg, target: /etc/app.conf }
    secrets: [pw, token]
  side:
    image: ${IMAGE}
    command: ["sleep", "300"]
    network_mode: service:app
    configs: [inline]
configs:
  cfg: { file: ./app.conf }
  inline: { content: "inline-config" }
secrets:
  pw: { file: ./pw.txt }
  token: { environment: TOKEN }
`,
  );
});
after(() => {
  sb.run(['compose', '-f', file, 'down', '-t', '1']);
  sb.dispose();
});

describe('compose keys applied', () => {
  test('up starts both services and warns about none of these keys', () => {
    const r = sb.run(['compose', '-f', file, 'up', '-d'], { timeout: 120_000, env: { TOKEN: 't0k3n' } });
    assert.equal(r.code, 0, r.stderr);
    upStderr = r.stderr;
    assert.doesNotMatch(upStderr, /privileged|sysctls|shm_size|logging|configs|secrets|network_mode/, upStderr);
  });

  test('configs at /<name> and at their target, the secret at /run/secrets/<name>, all read-only', () => {
    assert.equal(exec('keys-app-1', 'cat', '/cfg'), 'setting=42');
    assert.equal(exec('keys-app-1', 'cat', '/etc/app.conf'), 'setting=42');
    assert.equal(exec('keys-app-1', 'cat', '/run/secrets/pw'), 's3cret');
    assert.equal(exec('keys-app-1', 'stat', '-c', '%a', '/run/secrets/pw'), '600');
    const w = sb.run(['exec', 'keys-app-1', 'sh', '-c', 'echo x > /run/secrets/pw']);
    assert.notEqual(w.code, 0, 'the secret is writable');
    assert.equal(fs.readFileSync(path.join(dir, 'pw.txt'), 'utf8'), 's3cret\n');
  });

  test('content: and environment: sources: written owner-only under the data root, mounted read-only', () => {
    assert.equal(exec('keys-side-1', 'cat', '/inline'), 'inline-config');
    assert.equal(exec('keys-app-1', 'cat', '/run/secrets/token'), 't0k3n');
    const written = path.join(sb.root, 'compose-files', 'keys', 'secrets-token');
    // docker compose's default mode 0444 (compose-keys2.test.ts); the 0700 directory keeps others out.
    assert.equal(fs.statSync(written).mode & 0o777, 0o444);
    assert.equal(fs.statSync(path.dirname(written)).mode & 0o777, 0o700);
    assert.notEqual(sb.run(['exec', 'keys-app-1', 'sh', '-c', 'echo x > /run/secrets/token']).code, 0, 'the secret is writable');
  });

  test('privileged: every capability; the other service has fewer', () => {
    const capEff = (c: string) => /CapEff:\s+(\w+)/.exec(exec(c, 'cat', '/proc/self/status'))?.[1];
    const priv = capEff('keys-app-1');
    assert.ok(priv && BigInt(`0x${priv}`) >= 0x1ffffffffffn, `CapEff ${priv}`);
    assert.notEqual(capEff('keys-side-1'), priv);
  });

  test('sysctls, shm_size and logging as given', () => {
    assert.equal(exec('keys-app-1', 'cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start'), '443');
    assert.match(exec('keys-app-1', 'df', '-k', '/dev/shm'), /\s32768\s/);
    const hc = inspectJson<{ HostConfig: { LogConfig: { Type: string; Config: Record<string, string> } } }>(sb, 'keys-app-1').HostConfig.LogConfig;
    assert.equal(hc.Type, 'json-file');
    assert.equal(hc.Config['max-size'], '1m');
  });

  test('network_mode service:app shares app\'s network namespace', () => {
    assert.equal(exec('keys-side-1', 'readlink', '/proc/self/ns/net'), exec('keys-app-1', 'readlink', '/proc/self/ns/net'));
    assert.equal(exec('keys-side-1', 'cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start'), '443');
  });

  test('down removes the written configs and secrets', () => {
    sb.ok(['compose', '-f', file, 'down', '-t', '1']);
    assert.equal(fs.existsSync(path.join(sb.root, 'compose-files', 'keys')), false);
  });
});
