/**
 * What a container's monitor leaves in the run directory is trusted only as far as it can be:
 * pids are checked against their start time (a SIGKILLed monitor's pid files may name a stranger
 * later), and the helpers beside a container die with its monitor.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Sandbox, inspectJson } from '../support/harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

/** This user's processes whose command line names the container (its monitor's spec) or is a helper of it. */
function processesOf(pids: number[]): number[] {
  return pids.filter(alive);
}

describe('monitor hardening', () => {
  const sb = new Sandbox('monitor');
  const runDir = (id: string) => path.join(sb.env.XDG_RUNTIME_DIR!, 'tsctr', 'containers', id);
  before(() => {
    sb.ok(['pull', '-q', 'busybox']);
  });
  after(() => {
    sb.run(['rm', '-f', ...sb.ok(['ps', '-aq']).trim().split('\n').filter(Boolean)]);
    sb.cleanup();
  });

  test('pid files carry start times; a recycled pid makes a container Exited, and stop/kill/rm never signal the stranger', async () => {
    const id = sb.ok(['run', '-d', 'busybox', 'sleep', '1000']).trim();
    const [pid, start] = fs.readFileSync(path.join(runDir(id), 'pid'), 'utf8').trim().split(' ').map(Number);
    assert.ok(pid! > 0 && start! > 0, 'pid file: PID STARTTIME');
    const monitor = Number(fs.readFileSync(path.join(runDir(id), 'monitor.pid'), 'utf8').split(' ')[0]);
    // The monitor dies unannounced, then the container's init too: its pid is free for anyone.
    process.kill(monitor, 'SIGKILL');
    process.kill(pid!, 'SIGKILL');
    await sleep(200);
    // A stranger (a process of the same user) now holds the pid the file names: fake the reuse.
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    await sleep(50);
    fs.writeFileSync(path.join(runDir(id), 'pid'), `${stranger.pid} ${start}\n`);
    fs.writeFileSync(path.join(runDir(id), 'monitor.pid'), `${stranger.pid} ${start}\n`);
    try {
      const st = inspectJson<{ State: { Status: string; Running: boolean } }>(sb, id);
      assert.equal(st.State.Status, 'exited');
      assert.equal(st.State.Running, false);
      assert.match(sb.ok(['ps', '-a', '--format', '{{.Status}}', '--filter', `id=${id}`]), /^Exited/);
      const k = sb.run(['kill', id]);
      assert.equal(k.code, 125, 'not running: nothing to kill');
      sb.ok(['stop', id]);
      sb.ok(['rm', '-f', id]);
      assert.ok(alive(stranger.pid!), 'the stranger holding the reused pid was never signalled');
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  test('helpers die with a SIGKILLed monitor; rm -f leaves no process of the container', async () => {
    const id = sb.ok(['run', '-d', '-p', '127.0.0.1::80', 'busybox', 'sleep', '1000']).trim();
    const helpers = fs.readFileSync(path.join(runDir(id), 'helpers'), 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[0]));
    const comms = helpers.map((p) => fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim()).sort();
    assert.deepEqual(comms, ['slirp4netns', 'tsctr-ports'], 'the monitor records its helpers');
    const init = Number(fs.readFileSync(path.join(runDir(id), 'pid'), 'utf8').split(' ')[0]);
    const monitor = Number(fs.readFileSync(path.join(runDir(id), 'monitor.pid'), 'utf8').split(' ')[0]);
    process.kill(monitor, 'SIGKILL');
    for (let i = 0; i < 100 && processesOf(helpers).length; i++) await sleep(20);
    assert.deepEqual(processesOf(helpers), [], 'slirp4netns and tsctr-ports die with their monitor');
    assert.ok(alive(init), 'the container itself outlives its monitor (as with a killed conmon)');
    sb.ok(['rm', '-f', id]);
    for (let i = 0; i < 100 && alive(init); i++) await sleep(20);
    assert.equal(alive(init), false, 'rm -f ends the container');
  });

  test('rm -f ends helpers a killed monitor could not take down (pasta daemonizes, out of reach of a death signal)', async () => {
    const id = sb.ok(['run', '-d', '--network', 'pasta', 'busybox', 'sleep', '1000']).trim();
    const helpers = fs.readFileSync(path.join(runDir(id), 'helpers'), 'utf8').trim().split('\n').filter(Boolean).map((l) => Number(l.split(' ')[0]));
    assert.ok(helpers.length >= 1, 'pasta is recorded');
    const monitor = Number(fs.readFileSync(path.join(runDir(id), 'monitor.pid'), 'utf8').split(' ')[0]);
    process.kill(monitor, 'SIGKILL');
    await sleep(100);
    sb.ok(['rm', '-f', id]);
    for (let i = 0; i < 100 && processesOf(helpers).length; i++) await sleep(20);
    assert.deepEqual(processesOf(helpers), [], 'no helper of the container is left');
  });
});
