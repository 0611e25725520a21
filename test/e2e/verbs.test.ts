/**
 * docker's verbs that tsctr lacked: pause/unpause, stats, diff, attach; podman's exists verbs and
 * run --replace; info's Host.LogDriver. Each as a docker or podman user would use it.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { inspectJson } from '../support/harness.js';
import { useSandbox } from '../support/hooks.js';
import { sleep, until } from '../support/wait.js';

const sb = useSandbox('verbs', { pull: ['busybox'] });

const status = (name: string) => sb.ok(['ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.Status}}']).trim();
const lines = (name: string) => sb.ok(['logs', name]).trim().split('\n').filter(Boolean).length;

describe('pause and unpause', () => {
  test('pause stops a counter, ps and inspect say paused, unpause resumes it; stop of a paused container works', async () => {
    // (pid 1 ignores signals it has no handler for: the trap makes stop's SIGTERM count)
    sb.ok(['run', '-d', '--name', 'counter', 'busybox', 'sh', '-c', 'trap "exit 143" TERM; i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done']);
    await until('output', () => (lines('counter') >= 3 ? true : undefined));
    assert.equal(sb.ok(['pause', 'counter']).trim(), 'counter');
    await sleep(200); // what was on its way to the log
    const frozen = lines('counter');
    await sleep(1000);
    assert.equal(lines('counter'), frozen, 'the counter advanced while paused');
    assert.match(status('counter'), /^Up .* \(Paused\)$/);
    const st = inspectJson<{ State: { Status: string; Paused: boolean; Running: boolean } }>(sb, 'counter').State;
    assert.deepEqual([st.Status, st.Paused, st.Running], ['paused', true, true]);
    assert.equal(sb.ok(['ps', '--filter', 'status=paused', '--format', '{{.Names}}']).trim(), 'counter');
    assert.equal(sb.ok(['ps', '--filter', 'status=running', '--filter', 'name=^counter$', '--format', '{{.Names}}']).trim(), '');
    assert.match(sb.ok(['info', '--format', '{{.Store.ContainerStore.Paused}}']), /^1\n$/);

    const exec = sb.run(['exec', 'counter', 'true']);
    assert.equal(exec.code, 125);
    assert.match(exec.stderr, /^Error: Container [0-9a-f]{64} is paused, unpause the container before exec\n$/);
    const again = sb.run(['pause', 'counter']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^Error: Container [0-9a-f]{64} is already paused\n$/);

    assert.equal(sb.ok(['unpause', 'counter']).trim(), 'counter');
    await sleep(600);
    assert.ok(lines('counter') > frozen + 2, 'the counter did not resume');
    assert.match(status('counter'), /^Up [^()]*$/);
    const notPaused = sb.run(['container', 'unpause', 'counter']);
    assert.equal(notPaused.code, 1);
    assert.match(notPaused.stderr, /is not paused/);

    sb.ok(['pause', 'counter']);
    const t0 = Date.now();
    sb.ok(['stop', '-t', '5', 'counter']);
    assert.ok(Date.now() - t0 < 4000, 'stop of a paused container waited for the timeout (the signal was not delivered)');
    assert.match(status('counter'), /^Exited \(143\)/);
    const stopped = sb.run(['pause', 'counter']);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /is not running/);
  });

  test('kill of a paused container works', () => {
    sb.ok(['run', '-d', '--name', 'pk', 'busybox', 'sleep', '600']);
    sb.ok(['pause', 'pk']);
    sb.ok(['kill', 'pk']);
    assert.equal(sb.ok(['wait', 'pk']).trim(), '137');
  });
});

describe('stats', () => {
  test('--no-stream shows the container with its memory in a plausible range; --format; -a', async () => {
    // 20 MB held in a shell variable: the resident set must show it (the loop keeps the shell, which
    // would otherwise exec its last command).
    sb.ok(['run', '-d', '--name', 'mem', 'busybox', 'sh', '-c', 'x=$(head -c 20000000 /dev/zero | tr "\\0" a); echo ready; while true; do sleep 1; done']);
    await until('ready', () => (sb.ok(['logs', 'mem']).includes('ready') ? true : undefined));
    const table = sb.ok(['stats', '--no-stream']);
    const [header, ...rows] = table.trim().split('\n');
    assert.match(header!, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
    const row = rows.find((r) => / mem /.test(r));
    assert.ok(row, table);
    const out = sb.ok(['stats', '--no-stream', '--format', '{{.Name}}|{{.MemUsage}}|{{.MemPerc}}|{{.CPUPerc}}|{{.PIDs}}|{{.NetIO}}', 'mem']).trim();
    const [name, mem, memPerc, cpu, pids, net] = out.split('|');
    assert.equal(name, 'mem');
    const m = /^([\d.]+)(B|KiB|MiB|GiB) \/ ([\d.]+)(MiB|GiB|TiB)$/.exec(mem!);
    assert.ok(m, mem);
    const unit = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 } as Record<string, number>;
    const used = Number(m[1]) * unit[m[2]!]!;
    assert.ok(used > 20e6 && used < 200e6, `memory ${mem}`);
    assert.match(memPerc!, /^\d+\.\d\d%$/);
    assert.match(cpu!, /^\d+\.\d\d%$/);
    assert.ok(Number(pids) >= 2, `pids ${pids}`); // sh and sleep
    assert.match(net!, /^[\d.]+[kMG]?B \/ [\d.]+[kMG]?B$/);

    sb.ok(['create', '--name', 'idle', 'busybox', 'true']);
    assert.doesNotMatch(sb.ok(['stats', '--no-stream', '--format', '{{.Name}}']), /idle/);
    assert.match(sb.ok(['stats', '--no-stream', '-a', '--format', '{{.Name}} {{.MemUsage}}']), /^idle 0B \/ 0B$/m);
    const missing = sb.run(['stats', '--no-stream', 'nosuch']);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /^Error: No such container: nosuch\n$/);
  });

  test('a container with limits: its cgroup where it has the controllers, /proc for the rest', () => {
    sb.ok(['run', '-d', '--name', 'lim', '--memory', '64m', '--pids-limit', '50', 'busybox', 'sleep', '600']);
    const out = sb.ok(['stats', '--no-stream', '--format', '{{.PIDs}}|{{.MemUsage}}', 'lim']).trim();
    const [pids, mem] = out.split('|');
    assert.equal(pids, '1');
    // What the container's own cgroup says (mounted read-only at /sys/fs/cgroup), if it has one.
    const max = sb.run(['exec', 'lim', 'cat', '/sys/fs/cgroup/memory.max']);
    if (max.code === 0 && max.stdout.trim() === String(64 * 1024 * 1024)) assert.match(mem!, / \/ 64MiB$/);
    else assert.doesNotMatch(mem!, / \/ 64MiB$/); // no memory controller: the machine's memory
    assert.match(mem!, /^[\d.]+(KiB|MiB) \//);
  });
});

describe('diff', () => {
  test('A, C and D for a known change, as docker prints them; --format json', () => {
    sb.ok(['run', '--name', 'changed', 'busybox', 'sh', '-c', 'echo new > /added && echo x >> /etc/passwd && rm /bin/ls && mkdir -p /tmp/d && touch /tmp/d/f']);
    const out = sb.ok(['diff', 'changed']).trim().split('\n');
    for (const want of ['A /added', 'C /etc', 'C /etc/passwd', 'C /bin', 'D /bin/ls', 'C /tmp', 'A /tmp/d', 'A /tmp/d/f']) {
      assert.ok(out.includes(want), `missing "${want}" in:\n${out.join('\n')}`);
    }
    // The runtime's mount points are no change of the container's.
    assert.ok(!out.some((l) => /hosts|hostname|resolv\.conf/.test(l)), out.join('\n'));
    const json = JSON.parse(sb.ok(['diff', '--format', 'json', 'changed']));
    assert.ok(json.added.includes('/added') && json.deleted.includes('/bin/ls') && json.changed.includes('/etc/passwd'));
    // Nothing changed: nothing printed.
    sb.ok(['create', '--name', 'pristine', 'busybox', 'true']);
    assert.equal(sb.ok(['diff', 'pristine']), '');
    assert.equal(sb.run(['diff', 'nosuch']).code, 125);
  });
});

describe('attach', () => {
  test('attach receives what the container writes after attaching, and exits with its code', async () => {
    sb.ok(['run', '-d', '--name', 'talker', 'busybox', 'sh', '-c', 'echo before; sleep 2; echo after; echo oops >&2; sleep 1; exit 3']);
    await until('first line', () => (sb.ok(['logs', 'talker']).includes('before') ? true : undefined));
    const r = await sb.runAsync(['attach', '--no-stdin', 'talker']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'after\n');
    assert.equal(r.stderr, 'oops\n');
    const stopped = sb.run(['attach', 'talker']);
    assert.equal(stopped.code, 125);
    assert.match(stopped.stderr, /^Error: You cannot attach to a stopped container, start it first\n$/);
  });

  test('under a restart policy, attach ends with the run it attached to', async () => {
    sb.ok(['run', '-d', '--name', 'again', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 1; echo bye; exit 4']);
    const r = await sb.runAsync(['attach', 'again']);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, 'bye\n');
    sb.ok(['rm', '-f', 'again']);
  });

  test('ctrl-c on attach reaches the container (sig-proxy)', async () => {
    sb.ok(['run', '-d', '--name', 'trap', 'busybox', 'sh', '-c', "trap 'echo got INT; exit 7' INT; echo up; while true; do sleep 0.1; done"]);
    await until('up', () => (sb.ok(['logs', 'trap']).includes('up') ? true : undefined));
    const p = sb.runAsync(['attach', 'trap']);
    await sleep(500);
    p.kill('SIGINT');
    const r = await p;
    assert.equal(r.stdout, 'got INT\n');
    assert.equal(r.code, 7);
  });
});

describe('podman spellings', () => {
  test('container/image/volume exists: exit 0 or 1, no output', () => {
    sb.ok(['create', '--name', 'here', 'busybox', 'true']);
    sb.ok(['volume', 'create', 'vol1']);
    for (const [args, code] of [
      [['container', 'exists', 'here'], 0],
      [['container', 'exists', 'nothere'], 1],
      [['image', 'exists', 'busybox'], 0],
      [['image', 'exists', 'nosuchimage:1'], 1],
      [['volume', 'exists', 'vol1'], 0],
      [['volume', 'exists', 'vol2'], 1],
    ] as [string[], number][]) {
      const r = sb.run(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout + r.stderr, '', args.join(' '));
    }
  });

  test('run --replace removes the container of that name first (running or not); without it the name is taken', () => {
    const first = sb.ok(['run', '-d', '--name', 'rep', 'busybox', 'sleep', '600']).trim();
    const taken = sb.run(['run', '-d', '--name', 'rep', 'busybox', 'sleep', '600']);
    assert.equal(taken.code, 125);
    const second = sb.ok(['run', '-d', '--replace', '--name', 'rep', 'busybox', 'sleep', '600']).trim();
    assert.notEqual(second, first);
    assert.equal(sb.run(['container', 'exists', first]).code, 1);
    assert.equal(sb.ok(['ps', '--filter', 'name=^rep$', '--format', '{{.ID}}']).trim(), second.slice(0, 12));
    const third = sb.ok(['create', '--replace', '--name', 'rep', 'busybox', 'true']).trim();
    assert.equal(sb.ok(['ps', '-a', '--filter', 'name=^rep$', '--format', '{{.ID}}']).trim(), third.slice(0, 12));
    // Nothing of that name: --replace just creates.
    sb.ok(['create', '--replace', '--name', 'fresh', 'busybox', 'true']);
  });

  test("info --format '{{.Host.LogDriver}}'", () => {
    assert.equal(sb.ok(['info', '--format', '{{.Host.LogDriver}}']), 'k8s-file\n');
  });
});
