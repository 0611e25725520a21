/**
 * The tsctr CLI as a remote client (`--url`, TSCTR_HOST): the common verbs drive another machine's
 * `tsctr system service` through the Docker Engine API and print what the local command prints for
 * the same objects. The "other machine" is this one over real transports: Debian's sshd on
 * 127.0.0.1 (ssh://, running `tsctr system dial-stdio` on the remote PATH) and the service's unix
 * socket (unix://), both serving the sandbox's store, which the local commands read directly.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, Sandbox, freePort } from '../support/harness.js';
import { makeCert } from '../support/certs.js';
import { getBodyOrEmpty } from '../support/http.js';
import { inScript } from '../support/pty.js';
import { startService, waitServing, type Service } from '../support/service.js';
import { haveSshd, startSshd, stopServices, type Sshd } from '../support/sshd.js';

const sb = new Sandbox('remote-cli');
const sock = path.join(sb.dir, 'api.sock');
let sshd: Sshd | undefined;
let service: Service | undefined;
let sshUrl = '';
const unixUrl = `unix://${sock}`;

/** tsctr as a client: the test's ssh first on PATH. */
function client(args: string[], env: NodeJS.ProcessEnv = {}, input?: string) {
  const r = spawnSync(BIN, args, { env: { ...sb.env, PATH: `${sshd?.cbin ?? ''}:${sb.env.PATH}`, ...env }, encoding: 'utf8', timeout: 120_000, input });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}
const viaSsh = (args: string[]) => client(['--url', sshUrl, ...args]);
const viaUnix = (args: string[]) => client(args, { TSCTR_HOST: unixUrl });

/** Outputs that contain times ("Up 2 seconds") may cross a second between two commands: a few tries. */
function sameOutput(a: () => string, b: () => string, what: string): void {
  let x = '';
  let y = '';
  for (let i = 0; i < 5; i++) {
    x = a();
    y = b();
    if (x === y) return;
  }
  assert.equal(x, y, what);
}

before(async () => {
  sb.ok(['pull', '-q', 'busybox']);
  service = await startService(sb, { url: unixUrl });
  if (haveSshd) {
    // The far side's environment names a remote engine (podman's CONTAINER_HOST, say): dial-stdio
    // and the service it starts serve this machine all the same.
    sshd = await startSshd(sb, undefined, { CONTAINER_HOST: 'unix:///nonexistent/podman.sock' });
    sshUrl = `ssh://${sshd.login}:${sshd.port}`;
  }
});

after(async () => {
  sshd?.stop();
  await service?.stop();
  stopServices(sb);
  sb.dispose();
});

const noSsh = !haveSshd && 'Debian openssh-server is not installed';

test('ssh://: run --rm passes output and the exit code; the container is gone afterwards', { skip: noSsh }, () => {
  const r = viaSsh(['run', '--rm', '--name', 'rr1', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(sb.run(['inspect', 'rr1']).code, 1, '--rm removed it');
});

test('ssh://: run -i sends stdin, run -it works in a terminal', { skip: noSsh }, () => {
  const r = client(['--url', sshUrl, 'run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo done; exit 2'], {}, 'a\nb\n');
  assert.deepEqual([r.code, r.stdout], [2, 'a\nb\ndone\n'], r.stderr);
  // A pseudo-terminal from script(1): the remote shell gets a tty, its exit code comes back.
  const cmd = `${BIN} --url ${sshUrl} run -it --rm busybox sh -c 'test -t 0 && echo tty-yes; read x; echo got-$x; exit 6'`;
  const t = inScript(cmd, { env: { ...sb.env, PATH: `${sshd!.cbin}:${sb.env.PATH}` }, input: 'abc\n', timeout: 60_000 });
  assert.equal(t.status, 6, t.stdout + t.stderr);
  assert.match(t.stdout.replace(/\r/g, ''), /tty-yes\n[\s\S]*got-abc\n/);
});

test('ssh://: run -d -p -e --name, then ps, logs, stop, rm print what the local commands print', { skip: noSsh }, async () => {
  const port = await freePort();
  const r = viaSsh(['run', '-d', '--name', 'web1', '-p', `127.0.0.1:${port}:80`, '-e', 'GREETING=hello remote', 'busybox', 'sh', '-c', 'echo "$GREETING"; echo $GREETING > /tmp/index.html; exec httpd -f -p 80 -h /tmp']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/, '-d prints the full id');
  assert.equal(sb.ok(['inspect', '-f', '{{.Id}}', 'web1']).trim(), r.stdout.trim(), 'made in the store the remote side serves');
  // -p: the port is the remote machine's (here, this one).
  const body = await getBodyOrEmpty(`http://127.0.0.1:${port}/index.html`, { ms: 15_000, every: 200, want: (b) => b.includes('hello remote') });
  assert.equal(body, 'hello remote\n', `the page on port ${port}`);

  const fmt = '{{.ID}}|{{.Image}}|{{.Command}}|{{.Status}}|{{.Ports}}|{{.Names}}|{{.State}}|{{.Labels}}|{{.CreatedAt}}';
  sameOutput(() => viaSsh(['ps', '--format', fmt]).stdout, () => sb.ok(['ps', '--format', fmt]), 'ps --format');
  sameOutput(() => viaSsh(['ps', '-a']).stdout, () => sb.ok(['ps', '-a']), 'ps -a table');
  assert.equal(viaSsh(['ps', '-q', '--filter', 'name=web1']).stdout, sb.ok(['ps', '-q', '--filter', 'name=web1']));
  assert.equal(viaSsh(['logs', 'web1']).stdout, 'hello remote\n');
  assert.equal(viaSsh(['logs', '-t', 'web1']).stdout, sb.ok(['logs', '-t', 'web1']), 'timestamps as the local log has them');

  // exec without stdin: output, exit code, -e/-w, as the local exec
  const ex = viaSsh(['exec', '-e', 'V=x', '-w', '/tmp', 'web1', 'sh', '-c', 'echo $V $(pwd); echo e >&2; exit 5']);
  assert.deepEqual([ex.code, ex.stdout, ex.stderr], [5, 'x /tmp\n', 'e\n']);
  const exLocal = sb.run(['exec', 'web1', 'nosuchcmd']);
  const exRemote = viaSsh(['exec', 'web1', 'nosuchcmd']);
  assert.deepEqual([exRemote.code, exRemote.stderr], [exLocal.code, exLocal.stderr]);
  // -i: stdin up the taken-over connection; its end is a half-close, the output after it still comes
  const exi = client(['--url', sshUrl, 'exec', '-i', 'web1', 'sh', '-c', 'read a b; echo $b $a; exit 4'], {}, 'one two\n');
  assert.deepEqual([exi.code, exi.stdout], [4, 'two one\n'], exi.stderr);

  const stop = viaSsh(['stop', '-t', '1', 'web1']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(stop.stdout, 'web1\n');
  assert.equal(sb.ok(['inspect', '-f', '{{.State.Status}}', 'web1']).trim(), 'exited');
  sameOutput(() => viaSsh(['ps', '-a', '--format', '{{.Names}} {{.Status}}']).stdout, () => sb.ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}']), 'ps -a Names Status');
  const rm = viaSsh(['rm', 'web1']);
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal(rm.stdout, 'web1\n');
  assert.equal(sb.run(['inspect', 'web1']).code, 1);
});

test('TSCTR_HOST=unix://: run, ps, logs -f, stop, rm, images and pull through the socket', async () => {
  assert.equal(viaUnix(['run', '--rm', 'busybox', 'sh', '-c', 'exit 7']).code, 7);
  const d = viaUnix(['run', '-d', '--name', 'u1', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.3; done']);
  assert.equal(d.code, 0, d.stderr);
  // logs -f follows until the container stops.
  const f = viaUnix(['logs', '-f', 'u1']);
  assert.equal(f.code, 0, f.stderr);
  assert.equal(f.stdout, 'line1\nline2\nline3\n');
  sameOutput(() => viaUnix(['ps', '-a', '--format', '{{.Names}} {{.Status}}']).stdout, () => sb.ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}']), 'ps -a');
  assert.equal(viaUnix(['rm', 'u1']).stdout, 'u1\n');
  assert.equal(sb.run(['inspect', 'u1']).code, 1);

  const fmt = '{{.Repository}}|{{.Tag}}|{{.ID}}|{{.Digest}}|{{.Size}}|{{.CreatedAt}}';
  assert.equal(viaUnix(['images', '--format', fmt]).stdout, sb.ok(['images', '--format', fmt]));
  sameOutput(() => viaUnix(['images']).stdout, () => sb.ok(['images']), 'images table');
  const p = viaUnix(['pull', '-q', 'busybox']);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(p.stdout, 'docker.io/library/busybox:latest\n');
  // --url given after the verb, as the other global flags are.
  assert.equal(client(['images', '-q', '--url', unixUrl]).stdout, sb.ok(['images', '-q']));
});

test('TSCTR_HOST=unix://: version, inspect, start, kill; rmi, then run pulls the image it does not find', () => {
  const v = viaUnix(['version']);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /^Client:\n[\s\S]*\n\nServer:\n Version: +\S+\n API version: +1\.41\n/);
  assert.equal(viaUnix(['run', '-d', '--name', 'k1', 'busybox', 'sleep', '300']).code, 0);
  assert.equal(viaUnix(['inspect', '-f', '{{.Name}} {{.State.Status}} {{.Config.Cmd}}', 'k1']).stdout, sb.ok(['inspect', '-f', '{{.Name}} {{.State.Status}} {{.Config.Cmd}}', 'k1']));
  assert.equal(viaUnix(['inspect', '-f', '{{.Id}}', 'busybox']).stdout, sb.ok(['inspect', '-f', '{{.Id}}', 'busybox']), 'an image when no container has the name');
  const k = viaUnix(['kill', '-s', 'KILL', 'k1']);
  assert.deepEqual([k.code, k.stdout], [0, 'k1\n'], k.stderr);
  assert.equal(sb.ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'k1']).trim(), 'exited 137');
  const st = viaUnix(['start', 'k1']);
  assert.deepEqual([st.code, st.stdout], [0, 'k1\n'], st.stderr);
  assert.equal(sb.ok(['inspect', '-f', '{{.State.Status}}', 'k1']).trim(), 'running');
  assert.equal(viaUnix(['rm', '-f', 'k1']).code, 0);
  assert.equal(viaUnix(['rm', '-f', 'k1']).code, 0, 'rm -f of a missing one is no error, as locally');

  const rmi = viaUnix(['rmi', 'busybox']);
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.match(rmi.stdout, /^Untagged: busybox:latest\n/m);
  assert.match(rmi.stdout, /^Deleted: sha256:[0-9a-f]{64}\n/m);
  assert.equal(sb.ok(['images', '-q']), '');
  const run = viaUnix(['run', '--rm', 'busybox', 'echo', 'pulled']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'pulled\n');
  assert.match(run.stderr, /^Unable to find image 'busybox' locally\n/);
  assert.match(sb.ok(['images', '--format', '{{.Repository}}']), /^busybox$/m);
  assert.equal(viaUnix(['run', '--pull', 'never', '--rm', 'nginx', 'true']).code, 125, '--pull never: no pull');
});

test('errors: a missing container, a bad URL, an unreachable engine, a verb that only runs here: one line, exit 125', () => {
  const missing = viaUnix(['logs', 'no-such-ctr']);
  assert.equal(missing.code, 125);
  assert.equal(missing.stderr, 'Error: No such container: no-such-ctr\n');
  for (const url of ['http://x', 'ssh://', 'ssh://-oProxyCommand=x', 'unix://relative', 'tcp://127.0.0.1']) {
    const r = client(['--url', url, 'ps']);
    assert.equal(r.code, 125, url);
    assert.match(r.stderr, /^Error: invalid remote URL "[^"\n]*": [^\n]+\n$/, url);
  }
  const gone = client(['--url', `unix://${sb.dir}/nothing.sock`, 'ps']);
  assert.equal(gone.code, 125);
  assert.match(gone.stderr, /^Error: cannot connect to unix:\/\/\S+nothing\.sock: [^\n]+\n$/);
  const unsupported = client(['build', '.'], { TSCTR_HOST: unixUrl });
  assert.equal(unsupported.code, 125);
  assert.match(unsupported.stderr, /^Error: "build" is not supported with --url \(remote\): [^\n]+\n$/);
  assert.equal(client(['--url', unixUrl, 'volume', 'ls']).code, 125, 'never runs locally instead');
  // plain tcp:// only when asked for, with a warning
  const tcp = client(['--url', 'tcp://127.0.0.1:1', 'ps']);
  assert.equal(tcp.code, 125);
  assert.match(tcp.stderr, /needs TLS/);
});

test('tcp:// with TLS client certificates (--tlsverify, docker\'s flags and defaults); plain tcp only with --insecure-tcp', async () => {
  const dir = path.join(sb.dir, 'certs');
  fs.mkdirSync(dir, { mode: 0o700 });
  makeCert(dir, 'ca', 'remote test CA');
  makeCert(dir, 'server', '127.0.0.1', 'ca', ['subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth']);
  makeCert(dir, 'client', 'client', 'ca', ['extendedKeyUsage=clientAuth']);
  makeCert(dir, 'other-ca', 'remote test CA');
  const c = (n: string) => path.join(dir, n);
  const port = await freePort();
  const plainPort = await freePort();
  const svc = sb.runAsync(['system', 'service', '--time', '0', '--tlsverify', '--tlscacert', c('ca.pem'), '--tlscert', c('server.pem'), '--tlskey', c('server-key.pem'), `tcp://127.0.0.1:${port}`]);
  const plain = sb.runAsync(['system', 'service', '--time', '0', '--insecure-tcp', `tcp://127.0.0.1:${plainPort}`]);
  try {
    await waitServing(svc, { port });
    await waitServing(plain, { port: plainPort });
    const url = `tcp://127.0.0.1:${port}`;
    const tlsFlags = ['--tlsverify', '--tlscacert', c('ca.pem'), '--tlscert', c('client.pem'), '--tlskey', c('client-key.pem')];
    const r = client([...tlsFlags, '--url', url, 'run', '--rm', 'busybox', 'sh', '-c', 'echo over-tls; exit 4']);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, 'over-tls\n');
    assert.equal(client([...tlsFlags, '--url', url, 'images', '-q']).stdout, sb.ok(['images', '-q']));
    // docker's defaults: $DOCKER_CERT_PATH/{ca,cert,key}.pem
    const certPath = path.join(sb.dir, 'docker-certs');
    fs.mkdirSync(certPath, { mode: 0o700 });
    for (const [from, to] of [['ca.pem', 'ca.pem'], ['client.pem', 'cert.pem'], ['client-key.pem', 'key.pem']]) fs.copyFileSync(c(from!), path.join(certPath, to!));
    const d = client(['--tlsverify', 'ps', '-a', '-q'], { TSCTR_HOST: url, DOCKER_CERT_PATH: certPath });
    assert.equal(d.code, 0, d.stderr);
    // Without a client certificate, or trusting another CA: no connection, one line, 125.
    const noCert = client(['--tlsverify', '--tlscacert', c('ca.pem'), '--url', url, 'ps']);
    assert.equal(noCert.code, 125);
    assert.match(noCert.stderr, /^Error: [^\n]+\n$/);
    const wrongCa = client(['--tlsverify', '--tlscacert', c('other-ca.pem'), '--tlscert', c('client.pem'), '--tlskey', c('client-key.pem'), '--url', url, 'ps']);
    assert.equal(wrongCa.code, 125);
    assert.match(wrongCa.stderr, /^Error: [^\n]*certificate[^\n]*\n$/i);
    // Plain TCP: refused unless asked for, then with a warning.
    const refused = client(['--url', `tcp://127.0.0.1:${plainPort}`, 'ps']);
    assert.equal(refused.code, 125);
    const insecure = client(['--insecure-tcp', '--url', `tcp://127.0.0.1:${plainPort}`, 'ps', '-a', '-q']);
    assert.equal(insecure.code, 0, insecure.stderr);
    assert.equal(insecure.stdout, sb.ok(['ps', '-a', '-q']));
    assert.match(insecure.stderr, /^WARNING: --insecure-tcp: [^\n]+\n$/);
  } finally {
    svc.kill('SIGTERM');
    plain.kill('SIGTERM');
    await Promise.all([svc, plain]);
  }
});

test('ssh://: an unreachable host is one line with ssh\'s reason, exit 125', { skip: noSsh }, async () => {
  const closed = await freePort();
  const r = client(['--url', `ssh://${sshd!.login}:${closed}`, 'ps']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^Error: cannot connect to ssh:\/\/\S+: [^\n]*(refused|closed)[^\n]*\n$/i);
});

test('ssh:// with a socket path: dial-stdio relays to that socket', { skip: noSsh }, () => {
  const r = client(['--url', `ssh://${sshd!.login}:${sshd!.port}${sock}`, 'version', '--format', '{{.Server.ApiVersion}}']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '1.41\n');
});
