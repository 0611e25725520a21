/**
 * The streaming endpoints of `tsctr system service`, driven by real clients as the unprivileged
 * user: the docker CLI (attach/run with exit codes, stdin and a pseudo-terminal, exec, logs -f,
 * stats, build with the classic builder, save/load, events, push) and dockerode (a Node client
 * library) against a service this file starts.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REGISTRY, Sandbox } from '../support/harness.js';
import { assertDockerCli, dockerCli, dockerEnv as dockerEnvOf } from '../support/docker.js';
import { inScript } from '../support/pty.js';
import { useService } from '../support/hooks.js';
import { defaultSocket } from '../support/service.js';
import { sleep, until } from '../support/wait.js';

const sb = new Sandbox('api-streams');
const sock = defaultSocket(sb);
const dockerEnv = dockerEnvOf(sb, `unix://${sock}`, { DOCKER_BUILDKIT: '0' });
const { run: docker, ok: dockerOk } = dockerCli(dockerEnv);
before(assertDockerCli);
const service = useService(sb, { pull: ['busybox'] });

/** The service's open descriptors and its child processes: what a stream could leave behind. */
function serviceHoldings(): { fds: number; children: string[] } {
  const fds = fs.readdirSync(`/proc/${service.proc.pid}/fd`).length;
  const children = spawnSync('ps', ['--ppid', String(service.proc.pid), '-o', 'pid=,args='], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  return { fds, children };
}

describe('attach (docker run)', () => {
  test('docker run --rm passes the exit code and both streams through, and the container is gone after', () => {
    const r = docker(['run', '--rm', '--name', 'exit7', 'busybox', 'sh', '-c', 'echo to-out; echo to-err >&2; exit 7']);
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stdout, 'to-out\n');
    assert.equal(r.stderr, 'to-err\n');
    assert.equal(sb.run(['container', 'exists', 'exit7']).code, 1, '--rm removed it');
  });

  test('docker run -i echoes stdin through cat (stdin attached before the start)', () => {
    const r = docker(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'line one\nline two\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'line one\nline two\n');
  });

  test('docker run -it gets a pseudo-terminal, its input and its exit code', () => {
    // script(1) gives the docker CLI a terminal; the shell reads a command from it and exits 3.
    const r = inScript('docker run -it --rm busybox sh -c "tty; read x; echo got-\\$x; exit 3"', { env: dockerEnv, input: 'hello\n', timeout: 60_000 });
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    assert.match(r.stdout, /got-hello/);
    assert.equal(r.status, 3, r.stdout + r.stderr);
  });

  test('a command that does not exist: docker run exits 127 with the message', () => {
    const r = docker(['run', '--rm', 'busybox', 'no-such-command']);
    assert.equal(r.code, 127, r.stderr);
    assert.match(r.stderr, /executable file not found/);
  });
});

describe('exec', () => {
  before(() => sb.ok(['run', '-d', '--name', 'ex', 'busybox', 'sleep', '1000']));

  test('streams separated, exit code passed through (exec/{id}/json)', () => {
    const r = docker(['exec', 'ex', 'sh', '-c', 'echo o; echo e >&2; exit 5']);
    assert.equal(r.code, 5);
    assert.equal(r.stdout, 'o\n');
    assert.equal(r.stderr, 'e\n');
  });

  test('exec -i: stdin reaches the process, and only stdin (not the start request)', () => {
    assert.equal(dockerOk(['exec', '-i', 'ex', 'cat'], { input: 'abc\n' }), 'abc\n');
  });

  test('exec -t: a terminal', () => {
    const r = inScript('docker exec -t ex tty', { env: dockerEnv, input: '', timeout: 60_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
  });

  test('exec -d returns at once; the process runs in the container', async () => {
    dockerOk(['exec', '-d', 'ex', 'sh', '-c', 'echo detached > /tmp/d']);
    await until('the detached exec', () => (sb.run(['exec', 'ex', 'cat', '/tmp/d']).stdout === 'detached\n' ? true : undefined));
  });
});

describe('logs, stats, events', () => {
  test('logs -f follows; a client that goes away leaves nothing in the service', async () => {
    sb.ok(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done']);
    await sleep(300);
    const baseline = serviceHoldings();
    const c = spawn('docker', ['logs', '-f', 'ticker'], { env: dockerEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    await until('followed lines', () => (/tick-\d+\n(.|\n)*tick-\d+\n(.|\n)*tick-\d+\n/.test(out) && out.split('\n').length > 6 ? true : undefined));
    const n = out.split('\n').length;
    await sleep(600);
    assert.ok(out.split('\n').length > n, 'new lines keep coming while following');
    c.kill('SIGKILL');
    await until('the service to let go of the stream', () => {
      const now = serviceHoldings();
      return now.fds <= baseline.fds && now.children.length === 0 ? true : undefined;
    });
    assert.equal(sb.ok(['inspect', '-f', '{{.State.Running}}', 'ticker']).trim(), 'true', 'the container is not touched');
  });

  test('stats --no-stream shows the container; the streamed form keeps reporting', async () => {
    const out = dockerOk(['stats', '--no-stream', 'ticker']);
    assert.match(out, /ticker/);
    assert.match(out, /MiB|KiB|B \//);
    const c = spawn('docker', ['stats', '--format', '{{.Name}} {{.PIDs}}', 'ticker'], { env: dockerEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let got = '';
    c.stdout.on('data', (d) => (got += d));
    await until('two streamed readings', () => ((got.match(/ticker \d+/g) ?? []).length >= 2 ? true : undefined));
    c.kill('SIGKILL');
  });

  test('docker events shows a container starting and dying, filtered', async () => {
    const c = spawn('docker', ['events', '--filter', 'type=container', '--filter', 'container=evt', '--format', '{{.Action}} {{.Actor.Attributes.name}}'], {
      env: dockerEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let got = '';
    c.stdout.on('data', (d) => (got += d));
    await sleep(500);
    sb.ok(['run', '--name', 'evt', 'busybox', 'true']);
    sb.ok(['run', '--rm', 'busybox', 'true']); // not this one (filtered out)
    await until('start and die of evt', () => (/start evt\n(.|\n)*die evt\n/.test(got) ? true : undefined));
    c.kill('SIGKILL');
    assert.ok(!/ (?!evt)\S+\n/.test(got.replace(/^(create|start|die|attach|destroy) evt$/gm, '')), `only evt's events: ${got}`);
    // the past, with since/until (docker's --until 0s is whole seconds)
    await sleep(1100);
    const past = dockerOk(['events', '--since', '5m', '--until', '0s', '--filter', 'container=evt', '--format', '{{.Action}}']);
    assert.deepEqual(past.trim().split('\n').filter((a) => a === 'create' || a === 'start' || a === 'die'), ['create', 'start', 'die']);
  });
});

describe('images', () => {
  test('docker build (classic builder): steps, a RUN, build args, tag; the image runs', () => {
    const ctx = path.join(sb.dir, 'ctx');
    fs.mkdirSync(ctx, { recursive: true });
    fs.writeFileSync(path.join(ctx, 'Dockerfile.custom'), 'FROM busybox\nARG GREETING=nobody\nRUN echo "$GREETING" > /greeting\nCOPY file.txt /file.txt\nCMD ["sh", "-c", "cat /greeting /file.txt"]\n');
    fs.writeFileSync(path.join(ctx, 'file.txt'), 'from the context\n');
    const out = dockerOk(['build', '-f', path.join(ctx, 'Dockerfile.custom'), '--build-arg', 'GREETING=hello-build', '--label', 'built=api', '-t', 'apibuilt:1', ctx]);
    assert.match(out, /Step 3\/5 : RUN echo "\$GREETING" > \/greeting/);
    assert.match(out, /Successfully tagged apibuilt:1/);
    assert.equal(sb.ok(['run', '--rm', 'apibuilt:1']), 'hello-build\nfrom the context\n');
    assert.equal(sb.ok(['inspect', '-f', '{{index .Config.Labels "built"}}', 'apibuilt:1']).trim(), 'api');
    // -q: only the id
    assert.match(dockerOk(['build', '-q', '-f', path.join(ctx, 'Dockerfile.custom'), ctx]).trim(), /^sha256:[0-9a-f]{64}$/);
    // a failing RUN: the CLI exits non-zero with the builder's message
    fs.writeFileSync(path.join(ctx, 'Dockerfile.bad'), 'FROM busybox\nRUN exit 4\n');
    const bad = docker(['build', '-f', path.join(ctx, 'Dockerfile.bad'), ctx]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /returned a non-zero code: 4/);
  });

  test('docker save, then docker load of the archive brings the image back with its id', () => {
    sb.ok(['tag', 'busybox', 'savetest:1']);
    const id = sb.ok(['inspect', '-f', '{{.Id}}', 'savetest:1']).trim();
    const file = path.join(sb.dir, 'save.tar');
    dockerOk(['save', '-o', file, 'savetest:1']);
    const names = spawnSync('tar', ['tf', file], { encoding: 'utf8' }).stdout;
    assert.match(names, /manifest\.json/);
    sb.ok(['rmi', 'savetest:1']);
    const out = dockerOk(['load', '-i', file]);
    assert.match(out, /Loaded image: savetest:1/);
    assert.equal(sb.ok(['inspect', '-f', '{{.Id}}', 'savetest:1']).trim(), id);
    // a damaged archive: an error, nothing added
    fs.writeFileSync(path.join(sb.dir, 'bad.tar'), Buffer.alloc(2048, 7));
    assert.notEqual(docker(['load', '-i', path.join(sb.dir, 'bad.tar')]).code, 0);
  });

  test('docker push with progress, to the local registry', () => {
    const dest = `${REGISTRY}/api-streams/pushed:1`;
    sb.ok(['tag', 'busybox', dest]);
    const out = dockerOk(['push', dest]);
    assert.match(out, /digest: sha256:[0-9a-f]{64}/);
  });
});

describe('a Node client library', () => {
  test('dockerode creates, starts, waits on and removes a container', async () => {
    const Docker = (await import('dockerode')).default;
    const d = new Docker({ socketPath: sock });
    const c = await d.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo from-dockerode; exit 9'], name: 'dode' });
    await c.start();
    const w = (await c.wait()) as { StatusCode: number };
    assert.equal(w.StatusCode, 9);
    const logs = (await c.logs({ stdout: true, stderr: true })) as unknown as Buffer;
    assert.match(logs.toString('latin1'), /from-dockerode/);
    assert.equal(sb.ok(['inspect', '-f', '{{.State.ExitCode}}', 'dode']).trim(), '9', 'the CLI sees what dockerode made');
    await c.remove();
    assert.equal(sb.run(['container', 'exists', 'dode']).code, 1);
  });
});

describe('system dial-stdio', () => {
  test('relays a raw HTTP exchange between its stdio and the service (what ssh:// runs remotely)', () => {
    const r = sb.run(['system', 'dial-stdio'], { input: 'GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(r.stdout, /\r\n\r\nOK$/);
  });
});

describe('docker-compose', () => {
  test('up -d of two services on their project network, exec between them, down removes everything', () => {
    const dir = path.join(sb.dir, 'proj');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'docker-compose.yml'),
      'version: "3"\nservices:\n  web:\n    image: busybox\n    command: ["sh", "-c", "echo served > /tmp/x; httpd -f -p 8080 -h /tmp"]\n  client:\n    image: busybox\n    command: ["sleep", "1000"]\n    depends_on: [web]\n',
    );
    const compose = (args: string[]) => spawnSync('docker-compose', ['-p', 'cproj', ...args], { cwd: dir, env: dockerEnv, encoding: 'utf8', timeout: 120_000 });
    const up = compose(['up', '-d']);
    assert.equal(up.status, 0, up.stderr);
    const names = sb.ok(['ps', '--format', '{{.Names}}']).split('\n');
    assert.ok(names.includes('cproj_web_1') && names.includes('cproj_client_1'), names.join(','));
    const ex = compose(['exec', '-T', 'client', 'wget', '-qO-', 'http://web:8080/x']);
    assert.equal(ex.stdout, 'served\n', ex.stderr);
    const down = compose(['down']);
    assert.equal(down.status, 0, down.stderr);
    assert.equal(sb.ok(['ps', '-aq', '--filter', 'name=cproj']).trim(), '');
    assert.doesNotMatch(sb.ok(['network', 'ls']), /cproj_default/);
  });
});
