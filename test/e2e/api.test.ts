/**
 * `tsctr system service`: the Docker Engine API on a unix socket, driven by the real docker CLI
 * (DOCKER_HOST at a service this file starts), plus a few raw requests where the CLI hides what is
 * checked (wait?condition=removed, 304s). Everything made through the socket is tsctr's own: the
 * CLI sees it, and the other way round.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AUTH_PASS, AUTH_REGISTRY, AUTH_USER, BIN, Sandbox, freePort } from '../support/harness.js';
import { assertDockerCli, dockerCli, dockerEnv as dockerEnvOf } from '../support/docker.js';
import { getBody, unixRequest } from '../support/http.js';
import { useService } from '../support/hooks.js';
import { defaultSocket, startService } from '../support/service.js';
import { sleep, until } from '../support/wait.js';

const sb = new Sandbox('api');
const sock = defaultSocket(sb);
const dockerEnv = dockerEnvOf(sb, `unix://${sock}`);
const { run: docker, ok: dockerOk, start: dockerAsync } = dockerCli(dockerEnv);
const api = (method: string, p: string, body?: unknown) => unixRequest(sock, method, p, body);

before(assertDockerCli);
useService(sb);

describe('docker CLI through tsctr system service', () => {
  test('version, info; tsctr info shows the socket', () => {
    assert.equal(dockerOk(['version', '--format', '{{.Server.APIVersion}}']).trim(), '1.41');
    assert.equal(dockerOk(['info', '--format', '{{.OSType}} {{.Containers}}']).trim(), 'linux 0');
    const info = JSON.parse(sb.ok(['info', '--format', 'json'])) as { service?: { socket: string } };
    assert.equal(info.service?.socket, `unix://${sock}`);
    assert.equal(fs.statSync(sock).mode & 0o777, 0o600);
  });

  test('pull and images: the image is in tsctr\'s store', () => {
    const out = dockerOk(['pull', 'busybox']);
    assert.match(out, /busybox/);
    assert.match(dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}']), /^busybox:latest$/m);
    assert.match(sb.ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), /busybox:latest/);
    assert.equal(dockerOk(['image', 'inspect', '--format', '{{.Os}}', 'busybox']).trim(), 'linux');
  });

  test('run -d -p: docker ps shows the host port, the port serves, tsctr ps sees the container', async () => {
    const port = await freePort();
    const id = dockerOk(['run', '-d', '--name', 'web', '-p', `${port}:80`, '--label', 'app=web', 'busybox', 'sh', '-c', 'echo hello-api > /www.txt && httpd -f -p 80 -h /']).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.match(dockerOk(['ps', '--format', '{{.Names}} {{.Ports}}']), new RegExp(`^web 0\\.0\\.0\\.0:${port}->80/tcp`, 'm'));
    assert.match(sb.ok(['ps', '--format', '{{.Names}}']), /^web$/m);
    const body = await getBody(`http://127.0.0.1:${port}/www.txt`, { ms: 15_000, only200: true });
    assert.equal(body.trim(), 'hello-api');
    // Label filters as JSON, as the CLI sends them.
    assert.equal(dockerOk(['ps', '-q', '--no-trunc', '--filter', 'label=app=web']).trim(), id);
    assert.equal(dockerOk(['ps', '-q', '--filter', 'label=app=other']).trim(), '');
    assert.equal(dockerOk(['inspect', '--format', '{{.State.Running}} {{.Name}}', 'web']).trim(), 'true /web');
  });

  test('an exit code, and logs with stdout and stderr kept apart', async () => {
    dockerOk(['run', '-d', '--name', 'seven', 'busybox', 'sh', '-c', 'echo to-out; echo to-err >&2; exit 7']);
    assert.equal(dockerOk(['wait', 'seven']).trim(), '7');
    const logs = docker(['logs', 'seven']);
    assert.equal(logs.stdout, 'to-out\n');
    assert.equal(logs.stderr, 'to-err\n');
    assert.equal(docker(['logs', '--tail', '1', 'seven']).stdout + docker(['logs', '--tail', '1', 'seven']).stderr, 'to-err\n');
    assert.match(dockerOk(['ps', '-a', '--filter', 'name=seven', '--format', '{{.Status}}']), /Exited \(7\)/);
  });

  test('wait?condition=removed gives the real exit code of an auto-removed container', async () => {
    const created = await api('POST', '/v1.41/containers/create?name=gone', { Image: 'busybox', Cmd: ['sh', '-c', 'sleep 0.2; exit 3'], HostConfig: { AutoRemove: true } });
    assert.equal(created.status, 201, created.body);
    const waited = api('POST', '/v1.41/containers/gone/wait?condition=removed');
    await sleep(100);
    assert.equal((await api('POST', '/v1.41/containers/gone/start')).status, 204);
    assert.equal((await api('POST', '/v1.41/containers/gone/start')).status, 304, 'a second start of a running container');
    const w = await waited;
    assert.equal(w.status, 200);
    assert.deepEqual(JSON.parse(w.body), { StatusCode: 3, Error: null });
    assert.equal((await api('GET', '/v1.41/containers/gone/json')).status, 404);
  });

  test('cp both ways', () => {
    dockerOk(['run', '-d', '--name', 'files', 'busybox', 'sleep', '300']);
    const host = path.join(sb.dir, 'in.txt');
    fs.writeFileSync(host, 'from the host\n');
    dockerOk(['cp', host, 'files:/tmp/']);
    assert.equal(sb.ok(['exec', 'files', 'cat', '/tmp/in.txt']), 'from the host\n');
    sb.ok(['exec', 'files', 'sh', '-c', 'mkdir -p /data/sub && echo inside > /data/sub/f']);
    const outDir = path.join(sb.dir, 'out');
    fs.mkdirSync(outDir);
    dockerOk(['cp', 'files:/data', outDir]);
    assert.equal(fs.readFileSync(path.join(outDir, 'data', 'sub', 'f'), 'utf8'), 'inside\n');
    assert.notEqual(docker(['cp', 'files:/no/such', outDir]).code, 0);
    // To a new name (the CLI stats the target, gets a 404, and sends the tar to its parent renamed).
    dockerOk(['cp', host, 'files:/tmp/renamed.txt']);
    assert.equal(sb.ok(['exec', 'files', 'cat', '/tmp/renamed.txt']), 'from the host\n');
    const single = path.join(sb.dir, 'hostname-copy');
    dockerOk(['cp', 'files:/etc/hostname', single]);
    assert.equal(fs.readFileSync(single, 'utf8').trim(), sb.ok(['exec', 'files', 'hostname']).trim());
  });

  test('stop (304 when stopped), restart, kill, rename, top, rm', async () => {
    dockerOk(['run', '-d', '--name', 'life', 'busybox', 'sleep', '300']);
    assert.match(dockerOk(['top', 'life']), /sleep 300/);
    dockerOk(['stop', '-t', '1', 'life']);
    assert.equal((await api('POST', '/v1.41/containers/life/stop')).status, 304);
    dockerOk(['restart', '-t', '1', 'life']);
    assert.equal(dockerOk(['inspect', '--format', '{{.State.Running}}', 'life']).trim(), 'true');
    dockerOk(['pause', 'life']);
    assert.equal(sb.ok(['inspect', '--format', '{{.State.Status}}', 'life']).trim(), 'paused');
    dockerOk(['unpause', 'life']);
    assert.equal(dockerOk(['inspect', '--format', '{{.State.Status}}', 'life']).trim(), 'running');
    assert.match(dockerOk(['system', 'df']), /^Images\s+\d+/m);
    dockerOk(['kill', 'life']);
    dockerOk(['rename', 'life', 'life2']);
    assert.match(sb.ok(['ps', '-a', '--format', '{{.Names}}']), /^life2$/m);
    dockerOk(['rm', 'life2']);
    assert.equal(sb.run(['container', 'exists', 'life2']).code, 1);
    const running = docker(['rm', 'files']);
    assert.notEqual(running.code, 0, 'rm of a running container without -f');
    assert.match(running.stderr, /running/);
  });

  test('volumes and networks, both ways', () => {
    dockerOk(['volume', 'create', 'apivol']);
    assert.match(sb.ok(['volume', 'ls', '--format', '{{.Name}}']), /^apivol$/m);
    assert.equal(dockerOk(['volume', 'inspect', '--format', '{{.Name}} {{.Driver}}', 'apivol']).trim(), 'apivol local');
    sb.ok(['volume', 'create', 'clivol']);
    assert.match(dockerOk(['volume', 'ls', '--format', '{{.Name}}']), /^clivol$/m);
    dockerOk(['run', '-d', '--name', 'volwriter', '-v', 'apivol:/v', 'busybox', 'sh', '-c', 'echo kept > /v/f']);
    assert.equal(dockerOk(['wait', 'volwriter']).trim(), '0');
    assert.equal(sb.ok(['run', '--rm', '-v', 'apivol:/v', 'busybox', 'cat', '/v/f']), 'kept\n');
    dockerOk(['rm', 'volwriter']);
    dockerOk(['volume', 'rm', 'apivol', 'clivol']);
    assert.doesNotMatch(sb.ok(['volume', 'ls', '--format', '{{.Name}}']), /apivol|clivol/);

    dockerOk(['network', 'create', 'apinet']);
    assert.match(sb.ok(['network', 'ls', '--format', '{{.Name}}']), /^apinet$/m);
    assert.equal(dockerOk(['network', 'inspect', '--format', '{{.Name}}', 'apinet']).trim(), 'apinet');
    dockerOk(['run', '-d', '--name', 'onnet', '--network', 'apinet', 'busybox', 'sleep', '300']);
    assert.match(sb.ok(['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'onnet']), /apinet/);
    dockerOk(['rm', '-f', 'onnet']);
    dockerOk(['network', 'rm', 'apinet']);
    assert.doesNotMatch(dockerOk(['network', 'ls', '--format', '{{.Name}}']), /apinet/);
  });

  test("the CLI's containers are the API's: tsctr run → docker ps/inspect/rm; docker inspect of nothing fails cleanly", () => {
    sb.ok(['run', '-d', '--name', 'fromcli', 'busybox', 'sleep', '300']);
    assert.match(dockerOk(['ps', '--format', '{{.Names}}']), /^fromcli$/m);
    assert.equal(dockerOk(['inspect', '--format', '{{.Config.Cmd}}', 'fromcli']).trim(), '[sleep 300]');
    dockerOk(['rm', '-f', 'fromcli']);
    assert.doesNotMatch(sb.ok(['ps', '-a', '--format', '{{.Names}}']), /fromcli/);
    const none = docker(['inspect', 'no-such-thing']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /No such object: no-such-thing/);
  });

  test('50 concurrent docker run -d, then 50 concurrent docker rm -f: all succeed', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `many${i}`);
    const runs = await Promise.all(names.map((n) => dockerAsync(['run', '-d', '--name', n, 'busybox', 'sleep', '300'])));
    const failed = runs.map((r, i) => [names[i], r] as const).filter(([, r]) => r.code !== 0);
    assert.deepEqual(failed.map(([n, r]) => `${n}: ${r.stderr.trim()}`), []);
    const running = sb.ok(['ps', '--format', '{{.Names}}']).split('\n').filter((n) => n.startsWith('many'));
    assert.equal(running.length, 50);
    const rms = await Promise.all(names.map((n) => dockerAsync(['rm', '-f', n])));
    assert.deepEqual(rms.filter((r) => r.code !== 0).map((r) => r.stderr.trim()), []);
    assert.equal(sb.ok(['ps', '-a', '--format', '{{.Names}}']).split('\n').filter((n) => n.startsWith('many')).length, 0);
  });

  test('the service exits after --time seconds idle; the containers it started keep running', async () => {
    const other = path.join(sb.dir, 'idle.sock');
    const { proc: svc } = await startService(sb, { time: '2', url: `unix://${other}` });
    const r = spawnSync('docker', ['run', '-d', '--name', 'survivor', 'busybox', 'sleep', '300'], { env: { ...dockerEnv, DOCKER_HOST: `unix://${other}` }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const t0 = Date.now();
    const done = await svc;
    assert.equal(done.code, 0, done.stderr);
    assert.ok(Date.now() - t0 >= 1500, 'exited before its idle time');
    assert.equal(fs.existsSync(other), false, 'the socket was left behind');
    assert.equal(sb.ok(['inspect', '--format', '{{.State.Running}}', 'survivor']).trim(), 'true');
    sb.ok(['rm', '-f', 'survivor']);
  });

  test('socket activation: the service takes the listening socket it is given (LISTEN_FDS), then exits when idle', async () => {
    const activated = path.join(sb.dir, 'activated.sock');
    const act = spawn('systemd-socket-activate', ['-l', activated, BIN, 'system', 'service', '--time', '2'], { env: sb.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    act.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number>((resolve) => act.on('close', (c) => resolve(c ?? 128)));
    await until('the activation socket', () => fs.existsSync(activated));
    const v = spawnSync('docker', ['version', '--format', '{{.Server.APIVersion}}'], { env: { ...dockerEnv, DOCKER_HOST: `unix://${activated}` }, encoding: 'utf8' });
    assert.equal(v.stdout.trim(), '1.41', v.stderr + err);
    assert.equal(await exited, 0, err);
  });

  test("compose's shapes: a project network, a service created with an alias and labels, found by label and by its alias", async () => {
    const net = await api('POST', '/v1.41/networks/create', { Name: 'proj_default', CheckDuplicate: true, Driver: 'bridge', Labels: { 'com.docker.compose.project': 'proj' }, Attachable: true });
    assert.equal(net.status, 201, net.body);
    const body = {
      Image: 'busybox', Cmd: ['sleep', '300'], Env: null, Labels: { 'com.docker.compose.project': 'proj', 'com.docker.compose.service': 'db' },
      Volumes: {}, StopSignal: null, Healthcheck: null,
      HostConfig: { NetworkMode: 'proj_default', Binds: [], PortBindings: {}, RestartPolicy: { Name: '', MaximumRetryCount: 0 }, LogConfig: { Type: '', Config: {} }, VolumesFrom: [], Links: [], Dns: null, Ulimits: null, ExtraHosts: null, MemorySwappiness: null, OomKillDisable: false },
      NetworkingConfig: { EndpointsConfig: { proj_default: { Aliases: ['db', 'database'], IPAMConfig: null } } },
    };
    const created = await api('POST', '/v1.41/containers/create?name=proj_db_1', body);
    assert.equal(created.status, 201, created.body);
    assert.equal((await api('POST', '/v1.41/containers/proj_db_1/start')).status, 204);
    const filter = encodeURIComponent(JSON.stringify({ label: ['com.docker.compose.project=proj', 'com.docker.compose.service=db'] }));
    const listed = JSON.parse((await api('GET', `/v1.41/containers/json?all=0&filters=${filter}`)).body) as { Names: string[]; Labels: Record<string, string> }[];
    assert.deepEqual(listed.map((c) => c.Names[0]), ['/proj_db_1']);
    dockerOk(['run', '-d', '--name', 'proj_web_1', '--network', 'proj_default', 'busybox', 'sleep', '300']);
    const ping = sb.run(['exec', 'proj_web_1', 'ping', '-c', '1', '-W', '2', 'database']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    dockerOk(['rm', '-f', 'proj_db_1', 'proj_web_1']);
    assert.equal((await api('DELETE', '/v1.41/networks/proj_default')).status, 204);
  });

  test('docker inspect probes each kind: an image, a network, a volume by name; logs with timestamps and since', () => {
    assert.equal(dockerOk(['inspect', '--format', '{{.Os}}', 'busybox']).trim(), 'linux');
    dockerOk(['network', 'create', 'probenet']);
    dockerOk(['volume', 'create', 'probevol']);
    assert.equal(dockerOk(['inspect', '--format', '{{.Name}}', 'probenet']).trim(), 'probenet');
    assert.equal(dockerOk(['inspect', '--format', '{{.Name}}', 'probevol']).trim(), 'probevol');
    dockerOk(['network', 'rm', 'probenet']);
    dockerOk(['volume', 'rm', 'probevol']);
    const ts = dockerOk(['logs', '-t', 'seven']);
    assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z to-out\n$/);
    assert.equal(docker(['logs', '--since', '2100-01-01T00:00:00Z', 'seven']).stdout, '');
  });

  test('tag, history, rmi and image prune through the socket', () => {
    dockerOk(['tag', 'busybox', 'mine/box:v1']);
    assert.match(sb.ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), /mine\/box:v1/);
    assert.ok(dockerOk(['history', '-q', 'mine/box:v1']).trim().split('\n').length >= 1);
    assert.match(dockerOk(['rmi', 'mine/box:v1']), /Untagged: .*mine\/box:v1/);
    assert.doesNotMatch(sb.ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), /mine\/box/);
    dockerOk(['image', 'prune', '-f']);
    assert.notEqual(docker(['rmi', 'no-such-image:1']).code, 0);
    assert.match(docker(['search', '127.0.0.1:5003/busybox']).stderr, /does not support searching/);
  });

  test('container, volume and network prune', () => {
    dockerOk(['create', '--name', 'stale', 'busybox', 'true']);
    dockerOk(['volume', 'create', 'stalevol']);
    dockerOk(['network', 'create', 'stalenet']);
    assert.match(dockerOk(['container', 'prune', '-f']), /stale|[0-9a-f]{64}/);
    assert.equal(sb.run(['container', 'exists', 'stale']).code, 1);
    dockerOk(['volume', 'prune', '-f']);
    assert.doesNotMatch(sb.ok(['volume', 'ls', '--format', '{{.Name}}']), /stalevol/);
    dockerOk(['network', 'prune', '-f']);
    assert.doesNotMatch(sb.ok(['network', 'ls', '--format', '{{.Name}}']), /stalenet/);
  });

  test('docker login checks the credentials with the registry and stores them as tsctr login does', () => {
    const wrong = spawnSync('docker', ['login', '-u', AUTH_USER, '--password-stdin', AUTH_REGISTRY], { env: dockerEnv, input: 'wrong-password\n', encoding: 'utf8' });
    assert.notEqual(wrong.status, 0);
    assert.equal(fs.existsSync(sb.env.REGISTRY_AUTH_FILE!) && fs.readFileSync(sb.env.REGISTRY_AUTH_FILE!, 'utf8').includes(AUTH_REGISTRY), false);
    const ok = spawnSync('docker', ['login', '-u', AUTH_USER, '--password-stdin', AUTH_REGISTRY], { env: dockerEnv, input: `${AUTH_PASS}\n`, encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /Login Succeeded/);
    assert.ok(fs.readFileSync(sb.env.REGISTRY_AUTH_FILE!, 'utf8').includes(AUTH_REGISTRY), 'tsctr\'s auth file has no entry for the registry');
  });

  test('bad input on the command line: a bad --time or URI is one Error line, exit 125', () => {
    const t = sb.run(['system', 'service', '--time', 'soon']);
    assert.equal(t.code, 125);
    assert.match(t.stderr, /^Error: invalid --time/);
    const u = sb.run(['system', 'service', 'tcp://0.0.0.0:2375']);
    assert.equal(u.code, 125);
    assert.match(u.stderr, /^Error: tcp:\/\/0\.0\.0\.0:2375 needs --tlsverify .*\n$/, 'TCP only with TLS client verification (api-tls.test.ts)');
  });
});
