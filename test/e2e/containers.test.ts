/**
 * Containers end to end, run as an unprivileged user: real namespaces, a real overlay root, the
 * C monitor, docker's commands and exit codes.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, Sandbox, subordinateStart } from '../support/harness.js';
import { until } from '../support/wait.js';
import { useSandbox } from '../support/hooks.js';
import { inScript } from '../support/pty.js';

/** Processes of this user whose command line mentions the sandbox (monitors, containers, helpers). */
function processesOf(sb: Sandbox): string[] {
  const out = spawnSync('ps', ['-u', String(process.getuid!()), '-o', 'pid=,args='], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter((l) => l.includes(sb.dir) && !l.includes(' ps '));
}

function mountsOf(sb: Sandbox): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(sb.dir));
}

describe('containers', () => {
  const sb = useSandbox('ctr', { pull: ['busybox'] });

  test('run: id is root inside, exit codes and streams are the container\'s', () => {
    const r = sb.run(['run', '--rm', 'busybox', 'sh', '-c', 'id; echo to-stderr >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /^uid=0\(root\) gid=0\(root\)/);
    assert.equal(r.stderr, 'to-stderr\n');
  });

  test('126 and 127 like docker, 125 for engine errors', () => {
    const nf = sb.run(['run', '--rm', 'busybox', 'nosuchcommand']);
    assert.equal(nf.code, 127);
    assert.match(nf.stderr, /executable file not found in \$PATH/);
    const dir = sb.run(['run', '--rm', 'busybox', '/etc']);
    assert.equal(dir.code, 126);
    const bad = sb.run(['run', '--rm', '--ulimit', 'nofile=x', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: invalid ulimit argument/);
    const unknown = sb.run(['run', '--bogus-flag', 'busybox']);
    assert.equal(unknown.code, 125);
    assert.equal(sb.ok(['ps', '-aq']).trim(), '', 'failed runs with --rm leave nothing');
    const kept = sb.run(['run', '--name', 'failed', 'busybox', 'nosuchcommand']);
    assert.equal(kept.code, 127);
    assert.match(sb.ok(['ps', '-a', '--filter', 'name=failed', '--format', '{{.Status}}']), /Created|Exited/, 'without --rm the container stays, as with docker');
    sb.ok(['rm', 'failed']);
  });

  test('isolation: own hostname and pid namespace, no host files, sysrq not writable', () => {
    const marker = path.join(os.homedir(), `.tsctr-marker-${process.pid}`);
    fs.writeFileSync(marker, 'secret');
    try {
      const out = sb.ok(['run', '--rm', '--hostname', 'box1', 'busybox', 'sh', '-c',
        `hostname; ps -o pid= | wc -l; cat ${marker} 2>&1; ls /home 2>&1; echo 1 > /proc/sysrq-trigger 2>&1 && echo WROTE-SYSRQ; cat /proc/kcore | wc -c`]);
      const lines = out.trim().split('\n');
      assert.equal(lines[0], 'box1');
      assert.ok(Number(lines[1]) <= 3, `only the container's processes: ${lines[1]}`);
      assert.doesNotMatch(out, /secret/);
      assert.doesNotMatch(out, /WROTE-SYSRQ/);
      assert.equal(lines.at(-1), '0', '/proc/kcore is masked');
    } finally {
      fs.rmSync(marker);
    }
  });

  test('the chroot-in-chroot escape does not reach the host', () => {
    const host = fs.readdirSync('/').sort().join(' ');
    const out = sb.ok(['run', '--rm', 'busybox', 'sh', '-c', 'mkdir -p /x && chroot /x /bin/true 2>/dev/null; cd / && mkdir -p e && chroot e sh -c "cd ../../../..; ls /" 2>&1; ls / | sort | tr "\\n" " "']);
    assert.notEqual(out.trim().split('\n').at(-1)?.trim(), host);
    assert.doesNotMatch(out, /\bhome\b.*\bvar\b.*\bwork\b/);
  });

  test('bind mounts: files created inside belong to the user outside; chown 33 works in the writable layer', () => {
    const dir = fs.mkdtempSync(path.join(sb.dir, 'bind-'));
    sb.ok(['run', '--rm', '-v', `${dir}:/data`, 'busybox', 'sh', '-c', 'echo hi > /data/f && touch /x && chown 33:33 /x && ls -ln /x']);
    assert.equal(fs.statSync(path.join(dir, 'f')).uid, process.getuid!());
    assert.equal(fs.readFileSync(path.join(dir, 'f'), 'utf8'), 'hi\n');
    const ro = sb.run(['run', '--rm', '-v', `${dir}:/data:ro`, 'busybox', 'touch', '/data/g']);
    assert.notEqual(ro.code, 0);
  });

  test('-e, --env-file, -w, -u, --entrypoint follow docker\'s rules', () => {
    const envFile = path.join(sb.dir, 'env');
    fs.writeFileSync(envFile, '# comment\nFROM_FILE=yes\n');
    const out = sb.ok(['run', '--rm', '-e', 'A=1', '--env-file', envFile, '-w', '/tmp', '-u', 'nobody', 'busybox', 'sh', '-c', 'echo $A $FROM_FILE $(pwd) $(id -u)']);
    assert.equal(out.trim(), '1 yes /tmp 65534');
    assert.equal(sb.ok(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'from', 'entrypoint']).trim(), 'from entrypoint');
    assert.equal(sb.ok(['run', '--rm', '-u', '33:33', 'busybox', 'id', '-u']).trim(), '33');
  });

  test('detached: outlives the CLI, shows Up in ps, logs, exec, stop, start keeps the writable layer', async () => {
    const id = sb.ok(['run', '-d', '--name', 'sleeper', 'busybox', 'sh', '-c', 'echo started; trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done']).trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    await until('log line', () => sb.ok(['logs', 'sleeper']).includes('started'));
    const ps = sb.ok(['ps']);
    assert.match(ps, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/m);
    assert.match(ps, new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+"sh -c 'echo started…"\\s+.+ago\\s+Up .+\\s+sleeper$`, 'm'));
    assert.equal(sb.ok(['exec', 'sleeper', 'hostname']).trim(), id.slice(0, 12));
    const top = sb.ok(['top', 'sleeper']);
    assert.match(top, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD/);
    assert.match(top, /sh -c echo started/);
    assert.equal(sb.run(['exec', 'sleeper', 'sh', '-c', 'exit 4']).code, 4);
    sb.ok(['exec', 'sleeper', 'sh', '-c', 'echo kept > /kept && rm /bin/wget']);
    assert.equal(sb.ok(['stop', 'sleeper']).trim(), 'sleeper');
    assert.match(sb.ok(['logs', 'sleeper']), /bye/);
    assert.match(sb.ok(['ps', '-a', '--filter', 'name=sleeper', '--format', '{{.Status}}']), /^Exited \(0\)/);
    assert.equal(sb.ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'sleeper']).trim(), 'exited 0');
    sb.ok(['start', 'sleeper']);
    assert.equal(sb.ok(['exec', 'sleeper', 'cat', '/kept']).trim(), 'kept');
    assert.notEqual(sb.run(['exec', 'sleeper', 'ls', '/bin/wget']).code, 0, 'a deleted lower-layer file stays deleted');
    const rmRunning = sb.run(['rm', 'sleeper']);
    assert.equal(rmRunning.code, 1, 'docker exits 1 (podman 2)');
    assert.match(rmRunning.stderr, /container is running/);
    sb.ok(['rm', '-f', 'sleeper']);
    await until('processes gone', () => processesOf(sb).length === 0);
    assert.deepEqual(mountsOf(sb), []);
  });

  test('stop uses the stop signal, then SIGKILL after the timeout', async () => {
    sb.ok(['run', '-d', '--name', 'stubborn', '--stop-signal', 'SIGUSR1', 'busybox', 'sh', '-c', 'trap "" TERM USR1; while true; do sleep 0.1; done']);
    const t0 = Date.now();
    sb.ok(['stop', '-t', '1', 'stubborn']);
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 6000, `took ${took} ms`);
    assert.equal(sb.ok(['inspect', '-f', '{{.State.ExitCode}}', 'stubborn']).trim(), '137');
    sb.ok(['rm', 'stubborn']);
  });

  test('kill, wait, rename, --rm with -d, --init', async () => {
    sb.ok(['run', '-d', '--name', 'k', 'busybox', 'sleep', '30']);
    const waiter = sb.runAsync(['wait', 'k']);
    sb.ok(['kill', '-s', 'KILL', 'k']);
    const w = await waiter;
    assert.equal(w.stdout.trim(), '137');
    sb.ok(['rename', 'k', 'k2']);
    assert.match(sb.ok(['ps', '-a', '--format', '{{.Names}}']), /^k2$/m);
    sb.ok(['rm', 'k2']);
    sb.ok(['run', '-d', '--rm', '--name', 'ephemeral', 'busybox', 'true']);
    await until('--rm removed it', () => !sb.ok(['ps', '-a', '--format', '{{.Names}}']).includes('ephemeral'));
    assert.equal(sb.ok(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "']).includes('init'), true);
  });

  test('volumes: named ones persist across containers, anonymous ones go with rm -v, in-use ones are kept', () => {
    sb.ok(['run', '--rm', '-v', 'shared:/data', 'busybox', 'sh', '-c', 'echo persisted > /data/f']);
    assert.equal(sb.ok(['run', '--rm', '-v', 'shared:/data', 'busybox', 'cat', '/data/f']).trim(), 'persisted');
    sb.ok(['create', '--name', 'holder', '-v', 'shared:/data', '-v', '/anon', 'busybox', 'true']);
    const before = sb.ok(['volume', 'ls', '-q']).trim().split('\n');
    const refused = sb.run(['volume', 'rm', 'shared']);
    assert.equal(refused.code, 1, 'docker exits 1');
    assert.match(refused.stderr, /volume is in use/);
    sb.ok(['rm', '-v', 'holder']);
    const after = sb.ok(['volume', 'ls', '-q']).trim().split('\n');
    assert.equal(after.length, before.length - 1, 'the anonymous volume went, the named one stayed');
    assert.ok(after.includes('shared'));
    sb.ok(['volume', 'rm', 'shared']);
    assert.equal(sb.run(['volume', 'inspect', 'shared']).code, 1);
  });

  test('names are unique: of two concurrent runs with one name exactly one wins', async () => {
    const results = await Promise.all([0, 1].map(() => sb.runAsync(['run', '-d', '--name', 'dup', 'busybox', 'sleep', '30'])));
    const codes = results.map((r) => r.code).sort();
    assert.deepEqual(codes, [0, 125]);
    assert.match(results.find((r) => r.code === 125)!.stderr, /The container name "\/dup" is already in use/);
    assert.equal(sb.ok(['ps', '-aq', '--filter', 'name=^dup$']).trim().split('\n').length, 1);
    sb.ok(['rm', '-f', 'dup']);
  });

  test('20 detached containers at once all start, and rm -f leaves no process or mount', async () => {
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => sb.runAsync(['run', '-d', '--name', `many${i}`, 'busybox', 'sleep', '60'])));
    runs.forEach((r, i) => assert.equal(r.code, 0, `many${i}: ${r.stderr}`));
    assert.equal(sb.ok(['ps', '-q', '--filter', 'name=^many']).trim().split('\n').length, 20);
    sb.ok(['rm', '-f', ...runs.map((_, i) => `many${i}`)]);
    await until('no processes', () => processesOf(sb).length === 0);
    assert.deepEqual(mountsOf(sb), []);
    assert.equal(sb.ok(['ps', '-aq', '--filter', 'name=^many']).trim(), '');
  });

  test('the writable layer lives under the user\'s store, owned by subordinate ids for chowned files', () => {
    const id = sb.ok(['create', 'busybox', 'sh', '-c', 'touch /owned && chown 33:33 /owned']).trim();
    sb.ok(['start', '-a', id]);
    const st = fs.statSync(path.join(sb.root, 'containers', id, 'upper', 'owned'));
    assert.equal(st.uid, subordinateStart('uid') + 32);
    sb.ok(['rm', id]);
  });

  test('a container whose monitor died shows as Exited, never Up', async () => {
    sb.ok(['run', '-d', '--name', 'orphan', 'busybox', 'sleep', '60']);
    const pid = Number(sb.ok(['inspect', '-f', '{{.State.Pid}}', 'orphan']).trim());
    process.kill(pid, 'SIGKILL');
    await until('exited', () => sb.ok(['ps', '-a', '--filter', 'name=orphan', '--format', '{{.State}}']).trim() === 'exited');
    sb.ok(['rm', 'orphan']);
  });

  test('cp copies both ways: a file renamed, a directory into a directory', () => {
    sb.ok(['run', '-d', '--name', 'cpbox', 'busybox', 'sleep', '60']);
    const dir = fs.mkdtempSync(path.join(sb.dir, 'cp-'));
    fs.mkdirSync(path.join(dir, 'site'));
    fs.writeFileSync(path.join(dir, 'site', 'index.html'), 'hello cp');
    sb.ok(['cp', path.join(dir, 'site'), 'cpbox:/tmp/']);
    assert.equal(sb.ok(['exec', 'cpbox', 'cat', '/tmp/site/index.html']), 'hello cp');
    sb.ok(['cp', 'cpbox:/etc/passwd', path.join(dir, 'pw')]);
    assert.match(fs.readFileSync(path.join(dir, 'pw'), 'utf8'), /^root:x:0:0/);
    assert.equal(fs.statSync(path.join(dir, 'pw')).uid, process.getuid!());
    const bad = sb.run(['cp', 'cpbox:relative', dir]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /must be absolute/);
    sb.ok(['rm', '-f', 'cpbox']);
  });

  test('-it gives a real terminal and exit returns the code', () => {
    const r = inScript(`${BIN} run -it --rm busybox sh -c 'tty; stty size; exit 3'`, { env: sb.env, timeout: 30_000 });
    assert.match(r.stdout, /\/dev\/pts\/0/);
    // script(1) may forward a stray NUL from its closed stdin ahead of the output: no ^ anchor.
    assert.match(r.stdout, /\b\d+ \d+\r?$/m, 'the window size reached the container');
    assert.equal(r.status, 3);
  });

  test('the CLI killed with SIGKILL during run leaves something ps -a and rm -f clean up', async () => {
    const p = sb.runAsync(['run', '--name', 'killed', 'busybox', 'sleep', '30']);
    await until('started', () => sb.ok(['ps', '--filter', 'name=killed', '-q']).trim() !== '');
    p.kill('SIGKILL');
    await p;
    assert.match(sb.ok(['ps', '-a', '--filter', 'name=killed', '--format', '{{.Names}}']), /killed/);
    sb.ok(['rm', '-f', 'killed']);
    await until('no processes', () => processesOf(sb).length === 0);
    assert.equal(sb.ok(['ps', '-aq', '--filter', 'name=killed']).trim(), '');
  });

  test('resource limits: in a delegated cgroup v2 the container gets its own cgroup with what the delegation can limit, and a warning names what it cannot', async (t) => {
    const mount = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' - ')).find(([, fs2]) => fs2?.startsWith('cgroup2 '))?.[0]?.split(' ')[4];
    const own = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3);
    const writable = (f: string) => spawnSync('test', ['-w', f]).status === 0;
    if (!mount || !own || !writable(path.join(mount, own, 'cgroup.procs'))) {
      // scripts/test.sh delegates one; cross-user.sh checks the undelegated warning.
      t.skip('this test process is not in a delegated cgroup v2 (run it through scripts/test.sh)');
      return;
    }
    const r = sb.run(['run', '-d', '--name', 'limited', '--memory', '64m', '--cpus', '0.5', '--pids-limit', '50', 'busybox', 'sleep', '60']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    const pid = sb.ok(['inspect', '-f', '{{.State.Pid}}', id]).trim();
    // On the host: init is in <delegation>/tsctr/<id>, a cgroup of its own.
    const cgroup = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))!.slice(3);
    assert.match(cgroup, new RegExp(`/tsctr/${id}$`));
    const dir = path.join(mount, cgroup);
    assert.ok(fs.existsSync(dir));
    // Each limit applies if its controller is delegated here, or is named as ignored.
    const usable = fs.readFileSync(path.join(path.dirname(dir), 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/);
    const expect: [string, string, string, string][] = [
      ['--memory', 'memory', 'memory.max', '67108864'],
      ['--cpus', 'cpu', 'cpu.max', '50000 100000'],
      ['--pids-limit', 'pids', 'pids.max', '50'],
    ];
    for (const [flag, controller, file, value] of expect) {
      if (usable.includes(controller)) {
        assert.equal(sb.ok(['exec', 'limited', 'cat', `/sys/fs/cgroup/${file}`]).trim(), value, file);
      } else {
        const how = flag === '--pids-limit' ? 'applies to each user of the container separately' : 'ignored';
        assert.match(r.stderr, new RegExp(`WARNING: [^\\n]*${flag}[^\\n]* ${how}[^\\n]*: the [^\\n]*${controller}[^\\n]* not delegated`), r.stderr);
      }
    }
    // Inside: its cgroup is the root of its own cgroup namespace, shown read-only at /sys/fs/cgroup;
    // exec'ed processes join it.
    const v2 = (text: string) => text.split('\n').find((l) => l.startsWith('0::'));
    assert.equal(v2(sb.ok(['exec', 'limited', 'cat', '/proc/1/cgroup'])), '0::/');
    assert.equal(v2(sb.ok(['exec', 'limited', 'cat', '/proc/self/cgroup'])), '0::/');
    assert.match(sb.ok(['exec', 'limited', 'grep', ' /sys/fs/cgroup ', '/proc/mounts']), /^cgroup2 \/sys\/fs\/cgroup cgroup2 ro,/);
    assert.notEqual(sb.run(['exec', 'limited', 'mkdir', '/sys/fs/cgroup/escape']).code, 0);
    // rm -f takes the cgroup with it; a container without limits gets none.
    sb.ok(['rm', '-f', 'limited']);
    await until('the cgroup is removed', () => !fs.existsSync(dir));
    const plain = sb.run(['run', '-d', '--name', 'unlimited', 'busybox', 'sleep', '60']);
    assert.equal(plain.code, 0);
    assert.doesNotMatch(plain.stderr, /WARNING/);
    const plainPid = sb.ok(['inspect', '-f', '{{.State.Pid}}', 'unlimited']).trim();
    assert.equal(v2(fs.readFileSync(`/proc/${plainPid}/cgroup`, 'utf8')), `0::${own}`);
    sb.ok(['rm', '-f', 'unlimited']);
  });
});
