/**
 * The remote client's inputs (src/remote/target.ts, the global flags in commands/verbs.ts) and its
 * pure pieces: URLs and TLS flags checked before anything connects (nothing that reaches ssh's
 * command line can be an option to it), docker's stream frames, and API JSON → the engine's rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultCerts, parseTarget, sshArgv } from '../../src/remote/target.js';
import { demux } from '../../src/remote/frames.js';
import { containerRow, imageRows } from '../../src/remote/rows.js';
import { errorOf } from '../../src/remote/http.js';
import { splitCommandLine } from '../../src/commands/verbs.js';
import { ConflictError, NotFoundError, TsctrError } from '../../src/errors.js';

test('ssh:// URLs: user, host, port, socket; the ssh command line docker runs', () => {
  const t = parseTarget('ssh://me@example.org:2222/run/user/1000/tsctr/tsctr.sock');
  assert.deepEqual(t, { kind: 'ssh', user: 'me', host: 'example.org', port: 2222, socket: '/run/user/1000/tsctr/tsctr.sock', url: 'ssh://me@example.org:2222/run/user/1000/tsctr/tsctr.sock' });
  assert.deepEqual(sshArgv(t as Extract<typeof t, { kind: 'ssh' }>), ['-T', '-o', 'BatchMode=yes', '-o', 'ServerAliveInterval=15', '-p', '2222', '--', 'me@example.org', 'tsctr', 'system', 'dial-stdio', '--socket', '/run/user/1000/tsctr/tsctr.sock']);
  const plain = parseTarget('ssh://host');
  assert.deepEqual(sshArgv(plain as Extract<typeof plain, { kind: 'ssh' }>).slice(-5), ['--', 'host', 'tsctr', 'system', 'dial-stdio']);
  assert.equal((parseTarget('ssh://[::1]:22') as { host: string }).host, '::1');
});

test('URLs that could smuggle options or shell words into ssh are refused', () => {
  for (const url of ['ssh://-oProxyCommand=sh', 'ssh://me@-x', 'ssh://-me@host', 'ssh://me@host/sock;rm -rf', 'ssh://me@host/$(id)', 'ssh://a b@host', 'ssh://host:0', 'ssh://host:99999', 'ssh://', 'ssh://@host']) {
    assert.throws(() => parseTarget(url), (e: unknown) => e instanceof TsctrError && e.exitCode === 125 && e.message.startsWith(`invalid remote URL "${url}"`), url);
  }
});

test('unix:// and tcp://: tcp needs TLS or an explicit --insecure-tcp; TLS flags belong to tcp', () => {
  assert.deepEqual(parseTarget('unix:///run/x.sock'), { kind: 'unix', path: '/run/x.sock', url: 'unix:///run/x.sock' });
  assert.throws(() => parseTarget('unix://rel.sock'), /absolute path/);
  assert.throws(() => parseTarget('tcp://h:2376'), /needs TLS/);
  assert.deepEqual(parseTarget('tcp://h:2375', { insecureTcp: true }), { kind: 'tcp', host: 'h', port: 2375, url: 'tcp://h:2375' });
  assert.deepEqual(parseTarget('tcp://h:2376', { tlsverify: true, ca: 'ca', cert: 'c', key: 'k' }), { kind: 'tcp', host: 'h', port: 2376, url: 'tcp://h:2376', tls: { verify: true, ca: 'ca', cert: 'c', key: 'k' } });
  assert.throws(() => parseTarget('tcp://h:2376', { tlsverify: true }), /--tlsverify needs --tlscacert/);
  assert.throws(() => parseTarget('tcp://h:2376', { tlsverify: true, ca: 'ca', cert: 'c' }), /go together/);
  assert.throws(() => parseTarget('unix:///x', { tlsverify: true }), /tcp:\/\/ only/);
  assert.throws(() => parseTarget('http://h:1'), /unknown scheme "http"/);
  assert.throws(() => parseTarget('h:1'), /use ssh:/);
});

test("--tlsverify's defaults are docker's: ca.pem, cert.pem, key.pem in the cert directory", () => {
  const have = new Set(['/c/ca.pem', '/c/cert.pem', '/c/key.pem']);
  assert.deepEqual(defaultCerts({ tlsverify: true }, '/c/', (f) => have.has(f)), { tlsverify: true, ca: '/c/ca.pem', cert: '/c/cert.pem', key: '/c/key.pem' });
  assert.deepEqual(defaultCerts({ tlsverify: true, ca: '/mine.pem' }, '/c', (f) => have.has(f)), { tlsverify: true, ca: '/mine.pem', cert: '/c/cert.pem', key: '/c/key.pem' });
  assert.deepEqual(defaultCerts({}, '/c', () => true), {}, 'without --tlsverify: nothing');
});

test('the global flags: --url and the TLS flags before the verb, booleans with or without =value', () => {
  const l = splitCommandLine(['--url', 'ssh://h', '--tlsverify', '--tlscacert=/ca', '--insecure-tcp=false', 'ps', '-a']);
  assert.deepEqual(l.globals, [['--url', 'ssh://h'], ['--tlsverify', 'true'], ['--tlscacert', '/ca'], ['--insecure-tcp', 'false']]);
  assert.deepEqual(l.path, ['ps']);
  assert.deepEqual(l.rest, ['-a']);
  assert.equal(splitCommandLine(['--url']).missingValue, '--url');
  // After the verb they are the command's: system service has server flags of these names.
  assert.deepEqual(splitCommandLine(['system', 'service', '--tlsverify', 'tcp://h:1']).globals, []);
});

test("docker's frames: split across chunks, stdout and stderr; raw streams pass as they come", async () => {
  const frame = (n: number, s: string) => {
    const h = Buffer.alloc(8);
    h[0] = n;
    h.writeUInt32BE(Buffer.byteLength(s), 4);
    return Buffer.concat([h, Buffer.from(s)]);
  };
  const all = Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, 'é\n')]);
  async function* chunks() {
    for (let i = 0; i < all.length; i += 3) yield all.subarray(i, i + 3);
  }
  const got: string[] = [];
  for await (const batch of demux(chunks(), false)) for (const f of batch) got.push(`${f.stream}:${f.data.toString()}`);
  assert.deepEqual(got, ['stdout:out\n', 'stderr:err\n', 'stdout:é\n']);
  const raw: string[] = [];
  for await (const batch of demux(chunks(), true)) for (const f of batch) raw.push(f.stream);
  assert.ok(raw.every((s) => s === 'stdout'));
});

test("the API's error answers become the engine's typed errors, with the server's message", () => {
  assert.ok(errorOf(404, '{"message":"No such container: x"}') instanceof NotFoundError);
  assert.equal(errorOf(404, '{"message":"No such container: x"}').message, 'No such container: x');
  assert.ok(errorOf(409, '{"message":"in use"}') instanceof ConflictError);
  assert.equal(errorOf(500, 'plain text\n').message, 'plain text');
  assert.equal(errorOf(502, '').message, 'the remote engine answered 502 Bad Gateway');
});

test("ps and images rows from the API's JSON, as the local listing makes them", () => {
  const now = Date.parse('2026-01-01T00:01:00Z');
  const row = containerRow(
    { Status: 'Up 59 seconds', State: 'running' },
    {
      Id: 'a'.repeat(64), Created: '2026-01-01T00:00:00.5Z', Path: 'sh', Args: ['-c', 'echo hi; sleep 100'], Name: '/web',
      State: { Status: 'running' }, Config: { Image: 'busybox', Labels: { a: 'b' } }, HostConfig: { NetworkMode: 'slirp4netns' },
      NetworkSettings: { Ports: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '443/tcp': null }, Networks: {} },
      Mounts: [{ Type: 'volume', Name: 'v', Destination: '/v' }, { Type: 'bind', Destination: '/b' }],
    },
    {},
    now,
  );
  assert.deepEqual(row, {
    Command: '"sh -c \'echo hi; sle…"', CreatedAt: '2026-01-01 00:00:00 +0000 UTC', ID: 'aaaaaaaaaaaa', Image: 'busybox', Labels: 'a=b',
    LocalVolumes: '1', Mounts: 'v,/b', Names: 'web', Networks: 'slirp4netns', Ports: '127.0.0.1:8080->80/tcp, 443/tcp',
    RunningFor: '59 seconds ago', Size: 'N/A', State: 'running', Status: 'Up 59 seconds',
  });
  const imgs = imageRows({ Id: `sha256:${'b'.repeat(64)}`, RepoTags: ['busybox:latest', 'example.org/x/y:1'], RepoDigests: [`busybox@sha256:${'c'.repeat(64)}`], Created: '2025-12-31T00:01:00Z', Size: 2_130_000 }, {}, now);
  assert.deepEqual(imgs.map((r) => [r.Repository, r.Tag, r.ID, r.Digest, r.Size, r.CreatedSince]), [
    ['busybox', 'latest', 'bbbbbbbbbbbb', `sha256:${'c'.repeat(64)}`, '2.13MB', '24 hours ago'],
    ['example.org/x/y', '1', 'bbbbbbbbbbbb', '<none>', '2.13MB', '24 hours ago'],
  ]);
});
