/**
 * `tsctr system service tcp://…`: the API on TCP only behind TLS client verification (docker's
 * `--tlsverify --tlscacert --tlscert --tlskey`), or plain with an explicit `--insecure-tcp` and a
 * warning. The certificates are made here with openssl (a CA, a server certificate for 127.0.0.1,
 * a client certificate; a second CA and a client certificate it signed). The clients are real: the
 * docker CLI, curl, Node's TLS client. Each refused client is an attack that must fail while the
 * service keeps serving the others.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { Sandbox, freePort } from '../support/harness.js';
import { makeCert as makeCertIn } from '../support/certs.js';
import { assertDockerCli, dockerCli, dockerEnv } from '../support/docker.js';
import { listening, waitServing, type Proc } from '../support/service.js';
import { sleep } from '../support/wait.js';

const sb = new Sandbox('api-tls');
const certs = path.join(sb.dir, 'certs');
const cert = (name: string) => path.join(certs, name);
let port = 0;
let service: Proc;
const extra: Proc[] = [];

/** A P-256 key and a certificate in certs/, self-signed (a CA) or signed by `ca`. */
const makeCert = (name: string, subject: string, ca?: string, ext: string[] = []) => makeCertIn(certs, name, subject, ca, ext);

/** The docker CLI's TLS flags for a client certificate `client` and the CA it trusts. */
const tlsArgs = (client = 'client', ca = 'ca') => ['--tlsverify', '--tlscacert', cert(`${ca}.pem`), '--tlscert', cert(`${client}.pem`), '--tlskey', cert(`${client}-key.pem`)];

const { run: docker, ok: dockerOk } = dockerCli(dockerEnv(sb));

/** docker against the TLS service with the good client certificate. */
const dockerTls = (args: string[], opts: { input?: string } = {}) => docker([...tlsArgs(), '-H', `tcp://127.0.0.1:${port}`, ...args], opts);
const dockerTlsOk = (args: string[], opts: { input?: string } = {}) => dockerOk([...tlsArgs(), '-H', `tcp://127.0.0.1:${port}`, ...args], opts);

/** A TLS handshake and one request with Node's client: the answer, or the error that ended it. */
function tlsRequest(p: number, opts: tls.ConnectionOptions): Promise<{ answer?: string; error?: string }> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: p, ca: fs.readFileSync(cert('ca.pem')), ...opts });
    let answer = '';
    s.on('secureConnect', () => s.write('GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    s.on('data', (d) => (answer += d));
    s.on('error', (e) => resolve({ error: e.message, ...(answer ? { answer } : {}) }));
    s.on('close', () => resolve(answer ? { answer } : { error: 'closed without an answer' }));
  });
}

function serviceArgs(p: number, extraArgs: string[] = [], time = '0'): string[] {
  return ['system', 'service', '--time', time, '--tlsverify', '--tlscacert', cert('ca.pem'), '--tlscert', cert('server.pem'), '--tlskey', cert('server-key.pem'), ...extraArgs, `tcp://127.0.0.1:${p}`];
}

before(async () => {
  assertDockerCli();
  fs.mkdirSync(certs, { mode: 0o700 });
  makeCert('ca', 'tsctr test CA');
  makeCert('server', '127.0.0.1', 'ca', ['subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth']);
  makeCert('client', 'client', 'ca', ['extendedKeyUsage=clientAuth']);
  makeCert('evil-ca', 'tsctr test CA'); // the same name as the real CA, another key
  makeCert('evil', 'client', 'evil-ca', ['extendedKeyUsage=clientAuth']);
  sb.ok(['pull', '-q', 'busybox']);
  port = await freePort();
  service = sb.runAsync(serviceArgs(port));
  await waitServing(service, { port });
});

after(async () => {
  sb.removeContainers();
  for (const s of [service, ...extra]) s?.kill('SIGTERM');
  await Promise.all([service, ...extra]);
  sb.cleanup();
});

describe('docker --tlsverify -H tcp:// through tsctr system service', () => {
  test('run --rm passes the exit code; run -d, ps, logs, exec (with stdin) all over TLS', () => {
    const r = dockerTls(['run', '--rm', 'busybox', 'sh', '-c', 'echo over-tls; exit 5']);
    assert.equal(r.code, 5, r.stderr);
    assert.equal(r.stdout, 'over-tls\n');
    dockerTlsOk(['run', '-d', '--name', 'tlsd', 'busybox', 'sh', '-c', 'echo hello-tls; echo err-tls >&2; sleep 300']);
    assert.match(dockerTlsOk(['ps', '--format', '{{.Names}} {{.Status}}']), /^tlsd Up/m);
    assert.match(sb.ok(['ps', '--format', '{{.Names}}']), /^tlsd$/m, 'in the store tsctr serves');
    const logs = dockerTls(['logs', 'tlsd']);
    assert.equal(logs.stdout, 'hello-tls\n');
    assert.equal(logs.stderr, 'err-tls\n');
    const ex = dockerTls(['exec', 'tlsd', 'sh', '-c', 'echo in-exec; exit 3']);
    assert.equal(ex.code, 3, ex.stderr);
    assert.equal(ex.stdout, 'in-exec\n');
    // stdin through the hijacked TLS connection; the client's end of input (a TLS close_notify, a
    // half-close) must not cut the output that follows it.
    const cat = dockerTls(['exec', '-i', 'tlsd', 'sh', '-c', 'cat; echo after-eof'], { input: 'piped-in\n' });
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, 'piped-in\nafter-eof\n');
    const attached = dockerTls(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'tr a-z A-Z; exit 2'], { input: 'attach-stdin\n' });
    assert.equal(attached.code, 2, attached.stderr);
    assert.equal(attached.stdout, 'ATTACH-STDIN\n');
  });

  test('streams over TLS: logs -f follows until the container exits, stats', () => {
    dockerTlsOk(['run', '-d', '--name', 'follow', 'busybox', 'sh', '-c', 'echo first; sleep 1.5; echo second']);
    const f = dockerTls(['logs', '-f', 'follow']);
    assert.equal(f.code, 0, f.stderr);
    assert.equal(f.stdout, 'first\nsecond\n');
    assert.match(dockerTlsOk(['stats', '--no-stream', '--format', '{{.Name}}', 'tlsd']), /^tlsd$/m);
  });

  test('a client without a certificate gets no answer; the service keeps serving', async () => {
    const curl = spawnSync('curl', ['-sS', '--max-time', '10', '--cacert', cert('ca.pem'), `https://127.0.0.1:${port}/_ping`], { encoding: 'utf8' });
    assert.notEqual(curl.status, 0);
    assert.doesNotMatch(curl.stdout, /OK/);
    const node = await tlsRequest(port, {});
    assert.equal(node.answer, undefined, 'no HTTP answer without a client certificate');
    const noCert = docker(['--tlsverify', '--tlscacert', cert('ca.pem'), '-H', `tcp://127.0.0.1:${port}`, 'ps']);
    assert.notEqual(noCert.code, 0);
    assert.doesNotMatch(noCert.stdout, /CONTAINER ID/);
    // Plain HTTP at the TLS port is no way in either.
    const plain = spawnSync('curl', ['-sS', '--max-time', '10', `http://127.0.0.1:${port}/_ping`], { encoding: 'utf8' });
    assert.notEqual(plain.stdout, 'OK');
    assert.match(dockerTlsOk(['ps', '--format', '{{.Names}}']), /^tlsd$/m);
  });

  test('a client certificate signed by another CA (with the same name) is refused', async () => {
    const curl = spawnSync('curl', ['-sS', '--max-time', '10', '--cacert', cert('ca.pem'), '--cert', cert('evil.pem'), '--key', cert('evil-key.pem'), `https://127.0.0.1:${port}/_ping`], { encoding: 'utf8' });
    assert.notEqual(curl.status, 0);
    assert.doesNotMatch(curl.stdout, /OK/);
    const node = await tlsRequest(port, { cert: fs.readFileSync(cert('evil.pem')), key: fs.readFileSync(cert('evil-key.pem')) });
    assert.equal(node.answer, undefined, node.error);
    const evil = docker([...tlsArgs('evil'), '-H', `tcp://127.0.0.1:${port}`, 'run', '--rm', 'busybox', 'true']);
    assert.notEqual(evil.code, 0);
    // The real client certificate works, before and after.
    const good = await tlsRequest(port, { cert: fs.readFileSync(cert('client.pem')), key: fs.readFileSync(cert('client-key.pem')) });
    assert.match(good.answer ?? '', /^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nOK$/);
    assert.equal(dockerTlsOk(['version', '--format', '{{.Server.APIVersion}}']).trim(), '1.41');
  });

  test('tsctr info lists the TCP service and how it is guarded', () => {
    const info = JSON.parse(sb.ok(['info', '--format', 'json'])) as { service?: { tcp?: string[] } };
    assert.ok(info.service?.tcp?.includes(`tcp://127.0.0.1:${port} (tlsverify)`), JSON.stringify(info.service));
  });

  test('it listens on the address given only', async () => {
    assert.equal(await listening(port, '127.0.0.2'), false, '127.0.0.2 is loopback too, but not the address given');
  });

  test('the idle timeout counts a hijacked TLS stream as activity, then exits', async () => {
    const p = await freePort();
    const svc = sb.runAsync(serviceArgs(p, [], '2'));
    extra.push(svc);
    await waitServing(svc, { port: p });
    const env = dockerEnv(sb);
    const run = new Promise<number>((resolve) => {
      const c = spawn('docker', [...tlsArgs(), '-H', `tcp://127.0.0.1:${p}`, 'run', '--rm', 'busybox', 'sh', '-c', 'sleep 5; exit 6'], { env, stdio: 'ignore' });
      c.on('close', (code) => resolve(code ?? 128));
    });
    let exitedEarly = false;
    void svc.then(() => (exitedEarly = true));
    assert.equal(await run, 6, 'the run outlived the 2 s idle time');
    assert.equal(exitedEarly, false);
    const r = await Promise.race([svc, sleep(15_000).then(() => undefined)]);
    assert.ok(r, 'the service exits once idle');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await listening(p), false);
    const info = JSON.parse(sb.ok(['info', '--format', 'json'])) as { service?: { tcp?: string[] } };
    assert.ok(!info.service?.tcp?.some((t) => t.includes(`:${p} `)), 'a service that exited is not listed');
  });
});

describe('docker search through the API (the engine\'s search: the registry\'s catalog)', () => {
  test('names containing the term, --limit, --filter, --format; a registry without a catalog is an error', () => {
    const tag = `tls${Date.now().toString(36)}`;
    for (const repo of ['alpha', 'beta']) sb.ok(['push', '-q', 'busybox', `127.0.0.1:5000/${tag}/${repo}:1`]);
    const out = dockerTlsOk(['search', `127.0.0.1:5000/${tag}`]);
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[0]), [`127.0.0.1:5000/${tag}/alpha`, `127.0.0.1:5000/${tag}/beta`]);
    assert.equal(dockerTlsOk(['search', '--limit', '1', '--format', '{{.Name}} {{.StarCount}}', `127.0.0.1:5000/${tag}`]), `127.0.0.1:5000/${tag}/alpha 0\n`);
    assert.equal(dockerTlsOk(['search', '--format', '{{.Name}}', `127.0.0.1:5000/${tag}/BET`]), `127.0.0.1:5000/${tag}/beta\n`, 'case-insensitive');
    assert.equal(dockerTlsOk(['search', '--filter', 'is-official=true', '--format', '{{.Name}}', `127.0.0.1:5000/${tag}`]), '');
    assert.equal(dockerTlsOk(['search', '--filter', 'stars=0', '--format', '{{.Name}}', `127.0.0.1:5000/${tag}/alpha`]), `127.0.0.1:5000/${tag}/alpha\n`);
    // 127.0.0.1:5003 is the token server: HTTP, but no registry
    const none = dockerTls(['search', '127.0.0.1:5003/busybox']);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /registry 127\.0\.0\.1:5003 does not support searching/);
  });
});

describe('what system service refuses on tcp://', () => {
  test('tcp:// without TLS flags: exit 125, one line, nothing listens', async () => {
    const p = await freePort();
    const r = sb.run(['system', 'service', '--time', '0', `tcp://127.0.0.1:${p}`], { timeout: 20_000 });
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Error: tcp:\/\/127\.0\.0\.1:\d+ needs --tlsverify .*--insecure-tcp.*\n$/);
    assert.equal(await listening(p), false);
  });

  test('a key others can read, a key that is not the certificate\'s, a missing file: exit 125, nothing listens', async () => {
    const p = await freePort();
    const loose = cert('loose-key.pem');
    fs.copyFileSync(cert('server-key.pem'), loose);
    fs.chmodSync(loose, 0o640);
    const cases: [string[], RegExp][] = [
      [['--tlskey', loose], /^Error: --tlskey .*loose-key\.pem is accessible by others \(mode 0640\)/],
      [['--tlskey', cert('client-key.pem')], /^Error: --tlskey .* is not the key of --tlscert/],
      [['--tlscacert', cert('nothing.pem')], /^Error: --tlscacert .*nothing\.pem: no such file\n$/],
      [['--insecure-tcp'], /^Error: --tlsverify and --insecure-tcp contradict/],
    ];
    for (const [args, want] of cases) {
      // Later flags win: each case overrides one of the good ones.
      const r = sb.run(serviceArgs(p, args), { timeout: 20_000 });
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, want);
      assert.equal(r.stderr.split('\n').length, 2, r.stderr);
      assert.equal(await listening(p), false);
    }
  });

  test('TLS flags on a unix socket, and --tls without --tlsverify or --insecure-tcp: exit 125', () => {
    const r = sb.run(['system', 'service', '--tlsverify', `unix://${path.join(sb.dir, 'x.sock')}`]);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Error: .*apply to a tcp:\/\/ URI only\n$/);
    assert.equal(fs.existsSync(path.join(sb.dir, 'x.sock')), false);
    const t = sb.run(['system', 'service', '--tls', '--tlscert', cert('server.pem'), '--tlskey', cert('server-key.pem'), 'tcp://127.0.0.1:1']);
    assert.equal(t.code, 125);
    assert.match(t.stderr, /--insecure-tcp/);
  });
});

describe('warnings', () => {
  test('a --tlscacert bundle of many certificates (the system\'s public CAs, say) is served with a warning', async () => {
    const bundle = cert('bundle.pem');
    fs.writeFileSync(bundle, ['ca', 'evil-ca', 'ca', 'evil-ca'].map((c) => fs.readFileSync(cert(`${c}.pem`), 'utf8')).join(''));
    const p = await freePort();
    const svc = sb.runAsync(serviceArgs(p, ['--tlscacert', bundle], '1'));
    extra.push(svc);
    await waitServing(svc, { port: p });
    const done = await svc;
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stderr, /^WARNING: --tlscacert .*bundle\.pem holds 4 certificates: every client certificate any of them signed gets in; use a CA of your own\n$/);
  });
});

describe('--insecure-tcp', () => {
  test('plain HTTP with docker -H tcp://, and a warning on stderr', async () => {
    const p = await freePort();
    const svc = sb.runAsync(['system', 'service', '--time', '0', '--insecure-tcp', `tcp://127.0.0.1:${p}`]);
    extra.push(svc);
    await waitServing(svc, { port: p });
    const r = docker(['-H', `tcp://127.0.0.1:${p}`, 'run', '--rm', 'busybox', 'sh', '-c', 'echo plain; exit 4']);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, 'plain\n');
    assert.match(docker(['-H', `tcp://127.0.0.1:${p}`, 'ps', '--format', '{{.Names}}']).stdout, /^tlsd$/m);
    svc.kill('SIGTERM');
    const done = await svc;
    assert.match(done.stderr, /^WARNING: serving the API on tcp:\/\/127\.0\.0\.1:\d+ without TLS \(--insecure-tcp\): anyone who can connect controls your containers/);
    assert.equal(done.stderr.split('\n').filter(Boolean).length, 1, done.stderr);
  });

  test('--tls --insecure-tcp: TLS without client certificates, with its own warning', async () => {
    const p = await freePort();
    const svc = sb.runAsync(['system', 'service', '--time', '0', '--tls', '--insecure-tcp', '--tlscert', cert('server.pem'), '--tlskey', cert('server-key.pem'), `tcp://127.0.0.1:${p}`]);
    extra.push(svc);
    await waitServing(svc, { port: p });
    const r = await tlsRequest(p, {});
    assert.match(r.answer ?? '', /\r\n\r\nOK$/, r.error);
    svc.kill('SIGTERM');
    const done = await svc;
    assert.match(done.stderr, /^WARNING: serving the API on tcp:\/\/127\.0\.0\.1:\d+ with TLS but without client verification/);
  });
});
