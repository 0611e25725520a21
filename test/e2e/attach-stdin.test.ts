/**
 * `attach` with stdin: a container run detached with -i (with or without a tty) takes our stdin
 * through its monitor's socket; the detach keys leave it running; one client at a time.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN } from '../support/harness.js';
import { inPty as inPtyWith, type Step } from '../support/pty.js';
import { useSandbox } from '../support/hooks.js';
import { sleep } from '../support/wait.js';

const sb = useSandbox('attach-stdin', { pull: ['busybox'] });

const id = (name: string) => sb.ok(['inspect', '--format', '{{.Id}}', name]).trim();
const sockOf = (name: string) => path.join(sb.env.XDG_RUNTIME_DIR!, 'tsctr', 'containers', id(name), 'attach.sock');
const running = (name: string) => sb.ok(['inspect', '--format', '{{.State.Running}}', name]).trim() === 'true';

/** Runs tsctr ARGS in a pseudo-terminal, doing the steps. */
const inPty = (args: string[], steps: Step[]) => inPtyWith([BIN, ...args], steps, { env: sb.env, timeout: 90_000 });

describe('attach with stdin', () => {
  test('run -di, then attach with stdin: the commands run, the container exits 3 and so does attach', () => {
    sb.ok(['run', '-di', '--name', 'piped', 'busybox', 'sh']);
    const r = sb.run(['attach', 'piped'], { input: 'echo hi > /tmp/x; exit 3\n' });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(running('piped'), false);
    // started again (detached, stdin kept open for attach again): the file the shell wrote is there
    sb.ok(['start', 'piped']);
    assert.equal(sb.ok(['exec', 'piped', 'cat', '/tmp/x']), 'hi\n');
    const again = sb.run(['attach', 'piped'], { input: 'echo second; exit 4\n' });
    assert.equal(again.code, 4, again.stderr);
    assert.equal(again.stdout, 'second\n');
  });

  test('run -dit in a terminal: a command round trip, ctrl-p ctrl-q detaches (exit 0) and the container runs on; --detach-keys ctrl-x', () => {
    sb.ok(['run', '-dit', '--name', 'term', 'busybox', 'sh']);
    const r = inPty(['attach', 'term'], [
      ['sleep', 1],
      ['send', 'echo $((6*7))\r'],
      ['expect', '42'],
      ['send', '\x10\x11'],
      ['expect', 'read escape sequence'],
    ]);
    assert.equal(r.code, 0, r.out);
    // (the terminal is raw: with IXON, as cooked, ctrl-q would never have reached attach)
    assert.match(r.out, /\n42\r*\n/); // (node's raw mode keeps ONLCR: \r\r\n)
    assert.match(r.out, /read escape sequence/);
    assert.equal(running('term'), true, 'the container stopped with the detach');
    // ctrl-x is the sequence here
    const x = inPty(['attach', '--detach-keys', 'ctrl-x', 'term'], [
      ['sleep', 1],
      ['send', 'echo again-$((1+1))\r'],
      ['expect', 'again-2'],
      ['send', '\x18'],
      ['expect', 'read escape sequence'],
    ]);
    assert.equal(x.code, 0, x.out);
    assert.equal(running('term'), true);
    const exited = inPty(['attach', 'term'], [
      ['sleep', 1],
      ['send', 'exit 6\r'],
    ]);
    assert.equal(exited.code, 6, exited.out);
    assert.equal(running('term'), false);
  });

  test('bad --detach-keys: one error line, exit 125', () => {
    sb.ok(['run', '-di', '--name', 'keys', 'busybox', 'sh']);
    const r = sb.run(['attach', '--detach-keys', 'ctrl-1', 'keys']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Error: invalid detach keys \(ctrl-1\)[^\n]*\n$/);
    assert.equal(running('keys'), true);
    sb.ok(['rm', '-f', 'keys']);
  });

  test('a second attach while one is attached is refused clearly; the first still works', async () => {
    sb.ok(['run', '-di', '--name', 'one', 'busybox', 'sh']);
    const first = spawn(BIN, ['attach', 'one'], { env: sb.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    first.stdout.on('data', (d) => (out += d));
    const firstDone = new Promise<number | null>((r) => first.on('close', (code) => r(code)));
    first.stdin.write('echo first-here\n');
    for (let i = 0; i < 100 && !out.includes('first-here'); i++) await sleep(100);
    assert.match(out, /first-here/);
    const second = sb.run(['attach', 'one'], { input: 'exit 9\n' });
    assert.equal(second.code, 125);
    assert.equal(second.stderr, "Error: cannot attach stdin: another client is attached to the container's stdin\n");
    assert.equal(running('one'), true);
    first.stdin.end('exit 5\n');
    assert.equal(await firstDone, 5);
  });

  test('without -i attach shows output only and does not read stdin; no socket is made', () => {
    sb.ok(['run', '-d', '--name', 'noin', 'busybox', 'sh', '-c', 'sleep 2; echo out; exit 2']);
    assert.equal(fs.existsSync(sockOf('noin')), false);
    const r = sb.run(['attach', 'noin'], { input: 'echo injected\n' });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, 'out\n');
  });

  test('attach.sock is 0600 in the 0700 run dir, invisible in the container, and no monitor fd leaks into it', () => {
    sb.ok(['run', '-di', '--name', 'perm', 'busybox', 'sh']);
    const sock = sockOf('perm');
    const st = fs.statSync(sock);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(sock)).mode & 0o777, 0o700);
    assert.equal(sb.ok(['exec', 'perm', 'sh', '-c', 'find / -name attach.sock 2>/dev/null; true']), '');
    const fds = sb.ok(['exec', 'perm', 'sh', '-c', 'for f in /proc/1/fd/*; do echo "$f $(readlink $f)"; done']);
    assert.doesNotMatch(fds, /socket:/, fds);
    assert.deepEqual(fds.trim().split('\n').map((l) => l.split(' ')[0]), ['/proc/1/fd/0', '/proc/1/fd/1', '/proc/1/fd/2']);
    sb.ok(['rm', '-f', 'perm']);
    assert.equal(fs.existsSync(sock), false);
  });
});
