/**
 * `tsctr system service` as a resident C listener (`tsctr-shim api-listen`, same pid) and an
 * on-demand Node worker: the real docker CLI through the socket, the worker idling out and coming
 * back, streams keeping it, signals, the listener's own idle exit, and the listener alone (fd
 * hygiene, the systemd variables, the crash-loop back-off) with a shell script as its worker.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { REPO } from '../support/harness.js';
import { assertDockerCli, dockerCli, dockerEnv as dockerEnvOf } from '../support/docker.js';
import { useSandbox } from '../support/hooks.js';
import { alive } from '../support/processes.js';
import { defaultSocket, startService, type Proc } from '../support/service.js';
import { sleep, until } from '../support/wait.js';

const sb = useSandbox('api-listener');
const sock = defaultSocket(sb);
const dockerEnv = dockerEnvOf(sb, `unix://${sock}`);
const { run: docker, ok: dockerOk } = dockerCli(dockerEnv);
const WORKER_IDLE = 2;
/** docker at another service of this sandbox's store. */
const dockerAt = (socket: string) => dockerCli(dockerEnvOf(sb, `unix://${socket}`));

/** The live (not zombie: those are listed too, as Z) children of pid. */
function children(pid: number): { pid: number; state: string }[] {
  const out: { pid: number; state: string }[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue;
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[1]) === pid) out.push({ pid: Number(e), state: f[0]! });
  }
  return out;
}

const cmdline = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
const fdTarget = (pid: number, fd: number) => fs.readlinkSync(`/proc/${pid}/fd/${fd}`);

describe('system service: listener and worker', () => {
  let service: Proc;

  before(async () => {
    assertDockerCli();
    service = (await startService(sb, { args: ['--worker-idle', String(WORKER_IDLE)] })).proc;
  });

  after(async () => {
    sb.removeContainers();
    if (alive(service.pid)) service.kill('SIGKILL');
    await service;
  });

  test('the process that was started is the listener, holding the socket (0600 in 0700) and nothing else', async () => {
    await until('the exec into the listener', () => cmdline(service.pid)[1] === 'api-listen');
    // Its set-up moves the socket to fd 3 and closes what it inherited beyond it (the test runner's too).
    const fdsOf = () => fs.readdirSync(`/proc/${service.pid}/fd`).map(Number).sort((a, b) => a - b);
    await until('the set-up', () => fdsOf().length === 5 && fdsOf()[4] === 4).catch(() => undefined);
    assert.equal((fs.statSync(sock).mode & 0o777).toString(8), '600');
    assert.equal((fs.statSync(path.dirname(sock)).mode & 0o777).toString(8), '700');
    assert.deepEqual(fdsOf(), [0, 1, 2, 3, 4], 'stdio, the socket and the signalfd');
    assert.match(fdTarget(service.pid, 3), /^socket:/);
    assert.deepEqual(children(service.pid), [], 'no worker before the first client');
  });

  test('docker run --rm works; the worker gets only the socket as fd 3, with LISTEN_PID its own pid', async () => {
    assert.equal(dockerOk(['run', '--rm', 'busybox', 'echo', 'through-the-worker']).trim(), 'through-the-worker');
    const [worker] = children(service.pid);
    assert.ok(worker, 'a worker serves');
    assert.equal(fdTarget(worker.pid, 3), fdTarget(service.pid, 3), "the worker's fd 3 is the listener's socket");
    const env = fs.readFileSync(`/proc/${worker.pid}/environ`, 'utf8').split('\0');
    assert.ok(env.includes('LISTEN_FDS=1'), env.join(' '));
    assert.ok(env.includes(`LISTEN_PID=${worker.pid}`), env.join(' '));
    // Node keeps it close-on-exec: the monitors and helpers the worker starts do not hold the socket.
    const flags = /^flags:\s+([0-7]+)$/m.exec(fs.readFileSync(`/proc/${worker.pid}/fdinfo/3`, 'utf8'))?.[1];
    assert.ok(flags && (parseInt(flags, 8) & 0o2000000) !== 0, `fd 3 flags ${flags}`);
    const targets = fs.readdirSync(`/proc/${worker.pid}/fd`).map((fd) => fs.readlinkSync(`/proc/${worker.pid}/fd/${fd}`));
    assert.ok(!targets.some((t) => t.includes('signalfd')), `the listener's signalfd leaked: ${targets.join(' ')}`);
  });

  test('the worker idles out, a detached container keeps running, the next docker ps starts a new worker and sees it', async () => {
    const id = dockerOk(['run', '-d', '--name', 'stays', 'busybox', 'sleep', '300']).trim();
    const [first] = children(service.pid);
    assert.ok(first, 'a worker serves');
    await until('the worker to idle out', () => children(service.pid).length === 0, (WORKER_IDLE + 8) * 1000);
    assert.ok(!alive(first.pid));
    assert.equal(sb.ok(['inspect', '--format', '{{.State.Running}}', 'stays']).trim(), 'true');
    const ps = dockerOk(['ps', '--format', '{{.ID}} {{.Names}}']);
    assert.match(ps, new RegExp(`^${id.slice(0, 12)} stays$`, 'm'));
    const [second] = children(service.pid);
    assert.ok(second && second.pid !== first.pid, 'a new worker answered');
  });

  test('an open events stream keeps the worker; it goes once the stream ends', async () => {
    const events = spawn('docker', ['events', '--format', '{{.Action}}'], { env: dockerEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    events.stdout.on('data', (d) => (out += d));
    try {
      const worker = await until('a worker', () => children(service.pid)[0]);
      await sleep((WORKER_IDLE + 2) * 1000);
      assert.ok(alive(worker.pid), 'the worker stayed while the stream was open');
      dockerOk(['run', '--rm', 'busybox', 'true']);
      await until('the die event', () => out.includes('die'), 20_000);
      assert.equal(children(service.pid)[0]?.pid, worker.pid, 'the same worker served the run');
    } finally {
      events.kill('SIGTERM');
    }
    await until('the worker to idle out after the stream', () => children(service.pid).length === 0, (WORKER_IDLE + 8) * 1000);
  });

  test('an attached docker run (a hijacked connection) outlasting the idle time keeps its worker to the end', () => {
    const r = docker(['run', '--rm', 'busybox', 'sh', '-c', `sleep ${WORKER_IDLE + 2}; echo still-attached; exit 3`]);
    assert.equal(r.stdout, 'still-attached\n', r.stderr);
    assert.equal(r.code, 3);
  });

  test('a worker that is killed is replaced at the next connection, with a line in the log', async () => {
    dockerOk(['version', '--format', '{{.Server.Version}}']);
    const [worker] = children(service.pid);
    assert.ok(worker);
    process.kill(worker.pid, 'SIGKILL');
    await until('the listener to reap the worker', () => children(service.pid).length === 0);
    assert.match(dockerOk(['ps', '-q', '--filter', 'name=stays']), /^[0-9a-f]{12}$/m);
    assert.equal(children(service.pid).length, 1, 'a new worker answered');
  });

  test('SIGTERM on the listener stops the worker and leaves no process and no socket', async () => {
    dockerOk(['version']);
    const [worker] = children(service.pid);
    assert.ok(worker, 'a worker is running');
    service.kill('SIGTERM');
    const r = await service;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /the API worker \(pid \d+\) was killed by signal 9/, 'the killed worker of the test before was logged');
    assert.ok(!alive(worker.pid), 'the worker is gone');
    assert.ok(!fs.existsSync(sock), 'the socket is removed');
    assert.equal(sb.ok(['inspect', '--format', '{{.State.Running}}', 'stays']).trim(), 'true', 'containers outlive the service');
  });
});

test('--time 1: the listener exits by itself once no worker has run for a second, removing its socket', async () => {
  const s = path.join(sb.dir, 'short.sock');
  const svc = (await startService(sb, { url: `unix://${s}`, time: '1' })).proc;
  dockerAt(s).ok(['version', '--format', '{{.Server.Version}}']);
  const answered = Date.now();
  const r = await svc;
  assert.equal(r.code, 0, r.stderr);
  // --time counts from the last request: the worker's idle second is the service's (not one more).
  const took = Date.now() - answered;
  assert.ok(took < 1700, `exited ${took} ms after the last answer`);
  assert.ok(!fs.existsSync(s));
});

test('--worker-idle 0: one Node process serves, no listener; a bad value is refused', async () => {
  const s = path.join(sb.dir, 'single.sock');
  const svc = (await startService(sb, { url: `unix://${s}`, args: ['--worker-idle', '0'] })).proc;
  try {
    assert.equal(dockerAt(s).ok(['version', '--format', '{{.Server.Version}}']).trim().length > 0, true);
    assert.notEqual(cmdline(svc.pid)[1], 'api-listen');
    assert.deepEqual(children(svc.pid), []);
  } finally {
    svc.kill('SIGTERM');
  }
  assert.equal((await svc).code, 0);
  assert.ok(!fs.existsSync(s));
  const bad = sb.run(['system', 'service', '--worker-idle', 'soon', `unix://${s}`]);
  assert.equal(bad.code, 125);
  assert.equal(bad.stderr, 'Error: invalid --worker-idle "soon": a number of seconds\n');
  assert.ok(!fs.existsSync(s));
});

describe('tsctr-shim api-listen alone', () => {
  const shim = path.join(REPO, 'dist', 'tsctr-shim');
  let listener: ChildProcess | undefined;
  let client: net.Socket | undefined;
  const report = path.join(sb.dir, 'starts');

  after(() => {
    listener?.kill('SIGKILL');
    client?.destroy();
  });

  test('a TCP socket: a worker that ends at once is restarted with a growing delay, sees only fds 0-3; SIGTERM ends the listener', async () => {
    // The listener gets a copy of a listening TCP socket that this process then closes, so that
    // nothing here accepts the connection made below: it stays pending for the workers.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    // Each start records its environment and its descriptors, and exits without accepting: a crash
    // loop. ls runs as a child with its own redirection, so the shell's table is what it inherited.
    const script = `echo "$LISTEN_PID $LISTEN_FDS" > ${report}.$$.env; ls /proc/$$/fd > ${report}.$$.fds`;
    const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'ignore', 'pipe', 'ignore', 'ignore', 'ignore', 'ignore', fd];
    listener = spawn(shim, ['api-listen', '--fd', '7', '--time', '0', '--', '/bin/sh', '-c', script], { stdio });
    let log = '';
    listener.stderr!.on('data', (d) => (log += d));
    await new Promise<void>((resolve) => listener!.once('spawn', resolve));
    server.close();
    client = net.connect(port, '127.0.0.1');
    client.on('error', () => {});
    await sleep(3500);
    const starts = fs.readdirSync(sb.dir).filter((f) => f.startsWith('starts.') && f.endsWith('.env'));
    // Back-off 0, 1 s, 2 s: four starts in 3.5 s at most (without it: thousands).
    assert.ok(starts.length >= 2 && starts.length <= 4, `${starts.length} starts\n${log}`);
    for (const f of starts) {
      const pid = f.split('.')[1]!;
      assert.equal(fs.readFileSync(path.join(sb.dir, f), 'utf8'), `${pid} 1\n`, 'LISTEN_PID is the worker itself, LISTEN_FDS=1');
      // The shell keeps its own saved copies at 10 and above (dash's redirections).
      const fds = fs.readFileSync(path.join(sb.dir, `starts.${pid}.fds`), 'utf8').trim().split('\n').filter((f) => Number(f) < 10);
      assert.deepEqual(fds, ['0', '1', '2', '3'], 'only stdio and the socket reach the worker');
    }
    assert.match(log, /exited with status 0 after \d+ ms \(2 in a row\); next start in 1000 ms/);
    client.destroy();
    client = undefined;
    const exited = new Promise<number | null>((resolve) => listener!.on('exit', (code) => resolve(code)));
    listener.kill('SIGTERM');
    assert.equal(await exited, 0);
    listener = undefined;
  });

  test('refuses a descriptor that is not a listening socket', () => {
    const r = spawnSync(shim, ['api-listen', '--fd', '3', '--', '/bin/true'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    assert.equal(r.status, 125);
    assert.match(r.stderr, /^Error: tsctr-shim api-listen: the descriptor given is not a listening socket\n$/);
  });
});
