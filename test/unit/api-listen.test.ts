/**
 * src/api/listen.ts without a network: the tcp:// URI's grammar and docker's defaults, and the
 * policy that lets no unauthenticated TCP listener start without --insecure-tcp.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseTcpUri, tcpListen, tcpUrl } from '../../src/api/listen.js';

const none = { tls: false, tlsverify: false, insecureTcp: false };

test('tcp:// URIs: host and port, IPv6 in brackets, docker\'s defaults (127.0.0.1; 2376 with TLS, 2375 without)', () => {
  assert.deepEqual(parseTcpUri('tcp://127.0.0.1:2376', true), { host: '127.0.0.1', port: 2376 });
  assert.deepEqual(parseTcpUri('tcp://0.0.0.0:8080/', false), { host: '0.0.0.0', port: 8080 });
  assert.deepEqual(parseTcpUri('tcp://[::1]:9000', true), { host: '::1', port: 9000 });
  assert.deepEqual(parseTcpUri('tcp://:7000', true), { host: '127.0.0.1', port: 7000 });
  assert.deepEqual(parseTcpUri('tcp://localhost', true), { host: 'localhost', port: 2376 });
  assert.deepEqual(parseTcpUri('tcp://127.0.0.1', false), { host: '127.0.0.1', port: 2375 });
  for (const bad of ['tcp://127.0.0.1:0', 'tcp://127.0.0.1:65536', 'tcp://1.2.3.4:x', 'tcp://a:1/path', 'tcp://[zz]:1', 'tcp://::1:80']) {
    assert.throws(() => parseTcpUri(bad, true), /invalid/, bad);
  }
  assert.equal(tcpUrl({ host: '::1', port: 1 }), 'tcp://[::1]:1');
  assert.equal(tcpUrl({ host: '127.0.0.1', port: 1 }), 'tcp://127.0.0.1:1');
});

test('no TLS client verification and no --insecure-tcp: refused, before any file is read', () => {
  assert.throws(() => tcpListen('tcp://127.0.0.1:1', none), /^TsctrError: tcp:\/\/127\.0\.0\.1:1 needs --tlsverify/);
  // --tls alone encrypts but lets anyone in: as open as plain TCP.
  assert.throws(() => tcpListen('tcp://127.0.0.1:1', { ...none, tls: true, tlscert: '/nonexistent', tlskey: '/nonexistent' }), /needs --tlsverify .* or --insecure-tcp/);
  assert.throws(() => tcpListen('tcp://127.0.0.1:1', { ...none, tlsverify: true, insecureTcp: true }), /contradict/);
});

test('--insecure-tcp alone: plain, with a warning naming the address', () => {
  const l = tcpListen('tcp://127.0.0.1:1234', { ...none, insecureTcp: true });
  assert.equal(l.tls, undefined);
  assert.deepEqual(l.address, { host: '127.0.0.1', port: 1234 });
  assert.equal(l.warnings.length, 1);
  assert.match(l.warnings[0]!, /tcp:\/\/127\.0\.0\.1:1234 without TLS \(--insecure-tcp\): anyone who can connect controls your containers/);
});

test('the TLS files: missing, not a file, a key others can read, not PEM; defaults from DOCKER_CERT_PATH', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsctr-listen-'));
  try {
    const f = (n: string, text: string, mode = 0o600) => {
      fs.writeFileSync(path.join(dir, n), text, { mode });
      fs.chmodSync(path.join(dir, n), mode);
      return path.join(dir, n);
    };
    const cert = f('cert.pem', 'not a certificate', 0o644);
    const verify = { ...none, tlsverify: true, tlscacert: cert, tlscert: cert };
    assert.throws(() => tcpListen('tcp://127.0.0.1:1', { ...verify, tlskey: path.join(dir, 'nope') }), /^TsctrError: --tlskey .*nope: no such file$/);
    assert.throws(() => tcpListen('tcp://127.0.0.1:1', { ...verify, tlskey: dir }), /--tlskey .*: not a regular file/);
    assert.throws(() => tcpListen('tcp://127.0.0.1:1', { ...verify, tlskey: f('loose.pem', 'k', 0o604) }), /--tlskey .*loose\.pem is accessible by others \(mode 0604\): chmod 600 it/);
    assert.throws(() => tcpListen('tcp://127.0.0.1:1', { ...verify, tlskey: f('key.pem', 'k', 0o400) }), /--tlscert .*cert\.pem: not a PEM certificate/);
    const saved = process.env.DOCKER_CERT_PATH;
    process.env.DOCKER_CERT_PATH = dir;
    try {
      // ca.pem is looked for beside cert.pem and key.pem
      assert.throws(() => tcpListen('tcp://127.0.0.1:1', { ...none, tlsverify: true }), new RegExp(`--tlscacert ${dir}/ca\\.pem: no such file`));
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CERT_PATH;
      else process.env.DOCKER_CERT_PATH = saved;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
