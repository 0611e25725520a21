/**
 * What a container's monitor leaves in the run directory is trusted only as far as it can be:
 * pids are checked against their start time (a SIGKILLed monitor's pid files may name a stranger
 * later), and the helpers beside a container die with its monitor.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { inspectJson } from '../support/harness.js';
import { sleep, sleepSync } from '../support/wait.js';
import { useSandbox } from '../support/hooks.js';
import { alive } from '../support/processes.js';


/** This user's processes whose command line names the container (its monitor's spec) or is a helper of it. */
function processesOf(pids: number[]): number[] {
  return pids.filter(alive);
}

describe('monitor hardening', () => {
  const sb = useSandbox('monitor', { pull: ['busybox'] });
  const runDir = (id: string) => path.join(sb.env.XDG_RUNTIME_DIR!, 'tsctr', 'containers', id);

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
      assert.equal(k.code, 1, 'not running: nothing to kill (docker exits 1)');
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

  const logFiles = (name: string) => {
    const dir = path.join(sb.root, 'containers', sb.ok(['inspect', '--format', '{{.Id}}', name]).trim());
    return fs.readdirSync(dir).filter((f) => /^ctr\.log(\.\d+)?$/.test(f)).sort().map((f) => ({ name: f, size: fs.statSync(path.join(dir, f)).size }));
  };

  test('short lines cost a few bytes each on disk, not 21x; logs shows exactly what was written', () => {
    sb.ok(['run', '-d', '--name', 'short', 'busybox', 'sh', '-c', 'yes | head -n 200000; echo end >&2']);
    sb.ok(['wait', 'short']);
    const size = logFiles('short').reduce((n, f) => n + f.size, 0);
    // 400 kB of output ("y\n" each); k8s-file records took 43 bytes per line (8.6 MB).
    assert.ok(size < 5 * 400_000, `log is ${size} bytes for 400000 bytes of output`);
    const r = sb.run(['logs', 'short']);
    assert.ok(r.stdout === 'y\n'.repeat(200_000), `logs gave ${r.stdout.length} bytes: ${r.stderr.slice(0, 200)}`);
    assert.equal(r.stderr, 'end\n');
    assert.match(sb.ok(['logs', '-t', '--tail', '2', 'short']), /^\d{4}-\d\d-\d\dT[\d:.]+Z y\n$/m);
    sb.ok(['rm', 'short']);
    // One write per line, each read on its own: a time of its own on every record, as a delta.
    sb.ok(['run', '-d', '--name', 'slow', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 3000 ]; do echo x; i=$((i+1)); done']);
    sb.ok(['wait', 'slow']);
    const slow = logFiles('slow').reduce((n, f) => n + f.size, 0);
    assert.ok(slow < 10 * 6000, `log is ${slow} bytes for 6000 bytes written a line at a time (k8s-file: 43 a line)`);
    const times = sb.ok(['logs', '-t', 'slow']).trim().split('\n').map((l) => l.split(' ')[0]!);
    assert.equal(times.length, 3000);
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, `times in order: ${times[i - 1]} ${times[i]}`);
    assert.match(times.at(-1)!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    sb.ok(['rm', 'slow']);
  });

  test('--log-opt max-size/max-file rotate as docker json-file; logs reads across the files, -f follows a rotation', async () => {
    sb.ok(['run', '-d', '--name', 'rot', '--log-opt', 'max-size=100k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', 'seq 1 100000']);
    sb.ok(['wait', 'rot']);
    const files = logFiles('rot');
    assert.deepEqual(files.map((f) => f.name), ['ctr.log', 'ctr.log.1', 'ctr.log.2']);
    for (const f of files) assert.ok(f.size <= 100 * 1024, `${f.name}: ${f.size}`);
    const lines = sb.ok(['logs', 'rot']).trim().split('\n');
    assert.equal(lines.at(-1), '100000');
    // What is kept is the newest output, in order, without a gap.
    const tail = lines.slice(1).map(Number);
    tail.forEach((n, i) => i && assert.equal(n, tail[i - 1]! + 1));
    assert.deepEqual(JSON.parse(sb.ok(['inspect', '--format', '{{json .HostConfig.LogConfig}}', 'rot'])), { Type: 'k8s-file', Config: { 'max-size': '100k', 'max-file': '3' } });

    sb.ok(['run', '-d', '--name', 'follow', '--log-opt', 'max-size=8k', '--log-opt', 'max-file=2', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); usleep 500; done']);
    const followed = (await sb.runAsync(['logs', '-f', 'follow'])).stdout.trim().split('\n');
    assert.ok(logFiles('follow').length === 2, 'it rotated while followed');
    assert.equal(followed.length, 2000, 'logs -f lost nothing across the rotations');
    followed.forEach((l, i) => assert.equal(l, `line${i}`));
    sb.ok(['rm', 'rot', 'follow']);
  });

  test('without --log-opt the log is capped (3 files of 10 MiB)', () => {
    sb.ok(['run', '-d', '--name', 'big', 'busybox', 'sh', '-c', 'yes 0123456789012345678901234567890123456789012345678901234567890123456789 | head -c 40000000']);
    sb.ok(['wait', 'big']);
    const files = logFiles('big');
    assert.deepEqual(files.map((f) => f.name), ['ctr.log', 'ctr.log.1', 'ctr.log.2']);
    assert.ok(files.reduce((n, f) => n + f.size, 0) <= 30 * 1024 * 1024);
    sb.ok(['rm', 'big']);
  });

  test('bad --log-opt: one Error line, 125, nothing created', () => {
    const before = sb.ok(['ps', '-aq']);
    for (const [opt, msg] of [
      [['max-file=2'], /^Error: max-file cannot be set without max-size$/],
      [['bogus=1'], /^Error: unknown log opt 'bogus'/],
      [['max-size=xx'], /^Error: invalid log opt max-size=xx/],
      [['max-size=1m', 'max-file=0'], /^Error: invalid log opt max-file=0/],
      [['max-size'], /^Error: invalid log opt 'max-size'/],
    ] as const) {
      const r = sb.run(['run', ...opt.flatMap((o) => ['--log-opt', o]), 'busybox', 'true']);
      assert.equal(r.code, 125, opt.join(' '));
      assert.match(r.stderr.trim(), msg);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
    assert.equal(sb.ok(['ps', '-aq']), before);
  });

  test('--pids-limit holds without a pids controller: a fork loop stops at the limit (RLIMIT_NPROC per uid in the container\'s user namespace), exec too', () => {
    // Forks until refused, then counts the container's processes with shell builtins only.
    // (A shell whose fork fails exits: the loop runs in a subshell of its own.)
    const script = '(for i in $(seq 1 60); do sleep 30 & done) 2>/dev/null; n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; echo $n';
    const r = sb.run(['run', '-d', '--name', 'bomb', '--pids-limit', '20', 'busybox', 'sh', '-c', `${script}; exec sleep 1000`]);
    assert.equal(r.code, 0, r.stderr);
    let count = 0;
    for (let i = 0; i < 100 && !count; i++) {
      count = Number(sb.ok(['logs', 'bomb']).trim());
      if (!count) sleepSync(50);
    }
    assert.ok(count <= 20, `${count} processes ran under --pids-limit 20`);
    // Counted in the container's user namespace only: the user's own processes did not use it up.
    assert.ok(count >= 15, `only ${count} processes could start`);
    assert.equal(sb.ok(['exec', 'bomb', 'sh', '-c', 'ulimit -u']).trim(), '20');
    const usable = /applies to each user of the container separately/.test(r.stderr) || !/pids/.test(r.stderr);
    assert.ok(usable, `never silent: ${r.stderr}`);
    sb.ok(['rm', '-f', 'bomb']);
  });
});
