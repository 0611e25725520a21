/**
 * The API's attach and resize through the container's monitor (attach.sock): `docker attach` (the
 * real CLI, in a pseudo-terminal) to containers `tsctr run` started, not the service; stdin, tty
 * size, detach keys, logs=1 replay; exec resize; `tsctr attach` following SIGWINCH; and the
 * monitor's socket refusing malformed frames while it keeps serving.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { BIN, Sandbox } from '../support/harness.js';
import { assertDockerCli, dockerEnv as dockerEnvOf } from '../support/docker.js';
import { unixRequest } from '../support/http.js';
import { inPty as inPtyWith, type Step } from '../support/pty.js';
import { useService } from '../support/hooks.js';
import { defaultSocket } from '../support/service.js';
import { sleep, until } from '../support/wait.js';

const sb = new Sandbox('api-attach');
const sock = defaultSocket(sb);
const dockerEnv = dockerEnvOf(sb, `unix://${sock}`);
before(assertDockerCli);
useService(sb, { pull: ['busybox'] });

const id = (name: string) => sb.ok(['inspect', '--format', '{{.Id}}', name]).trim();
const running = (name: string) => sb.ok(['inspect', '--format', '{{.State.Running}}', name]).trim() === 'true';
const attachSock = (name: string) => path.join(sb.env.XDG_RUNTIME_DIR!, 'tsctr', 'containers', id(name), 'attach.sock');
const monitorPid = (name: string) => Number(fs.readFileSync(path.join(path.dirname(attachSock(name)), 'monitor.pid'), 'utf8').split(' ')[0]);

/** Runs argv in a pseudo-terminal of ROWSxCOLS (docker's by default), doing the steps. */
const inPty = (size: [number, number], argv: string[], steps: Step[], env: NodeJS.ProcessEnv = dockerEnv) => inPtyWith(argv, steps, { env, size });

/** A request to the service; the status and body. */
const api = (method: string, p: string, body?: unknown) => unixRequest(sock, method, p, body);

/** A hijacked (101 UPGRADED) connection: what comes after the response head, and the socket. */
async function upgrade(p: string, body = ''): Promise<{ sock: net.Socket; data: () => Buffer }> {
  const c = net.createConnection(sock);
  let buf = Buffer.alloc(0);
  c.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
  c.write(`POST ${p} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  await until('the upgrade', () => (buf.includes('\r\n\r\n') ? true : undefined));
  const head = buf.subarray(0, buf.indexOf('\r\n\r\n') + 4).toString();
  assert.match(head, /^HTTP\/1\.1 101/, head);
  return { sock: c, data: () => buf.subarray(head.length) };
}

/** The payloads of docker's 8-byte-header frames, by stream. */
function demux(b: Buffer): { stdout: string; stderr: string } {
  const out = { stdout: '', stderr: '' };
  for (let i = 0; i + 8 <= b.length; ) {
    const n = b.readUInt32BE(i + 4);
    const text = b.subarray(i + 8, i + 8 + n).toString();
    if (b[i] === 1) out.stdout += text;
    else out.stderr += text;
    i += 8 + n;
  }
  return out;
}

describe('docker attach to a container tsctr run started', () => {
  test('tty: a command round trip, the terminal size (docker sends resize), ctrl-p ctrl-q detaches and the container runs on', () => {
    sb.ok(['run', '-dit', '--name', 'a', 'busybox', 'sh']);
    const r = inPty([33, 99], ['docker', 'attach', 'a'], [
      ['sleep', 1.5],
      ['send', 'echo hi-$((6*7))\r'],
      ['expect', 'hi-42'],
      ['send', 'stty size\r'],
      ['expect', '\\d+ \\d+\\r'],
      ['sleep', 0.5],
      ['send', '\x10\x11'],
    ]);
    assert.match(r.out, /\nhi-42\r?\n/, r.out);
    assert.match(r.out, /\n33 99\r?\n/, r.out);
    assert.match(r.out, /read escape sequence/, r.out);
    assert.equal(running('a'), true, 'the container stopped with the detach');
    // the pty keeps the size after the client went; attach again: the shell still answers
    assert.equal(sb.ok(['exec', 'a', 'stty', '-F', '/dev/console', 'size']), '33 99\n');
    const again = inPty([33, 99], ['docker', 'attach', 'a'], [
      ['sleep', 1.5],
      ['send', 'echo again-$((1+1))\r'],
      ['expect', 'again-2'],
      ['send', '\x10\x11'],
    ]);
    assert.match(again.out, /again-2/, again.out);
    assert.equal(running('a'), true);
  });

  test('docker exec -it gets the terminal size at once (API 1.41: its first resize is waited for); exec resize while it runs', async () => {
    const r = inPty([41, 121], ['docker', 'exec', '-it', 'a', 'sh', '-c', 'stty size'], []);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^41 121\r?\n/, r.out);
    // no ConsoleSize: resized after the start, before the command looks
    const created = await api('POST', '/containers/a/exec', { Cmd: ['sh', '-c', 'sleep 1; stty size'], Tty: true, AttachStdout: true });
    assert.equal(created.status, 201, created.body);
    const execId = (JSON.parse(created.body) as { Id: string }).Id;
    const h = await upgrade(`/exec/${execId}/start`, '{"Detach":false,"Tty":true}');
    await sleep(200);
    const rs = await api('POST', `/exec/${execId}/resize?h=50&w=150`);
    assert.equal(rs.status, 200, rs.body);
    await until('the exec output', () => (h.data().toString().includes('\n') ? true : undefined));
    assert.equal(h.data().toString(), '50 150\r\n');
    h.sock.destroy();
  });

  test('docker run -it (started attached by the service): resize reaches its tty too', () => {
    const r = inPty([33, 99], ['docker', 'run', '-it', '--rm', 'busybox', 'sh', '-c', 'sleep 1; stty size'], []);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^33 99\r?\n/, r.out);
  });

  test('POST /containers/{id}/resize sets the tty of a -t container (no -i); bad sizes are 400', async () => {
    sb.ok(['run', '-dt', '--name', 't', 'busybox', 'sleep', '1000']);
    const r = await api('POST', '/containers/t/resize?h=20&w=70');
    assert.equal(r.status, 200, r.body);
    assert.equal(sb.ok(['exec', 't', 'stty', '-F', '/dev/console', 'size']), '20 70\n');
    assert.equal((await api('POST', '/containers/t/resize?h=x&w=70')).status, 400);
    assert.equal((await api('POST', '/containers/t/resize?h=70000&w=70')).status, 400);
    assert.equal((await api('POST', '/containers/nope/resize?h=1&w=1')).status, 404);
    sb.ok(['stop', '-t', '0', 't']);
    assert.equal((await api('POST', '/containers/t/resize?h=20&w=70')).status, 409);
  });

  test('non-tty: docker attach passes a stdin line to cat and shows its echo; the client going leaves the container running', async () => {
    sb.ok(['run', '-di', '--name', 'b', 'busybox', 'cat']);
    const c = spawn('docker', ['attach', '--sig-proxy=false', 'b'], { env: dockerEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    await sleep(1000);
    c.stdin.write('line-one\n');
    await until('the echo', () => (out.includes('line-one\n') ? true : undefined));
    c.kill('SIGKILL');
    await new Promise((r) => c.on('close', r));
    assert.equal(running('b'), true);
    // the slot is free again: another attach (stdin ended: the client detaches, cat runs on)
    const second = spawn('docker', ['attach', '--sig-proxy=false', 'b'], { env: dockerEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let out2 = '';
    second.stdout.on('data', (d) => (out2 += d));
    await sleep(1000);
    second.stdin.end('line-two\n');
    await until('the second echo', () => (out2.includes('line-two\n') ? true : undefined));
    assert.doesNotMatch(out2, /line-one/, 'only what came after the attach');
    second.kill('SIGKILL');
    assert.equal(running('b'), true);
  });

  test('logs=1&stream=1 replays the log, then streams live: stdin in, echo out (multiplexed)', async () => {
    const h = await upgrade('/containers/b/attach?logs=1&stream=1&stdin=1&stdout=1&stderr=1');
    h.sock.write('line-three\n');
    await until('the live echo', () => (demux(h.data()).stdout.includes('line-three') ? true : undefined));
    assert.equal(demux(h.data()).stdout, 'line-one\nline-two\nline-three\n');
    h.sock.destroy();
  });

  test('a bad detachKeys is 400 before the stream', async () => {
    const r = await api('POST', '/containers/a/attach?stream=1&stdin=1&detachKeys=ctrl-1');
    assert.equal(r.status, 400, r.body);
    assert.match(r.body, /invalid detach keys/);
  });
});

describe('tsctr attach', () => {
  test('follows the terminal size: at attach and on SIGWINCH', () => {
    sb.ok(['run', '-dit', '--name', 'w', 'busybox', 'sh']);
    const r = inPty([25, 85], [BIN, 'attach', 'w'], [
      ['sleep', 1.5],
      ['send', 'stty size\r'],
      ['expect', '25 85'],
      ['size', 30, 90],
      ['sleep', 0.5],
      ['send', 'stty size\r'],
      ['expect', '30 90'],
      ['send', '\x10\x11'],
      ['expect', 'read escape sequence'],
    ], sb.env);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /30 90/);
    assert.equal(running('w'), true);
  });
});

describe("the monitor's attach socket under malformed frames", () => {
  /** Connects to attach.sock; the greeting; then sends `bytes` and reports whether the monitor closed it. */
  async function send(name: string, bytes: Buffer): Promise<{ greeting: string; closed: boolean; got: string }> {
    const dirFd = fs.openSync(path.dirname(attachSock(name)), 'r');
    const c = net.createConnection(`/proc/self/fd/${dirFd}/attach.sock`);
    let got = '';
    let closed = false;
    c.on('data', (d) => (got += d.toString('latin1')));
    c.on('error', () => undefined);
    c.on('close', () => (closed = true));
    await until('the greeting', () => (got.includes('\n') ? true : undefined));
    fs.closeSync(dirFd);
    const greeting = got;
    got = '';
    c.write(bytes);
    for (let i = 0; i < 20 && !closed; i++) await sleep(50);
    c.destroy();
    return { greeting, closed, got };
  }
  const head = (type: number, reserved: number, len: number) => Buffer.from([type, reserved, len & 0xff, len >> 8]);

  test('oversized, unknown, reserved-byte, zero-size and unclaimed frames close that client; the monitor and the container go on', async () => {
    sb.ok(['run', '-dit', '--name', 'm', 'busybox', 'sh']);
    const pid = monitorPid('m');
    const bad: [string, Buffer][] = [
      ['resize with a 64 KiB length', Buffer.concat([head(3, 0, 65535), Buffer.alloc(8192, 0x41)])],
      ['resize with 5 bytes', Buffer.concat([head(3, 0, 5), Buffer.from([1, 0, 1, 0, 1])])],
      ['resize to 0 rows', Buffer.concat([head(3, 0, 4), Buffer.from([0, 0, 80, 0])])],
      ['an unknown type', Buffer.concat([head(9, 0, 4), Buffer.from([1, 0, 1, 0])])],
      ['a reserved byte set', Buffer.concat([head(3, 1, 4), Buffer.from([1, 0, 1, 0])])],
      ['data before a claim', Buffer.concat([head(2, 0, 11), Buffer.from('touch /pwn\r')])],
      ['data longer than 4096', Buffer.concat([head(1, 0, 0), head(2, 0, 5000), Buffer.alloc(5000, 0x41)])],
      ['a claim with a body', Buffer.concat([head(1, 0, 2), Buffer.from('xx')])],
    ];
    for (const [what, bytes] of bad) {
      const r = await send('m', bytes);
      assert.equal(r.greeting, 'ok 2\n', what);
      assert.equal(r.closed, true, `${what}: the client was not closed`);
      assert.equal(fs.existsSync(`/proc/${pid}`), true, `${what}: the monitor died`);
    }
    // a valid resize after all that still works; the junk changed nothing
    const ok = await send('m', Buffer.concat([head(3, 0, 4), Buffer.from([44, 0, 111, 0])]));
    assert.equal(ok.closed, false);
    assert.equal(sb.ok(['exec', 'm', 'stty', '-F', '/dev/console', 'size']), '44 111\n');
    // the unclaimed data never reached the shell, and the claim works: a command round trip
    const r = inPty([44, 111], ['docker', 'attach', 'm'], [
      ['sleep', 1.5],
      ['send', 'echo alive-$((2+3))\r'],
      ['expect', 'alive-5'],
      ['send', '\x10\x11'],
    ]);
    assert.match(r.out, /alive-5/, r.out);
    assert.equal(sb.ok(['exec', 'm', 'sh', '-c', 'test -e /pwn && echo yes || echo no']), 'no\n');
    assert.equal(running('m'), true);
    assert.equal(monitorPid('m'), pid);
  });

  test('more than 8 clients at once: the 9th is told so; the others still resize', async () => {
    const dirFd = fs.openSync(path.dirname(attachSock('m')), 'r');
    const conns: net.Socket[] = [];
    const greetings: string[] = [];
    for (let i = 0; i < 9; i++) {
      const c = net.createConnection(`/proc/self/fd/${dirFd}/attach.sock`);
      c.on('error', () => undefined);
      let g = '';
      c.on('data', (d) => (g += d.toString()));
      await until('a greeting', () => (g.includes('\n') ? true : undefined));
      greetings.push(g);
      conns.push(c);
    }
    fs.closeSync(dirFd);
    assert.deepEqual(greetings.slice(0, 8), Array(8).fill('ok 2\n'));
    assert.equal(greetings[8], 'error too many clients attached\n');
    conns[3]!.write(Buffer.from([3, 0, 4, 0, 12, 0, 34, 0]));
    await until('the resize', () => (sb.ok(['exec', 'm', 'stty', '-F', '/dev/console', 'size']) === '12 34\n' ? true : undefined));
    for (const c of conns) c.destroy();
  });
});
