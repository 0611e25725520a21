/**
 * The API's remaining verbs the docker CLI uses (commit, export, diff; ConsoleSize of API 1.42),
 * compared with tsctr's own verbs on the same container; a host port range for one container port
 * (`-p 8000-8002:80`); and the remote CLI's create, start -a, attach and signal forwarding.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { BIN, Sandbox, freePortRange, inspectJson } from '../support/harness.js';
import { assertDockerCli, dockerCli, dockerEnv as dockerEnvOf } from '../support/docker.js';
import { getBody, unixRequest } from '../support/http.js';
import { useService } from '../support/hooks.js';
import { defaultSocket } from '../support/service.js';
import { haveSshd, startSshd, stopServices, type Sshd } from '../support/sshd.js';
import { until } from '../support/wait.js';

const sb = new Sandbox('apiextra');
const sock = defaultSocket(sb);
const dockerEnv = dockerEnvOf(sb, `unix://${sock}`);
const { run: docker, ok: dockerOk, start: dockerAsync } = dockerCli(dockerEnv);
const api = (method: string, p: string, body?: unknown) => unixRequest(sock, method, p, body);
let sshd: Sshd | undefined;

function tarList(file: string): string[] {
  const r = spawnSync('tar', ['tf', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

before(assertDockerCli);
// The ssh test's sshd, and the service that dial-stdio started for it, go before the file's own service.
after(() => {
  sshd?.stop();
  stopServices(sb);
});
useService(sb, { pull: ['busybox'] });

describe('docker commit, export, diff through the socket', () => {
  before(() => {
    sb.ok(['run', '--name', 'fs1', 'busybox', 'sh', '-c', 'mkdir /added && echo hi > /added/f && rm /etc/group && echo x >> /etc/passwd']);
  });

  test('docker diff lists what tsctr diff lists', () => {
    const mine = sb.ok(['diff', 'fs1']);
    assert.match(mine, /^A \/added$/m);
    assert.match(mine, /^A \/added\/f$/m);
    assert.match(mine, /^D \/etc\/group$/m);
    assert.match(mine, /^C \/etc\/passwd$/m);
    assert.equal(dockerOk(['diff', 'fs1']), mine);
    const r = docker(['diff', 'nosuch']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /No such container/i);
  });

  test('docker export is the tar tsctr export writes', () => {
    const a = path.join(sb.dir, 'docker-export.tar');
    const b = path.join(sb.dir, 'tsctr-export.tar');
    dockerOk(['export', '-o', a, 'fs1']);
    sb.ok(['export', '-o', b, 'fs1']);
    const names = tarList(a);
    assert.ok(names.includes('added/f'), names.slice(0, 20).join(' '));
    assert.ok(!names.includes('etc/group'));
    assert.deepEqual(names, tarList(b));
    // through a pipe, as `docker export c | tar t` reads it
    const piped = spawnSync('sh', ['-c', 'docker export fs1 | tar t'], { env: dockerEnv, encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(piped.status, 0, piped.stderr);
    assert.deepEqual(piped.stdout.split('\n').filter(Boolean).sort(), names);
  });

  test('docker commit makes the image tsctr commit makes, with -c, -m and -a', () => {
    const id = dockerOk(['commit', '-c', 'ENV FOO=bar', '-m', 'from docker', '-a', 'A. Uthor', 'fs1', 'viadocker:v1']).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    sb.ok(['commit', '-c', 'ENV FOO=bar', '-m', 'from tsctr', 'fs1', 'viatsctr:v1']);
    const d = inspectJson<{ Id: string; Comment: string; Author: string; Config: { Env: string[] }; RootFS: { Layers: string[] } }>(sb, 'viadocker:v1');
    const t = inspectJson<{ Id: string; Config: { Env: string[] }; RootFS: { Layers: string[] } }>(sb, 'viatsctr:v1');
    assert.equal(d.Id, id);
    assert.equal(d.Comment, 'from docker');
    assert.equal(d.Author, 'A. Uthor');
    assert.ok(d.Config.Env.includes('FOO=bar'));
    assert.deepEqual(d.Config.Env, t.Config.Env);
    assert.equal(d.RootFS.Layers.length, t.RootFS.Layers.length);
    for (const img of ['viadocker:v1', 'viatsctr:v1']) {
      assert.equal(sb.ok(['run', '--rm', img, 'sh', '-c', 'cat /added/f; test -e /etc/group || echo gone']), 'hi\ngone\n');
    }
    assert.match(dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}']), /^viadocker:v1$/m);
  });

  test('docker commit of a running container pauses it and lets it run on; bad input is refused', () => {
    sb.ok(['run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'echo run > /state; sleep 300']);
    dockerOk(['commit', 'busy', 'busy:snap']);
    assert.equal(inspectJson<{ State: { Status: string; Paused: boolean } }>(sb, 'busy').State.Status, 'running');
    assert.equal(inspectJson<{ State: { Paused: boolean } }>(sb, 'busy').State.Paused, false);
    assert.equal(sb.ok(['run', '--rm', 'busy:snap', 'cat', '/state']), 'run\n');
    dockerOk(['commit', '--pause=false', 'busy', 'busy:nopause']);
    const before = sb.ok(['images', '-q']).split('\n').length;
    let r = docker(['commit', 'nosuch', 'x:y']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /No such container/i);
    r = docker(['commit', '-c', 'FROM scratch', 'busy', 'x:y']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /FROM/);
    assert.equal(sb.ok(['images', '-q']).split('\n').length, before);
    sb.ok(['rm', '-f', 'busy']);
  });
});

describe('many clients at once', () => {
  test('50 concurrent docker run --rm: every one exits with its own code, none is left', async () => {
    const runOne = (i: number) => dockerAsync(['run', '--rm', '--label', 'many=1', 'busybox', 'sh', '-c', `exit ${i % 7}`]);
    const runs = await Promise.all(Array.from({ length: 50 }, (_, i) => runOne(i)));
    assert.deepEqual(runs.map((r, i) => (r.code === i % 7 ? '' : `${i}: exit ${r.code} ${r.stderr.trim()}`)).filter(Boolean), []);
    assert.equal(sb.ok(['ps', '-aq', '--filter', 'label=many=1']).trim(), '', 'a --rm container was left behind');
  });
});

describe('ConsoleSize (API 1.42)', () => {
  test("create's HostConfig.ConsoleSize is the tty's size from the start", async () => {
    const c = await api('POST', '/v1.43/containers/create?name=sized', { Image: 'busybox', Tty: true, Cmd: ['stty', 'size'], HostConfig: { ConsoleSize: [33, 101] } });
    assert.equal(c.status, 201, c.body);
    assert.equal((await api('POST', '/v1.43/containers/sized/start')).status, 204);
    assert.equal(JSON.parse((await api('POST', '/v1.43/containers/sized/wait')).body).StatusCode, 0);
    assert.equal(sb.ok(['logs', 'sized']).trim(), '33 101');
    assert.equal((await api('POST', '/v1.43/containers/create', { Image: 'busybox', HostConfig: { ConsoleSize: [1] } })).status, 400);
  });

  test("exec start's ConsoleSize sizes the exec's pty", async () => {
    sb.ok(['run', '-d', '--name', 'ex', 'busybox', 'sleep', '300']);
    const e = await api('POST', '/v1.43/containers/ex/exec', { Cmd: ['stty', 'size'], Tty: true, AttachStdout: true });
    assert.equal(e.status, 201, e.body);
    const id = JSON.parse(e.body).Id as string;
    const s = await api('POST', `/v1.43/exec/${id}/start`, { Detach: false, Tty: true, ConsoleSize: [40, 120] });
    assert.equal(s.status, 200);
    assert.equal(s.body.trim(), '40 120');
    sb.ok(['rm', '-f', 'ex']);
  });
});

describe('-p HOSTSTART-HOSTEND:PORT', () => {
  const listen = (port: number) =>
    new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer((c) => c.end());
      s.once('error', reject);
      s.listen(port, '0.0.0.0', () => resolve(s));
    });

  test('the first port of the range is taken: the container gets the next', async () => {
    const base = await freePortRange(3);
    const busy = await listen(base);
    try {
      sb.ok(['run', '-d', '--name', 'ranged', '-p', `${base}-${base + 2}:80`, 'busybox', 'sh', '-c', 'mkdir /www && echo ranged > /www/index.html && httpd -f -p 80 -h /www']);
      const j = inspectJson<{ NetworkSettings: { Ports: Record<string, { HostPort: string }[]> }; HostConfig: { PortBindings: Record<string, { HostPort: string }[]> } }>(sb, 'ranged');
      assert.equal(j.NetworkSettings.Ports['80/tcp']![0]!.HostPort, String(base + 1));
      assert.equal(j.HostConfig.PortBindings['80/tcp']![0]!.HostPort, `${base}-${base + 2}`);
      assert.equal(sb.ok(['port', 'ranged', '80']).split('\n')[0], `0.0.0.0:${base + 1}`);
      assert.equal(await getBody(base + 1, { ms: 15_000, want: (b) => b === 'ranged\n' }), 'ranged\n');
      // docker's CLI through the socket: the same range, the next free port
      dockerOk(['run', '-d', '--name', 'ranged2', '-p', `${base}-${base + 2}:80`, 'busybox', 'sleep', '300']);
      assert.equal(dockerOk(['port', 'ranged2', '80']).split('\n')[0], `0.0.0.0:${base + 2}`);
    } finally {
      busy.close();
      sb.run(['rm', '-f', 'ranged', 'ranged2']);
    }
  });

  test('every port of the range taken: one clear error, exit 125, nothing created', async () => {
    const base = await freePortRange(3);
    const servers = [await listen(base), await listen(base + 1), await listen(base + 2)];
    try {
      const r = sb.run(['run', '-d', '--name', 'norange', '-p', `${base}-${base + 2}:80`, 'busybox', 'sleep', '300']);
      assert.equal(r.code, 125, r.stderr);
      assert.equal(r.stderr, `Error: failed to bind port 0.0.0.0:${base}-${base + 2}/tcp: every port of the range is already in use\n`);
      assert.equal(sb.ok(['ps', '-a', '--filter', 'name=norange', '-q']), '');
    } finally {
      for (const s of servers) s.close();
    }
  });
});

describe('the remote CLI: create, start -a, attach, signals passed on', () => {
  const remoteEnv = () => ({ ...sb.env, TSCTR_HOST: `unix://${sock}`, PATH: `${sshd?.cbin ?? ''}:${sb.env.PATH}` });
  const remote = (args: string[], input?: string) => {
    const r = spawnSync(BIN, args, { env: remoteEnv(), encoding: 'utf8', timeout: 60_000, input });
    return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
  };

  /** A client in the background; `lines` resolves once its stdout has `marker`. */
  function background(args: string[], env: NodeJS.ProcessEnv = remoteEnv()) {
    const child = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    return {
      child,
      done,
      out: () => stdout,
      err: () => stderr,
      seen: (marker: string) => until(`"${marker}" from the client (stdout: ${JSON.stringify(stdout)}, stderr: ${JSON.stringify(stderr)})`, () => (stdout.includes(marker) ? true : undefined), 30_000),
    };
  }

  const TRAP = 'n=0; trap \'n=$((n+1)); echo got-term-$n; [ $n = 2 ] && exit 42\' TERM; echo ready; while :; do sleep 0.1; done';

  test('unix://: SIGTERM to an attached run goes to the container, each time; its trap answers and its code is the client\'s', async () => {
    const c = background(['run', '--rm', '--name', 'trap1', 'busybox', 'sh', '-c', TRAP]);
    await c.seen('ready');
    c.child.kill('SIGTERM');
    await c.seen('got-term-1');
    // the client did not die of the first: docker's CLI passes on every signal it gets
    assert.equal(c.child.exitCode, null);
    c.child.kill('SIGTERM');
    const r = await c.done;
    assert.equal(r.code, 42, c.err());
    assert.equal(c.out(), 'ready\ngot-term-1\ngot-term-2\n');
    assert.equal(sb.run(['inspect', 'trap1']).code, 1, '--rm removed it');
    // --sig-proxy=false: the signal is the client's own, the container runs on
    const quiet = background(['run', '--sig-proxy=false', '--name', 'trap2', 'busybox', 'sh', '-c', TRAP]);
    await quiet.seen('ready');
    quiet.child.kill('SIGTERM');
    assert.equal((await quiet.done).signal, 'SIGTERM');
    assert.equal(sb.ok(['inspect', '-f', '{{.State.Status}}', 'trap2']).trim(), 'running');
    assert.equal(sb.ok(['logs', 'trap2']), 'ready\n');
    sb.ok(['rm', '-f', 'trap2']);
    // here, the monitor passes signals on itself: the flag is refused rather than ignored
    const local = sb.run(['run', '--sig-proxy=false', '--name', 'trap3', 'busybox', 'true']);
    assert.deepEqual([local.code, local.stderr], [125, 'Error: --sig-proxy=false is supported with --url (remote) only\n']);
    assert.equal(sb.run(['inspect', 'trap3']).code, 1);
    const bad = remote(['run', '--sig-proxy=maybe', 'busybox', 'true']);
    assert.deepEqual([bad.code, bad.stderr], [125, 'Error: invalid argument "maybe" for "--sig-proxy" flag: a boolean\n']);
  });

  test('unix://: create, then start -a (output, exit code) and start -a -i (stdin)', () => {
    const made = remote(['create', '--name', 'made1', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 4']);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /^[0-9a-f]{64}\n$/);
    assert.equal(sb.ok(['inspect', '-f', '{{.Id}} {{.State.Status}}', 'made1']).trim(), `${made.stdout.trim()} created`);
    const started = remote(['start', '-a', 'made1']);
    assert.deepEqual([started.code, started.stdout, started.stderr], [4, 'out\n', 'err\n']);
    assert.equal(remote(['create', '-i', '--name', 'made2', 'busybox', 'sh', '-c', 'read x; echo got-$x; exit 3']).code, 0);
    const si = remote(['start', '-a', '-i', 'made2'], 'abc\n');
    assert.deepEqual([si.code, si.stdout], [3, 'got-abc\n'], si.stderr);
    // bad input: one line, 125, nothing made
    const bad = remote(['create', '--name', 'made3', '-p', '1-3:1-2', 'busybox']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: [^\n]*differ in size[^\n]*\n$/);
    assert.equal(sb.run(['inspect', 'made3']).code, 1);
    // start -a of a running one, as locally
    sb.ok(['run', '-d', '--name', 'up1', 'busybox', 'sleep', '300']);
    const again = remote(['start', '-a', 'up1']);
    assert.equal(again.code, 125);
    assert.match(again.stderr, /already running/);
    sb.ok(['rm', '-f', 'made1', 'made2', 'up1']);
  });

  test('unix://: attach to a run -dit container from a terminal; the detach keys leave it running', async () => {
    sb.ok(['run', '-dit', '--name', 'att1', 'busybox', 'sh']);
    /** `tsctr attach` in a pseudo-terminal (script(1)); each step typed once the output has its marker. */
    const inTerminal = async (steps: [string, string][]) => {
      const child = spawn('script', ['-qec', `${BIN} attach att1`, '/dev/null'], { env: remoteEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      // The client's terminal is raw once it is attached (^Q would be flow control before): the
      // shell's prompt after a first newline says so.
      child.stdin.write('\n');
      for (const [marker, input] of steps) {
        await until(`"${marker}" in ${JSON.stringify(out)}`, () => (out.includes(marker) ? true : undefined), 20_000);
        child.stdin.write(input);
      }
      const code = await done;
      clearTimeout(timer);
      return { code, out: out.replace(/\r/g, '') };
    };
    const d = await inTerminal([['/ #', 'echo first-$((6*7))\n'], ['first-42', '\x10\x11']]);
    assert.equal(d.code, 0, d.out);
    assert.equal(sb.ok(['inspect', '-f', '{{.State.Status}}', 'att1']).trim(), 'running');
    // typed into the shell, which exits: its code is the client's
    const t = await inTerminal([['/ #', 'test -t 0 && echo tty-yes\n'], ['tty-yes', 'exit 5\n']]);
    assert.equal(t.code, 5, t.out);
    assert.equal(sb.ok(['inspect', '-f', '{{.State.Status}}', 'att1']).trim(), 'exited');
    const stopped = remote(['attach', 'att1']);
    assert.equal(stopped.code, 125);
    assert.equal(stopped.stderr, 'Error: You cannot attach to a stopped container, start it first\n');
    sb.ok(['rm', 'att1']);
  });

  test('unix://: attach without stdin passes SIGTERM on; the container\'s code is the client\'s', async () => {
    sb.ok(['run', '-d', '--name', 'att2', 'busybox', 'sh', '-c', 'trap "echo bye; exit 9" TERM; while :; do echo tick; sleep 0.2; done']);
    const c = background(['attach', 'att2']);
    await c.seen('tick');
    c.child.kill('SIGTERM');
    const r = await c.done;
    assert.equal(r.code, 9, c.err());
    assert.match(c.out(), /bye\n$/);
    sb.ok(['rm', 'att2']);
  });

  test('ssh://: SIGTERM to an attached run goes to the container over ssh', { skip: !haveSshd && 'Debian openssh-server is not installed' }, async () => {
    sshd = await startSshd(sb);
    const env = { ...sb.env, PATH: `${sshd.cbin}:${sb.env.PATH}` };
    const c = background(['--url', `ssh://${sshd.login}:${sshd.port}`, 'run', '--rm', 'busybox', 'sh', '-c', TRAP], env);
    await c.seen('ready');
    c.child.kill('SIGTERM');
    await c.seen('got-term-1');
    c.child.kill('SIGTERM');
    const r = await c.done;
    assert.equal(r.code, 42, c.err());
    assert.equal(c.out(), 'ready\ngot-term-1\ngot-term-2\n');
  });
});
