/**
 * The rest of docker/podman compatibility (issue 16): events, update, search, run -a, cp with
 * stopped containers, volume copy-up, the image root's mode, ps --sort, noun forms, run --help.
 * Each as a docker user would use it, as the unprivileged user, with real containers.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { useSandbox } from '../support/hooks.js';
import { sleep, until } from '../support/wait.js';

const sb = useSandbox('compat2', { pull: ['busybox'] });

interface Ev {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
  timeNano: number;
}
const events = (...args: string[]): Ev[] =>
  sb.ok(['events', '--since', '10m', '--until', '0s', '--format', 'json', ...args]).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev);

describe('events', () => {
  test('a container run with --rm gives create, start, die (with its exit code), destroy, with docker fields', async () => {
    const r = sb.run(['run', '--rm', '--name', 'ev1', '--label', 'team=blue', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3);
    await sleep(1100); // --until 0s is whole seconds, as docker's
    const evs = events('--filter', 'container=ev1');
    assert.deepEqual(evs.map((e) => e.Action), ['create', 'start', 'die', 'destroy']);
    const die = evs[2]!;
    assert.equal(die.Type, 'container');
    assert.equal(die.Actor.Attributes.exitCode, '3');
    assert.equal(die.Actor.Attributes.name, 'ev1');
    assert.equal(die.Actor.Attributes.image, 'busybox');
    assert.equal(die.Actor.Attributes.team, 'blue', 'labels are attributes, as docker has them');
    assert.equal(die.status, 'die');
    assert.equal(die.from, 'busybox');
    assert.match(die.id!, /^[0-9a-f]{64}$/);
    assert.equal(die.time, Math.floor(die.timeNano / 1e9));
    // label= and event= filters, and a Go template
    assert.deepEqual(events('--filter', 'label=team=blue', '--filter', 'event=die').map((e) => e.Actor.Attributes.name), ['ev1']);
    const t = sb.ok(['events', '--since', '10m', '--until', '0s', '--filter', 'container=ev1', '--format', '{{.Type}} {{.Status}} {{.Actor.Attributes.name}}']);
    assert.equal(t, 'container create ev1\ncontainer start ev1\ncontainer die ev1\ncontainer destroy ev1\n');
    // docker's default line: time, type, action, id, sorted attributes
    const plain = sb.ok(['events', '--since', '10m', '--until', '0s', '--filter', 'container=ev1', '--filter', 'event=die']).trim();
    assert.match(plain, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) container die [0-9a-f]{64} \(exitCode=3, image=busybox, name=ev1, team=blue\)$/);
  });

  test('an exit while no tsctr command runs is in the journal: the monitor writes die itself', async () => {
    sb.ok(['run', '-d', '--name', 'ev2', 'busybox', 'sh', '-c', 'sleep 1; exit 7']);
    // Nothing of ours runs now but the container's monitor.
    await until('the exit', () => (sb.ok(['ps', '-a', '--filter', 'name=ev2', '--format', '{{.Status}}']).startsWith('Exited') ? true : undefined));
    await sleep(1100);
    const die = events('--filter', 'container=ev2', '--filter', 'event=die');
    assert.equal(die.length, 1);
    assert.equal(die[0]!.Actor.Attributes.exitCode, '7');
    sb.ok(['rm', 'ev2']);
  });

  test('without --until it follows new events until interrupted, filtered; since/until as unix time and RFC 3339', async () => {
    const start = Math.floor(Date.now() / 1000);
    const follow = sb.runAsync(['events', '--filter', 'container=ev3', '--format', '{{.Action}}']);
    await sleep(700);
    sb.ok(['run', '-d', '--name', 'ev3', 'busybox', 'sleep', '30']);
    sb.ok(['run', '--rm', 'busybox', 'true']); // another container: filtered out
    sb.ok(['kill', 'ev3']);
    await until('the die event', () => (sb.ok(['events', '--since', '1m', '--until', '0s', '--filter', 'container=ev3', '--filter', 'event=die']).includes('die') ? true : undefined));
    await sleep(500);
    follow.kill('SIGINT');
    const r = await follow;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['create', 'start', 'kill', 'die']);
    // the same from the journal, bounded by a unix time and an RFC 3339 time
    await sleep(1100);
    const rfc = new Date(Date.now()).toISOString();
    const past = sb.ok(['events', '--since', String(start - 1), '--until', rfc, '--filter', 'container=ev3', '--format', '{{.Action}}']);
    assert.equal(past, 'create\nstart\nkill\ndie\n');
    assert.equal(sb.ok(['events', '--since', String(start - 1), '--until', String(start - 1)]), '', 'nothing in an empty window');
    sb.ok(['rm', 'ev3']);
  });

  test('image, volume, network and exec events; type= filter', async () => {
    sb.ok(['tag', 'busybox', 'evtag:1']);
    sb.ok(['rmi', 'evtag:1']);
    sb.ok(['volume', 'create', 'evvol']);
    sb.ok(['volume', 'rm', 'evvol']);
    sb.ok(['network', 'create', 'evnet']);
    sb.ok(['network', 'rm', 'evnet']);
    sb.ok(['run', '-d', '--name', 'ev4', 'busybox', 'sleep', '30']);
    sb.ok(['exec', 'ev4', 'true']);
    sb.ok(['pause', 'ev4']);
    sb.ok(['unpause', 'ev4']);
    sb.ok(['rm', '-f', 'ev4']);
    await sleep(1100);
    const img = events('--filter', 'type=image').map((e) => `${e.Action} ${e.Actor.Attributes.name}`);
    assert.ok(img.includes('pull busybox'), img.join('; '));
    assert.ok(img.includes('tag evtag:1'), img.join('; '));
    assert.ok(img.includes('untag evtag:1'), img.join('; '));
    assert.deepEqual(events('--filter', 'volume=evvol').map((e) => `${e.Type} ${e.Action}`), ['volume create', 'volume destroy']);
    assert.deepEqual(events('--filter', 'network=evnet').map((e) => `${e.Type} ${e.Action} ${e.Actor.Attributes.type}`), ['network create bridge', 'network destroy bridge']);
    // rm -f: SIGTERM, then (sleep as pid 1 ignores it) SIGKILL
    const ctr = events('--filter', 'container=ev4').map((e) => e.Action);
    assert.deepEqual(ctr.filter((a) => a !== 'kill'), ['create', 'start', 'exec_create: true', 'exec_start: true', 'pause', 'unpause', 'die', 'stop', 'destroy']);
    assert.ok(ctr.indexOf('kill') > ctr.indexOf('unpause') && ctr.indexOf('kill') < ctr.indexOf('die'));
    assert.deepEqual(events('--filter', 'container=ev4', '--filter', 'event=exec_start').length, 1);
  });

  test("the monitor records health status changes as docker's health_status events", async () => {
    sb.ok(['run', '-d', '--name', 'evh', '--health-cmd', 'test ! -e /bad', '--health-interval', '300ms', '--health-retries', '1', 'busybox', 'sleep', '30']);
    const health = () => events('--filter', 'container=evh', '--filter', 'event=health_status').map((e) => e.Action);
    await until('healthy', () => (sb.ok(['ps', '--filter', 'name=evh', '--format', '{{.Status}}']).includes('(healthy)') ? true : undefined));
    sb.ok(['exec', 'evh', 'touch', '/bad']);
    await until('unhealthy', () => (sb.ok(['ps', '--filter', 'name=evh', '--format', '{{.Status}}']).includes('(unhealthy)') ? true : undefined));
    await sleep(1100);
    assert.deepEqual(health(), ['health_status: healthy', 'health_status: unhealthy']);
    sb.ok(['rm', '-f', 'evh']);
  });

  test('bad input: one line, exit 125', () => {
    for (const args of [['--filter', 'colour=red'], ['--filter', 'type=planet'], ['--since', 'yesterday'], ['--until', 'soon']]) {
      const r = sb.run(['events', ...(args[0] === '--until' ? [] : ['--until', '0s']), ...args]);
      assert.equal(r.code, 125, args.join(' '));
      assert.match(r.stderr, /^Error: .+\n$/);
    }
  });
});

describe('update', () => {
  test('limits are stored and applied as run applies them (or with the same warning); 0 removes one', () => {
    sb.ok(['run', '-d', '--name', 'up1', 'busybox', 'sleep', '60']);
    const r = sb.run(['update', '--memory', '64m', '--cpus', '0.5', '--pids-limit', '100', 'up1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'up1\n');
    const hc = () => JSON.parse(sb.ok(['inspect', '--format', '{{json .HostConfig}}', 'up1'])) as { Memory: number; NanoCpus: number; PidsLimit: number | null };
    assert.deepEqual([hc().Memory, hc().NanoCpus, hc().PidsLimit], [64 * 1024 * 1024, 5e8, 100]);
    // What run says for the same limits on this host, update says for the running container.
    const ref = sb.run(['run', '--rm', '--memory', '64m', '--cpus', '0.5', '--pids-limit', '100', 'busybox', 'true']);
    const warnings = (s: string) => s.split('\n').filter((l) => l.startsWith('WARNING'));
    assert.deepEqual(warnings(r.stderr), warnings(ref.stderr));
    const own = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3);
    const mount = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' - ')).find(([, f]) => f?.startsWith('cgroup2 '))?.[0]?.split(' ')[4];
    const delegated = own !== undefined && mount !== undefined && (() => {
      try {
        fs.accessSync(`${mount}${own}/cgroup.procs`, fs.constants.W_OK);
        return true;
      } catch {
        return false;
      }
    })();
    if (delegated) {
      // It ran without limits, so without a cgroup of its own: now its processes are in one,
      // holding what the delegation's controllers can limit.
      const id = sb.ok(['inspect', '--format', '{{.Id}}', 'up1']).trim();
      const pid = sb.ok(['inspect', '--format', '{{.State.Pid}}', 'up1']).trim();
      const cg = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))!.slice(3);
      assert.match(cg, new RegExp(`/tsctr/${id}$`));
      const mem = `${mount}${cg}/memory.max`;
      if (fs.existsSync(mem)) assert.equal(fs.readFileSync(mem, 'utf8').trim(), String(64 * 1024 * 1024));
    }
    sb.ok(['update', '--memory', '0', '--pids-limit', '-1', 'up1']);
    assert.deepEqual([hc().Memory, hc().NanoCpus, hc().PidsLimit], [0, 5e8, null]);
    sb.ok(['rm', '-f', 'up1']);
  });

  test('--restart on a running container applies at its next exit; stored for a stopped one', async () => {
    sb.ok(['run', '-d', '--name', 'up2', 'busybox', 'sh', '-c', 'while [ ! -e /go ]; do sleep 0.1; done; exit 5']);
    sb.ok(['update', '--restart', 'on-failure:2', 'up2']);
    assert.equal(sb.ok(['inspect', '--format', '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'up2']).trim(), 'on-failure:2');
    sb.ok(['exec', 'up2', 'touch', '/go']);
    // /go stays in its writable layer: each restart exits at once, two restarts, then it stays exited
    await until('two restarts', () => (sb.ok(['inspect', '--format', '{{.RestartCount}} {{.State.Status}}', 'up2']).trim() === '2 exited' ? true : undefined), 20_000);
    await sleep(1100);
    const starts = events('--filter', 'container=up2', '--filter', 'event=start');
    assert.equal(starts.length, 3);
    sb.ok(['update', '--restart', 'no', 'up2']);
    assert.equal(sb.ok(['inspect', '--format', '{{.HostConfig.RestartPolicy.Name}}', 'up2']).trim(), 'no');
    sb.ok(['rm', 'up2']);
  });

  test('bad input: no flags, a bad value, --restart with --rm; one line, 125, nothing changed', () => {
    sb.ok(['create', '--name', 'up3', 'busybox', 'true']);
    sb.ok(['create', '--rm', '--name', 'up4', 'busybox', 'true']);
    for (const args of [['up3'], ['--memory', 'lots', 'up3'], ['--restart', 'sometimes', 'up3'], ['--cpus', '-1', 'up3']]) {
      const r = sb.run(['update', ...args]);
      assert.equal(r.code, 125, args.join(' '));
      assert.match(r.stderr, /^Error: .+\n$/);
    }
    const r = sb.run(['update', '--restart', 'always', 'up4']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^Error: Restart policy cannot be updated because AutoRemove is enabled for the container\n$/);
    assert.equal(sb.ok(['inspect', '--format', '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.Memory}}', 'up3', 'up4']), 'no 0\nno 0\n');
    assert.equal(sb.run(['update', '--memory', '10m', 'nosuch']).code, 1);
    sb.ok(['rm', 'up3', 'up4']);
  });
});

describe('search', () => {
  test('the registry catalog, filtered by the term: docker columns, --limit, --format; a registry without a catalog is a clear error', () => {
    const tag = `c2s${Date.now().toString(36)}`;
    for (const repo of ['alpha', 'beta', 'gamma']) sb.ok(['push', '-q', 'busybox', `127.0.0.1:5000/${tag}/${repo}:1`]);
    const out = sb.ok(['search', `127.0.0.1:5000/${tag}`]);
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2)), ['alpha', 'beta', 'gamma'].map((r) => [`127.0.0.1:5000/${tag}/${r}`, '0']));
    assert.equal(sb.ok(['search', '--limit', '2', '--format', '{{.Name}}', `127.0.0.1:5000/${tag}`]), `127.0.0.1:5000/${tag}/alpha\n127.0.0.1:5000/${tag}/beta\n`);
    assert.equal(sb.ok(['search', '--format', '{{.Name}}', `127.0.0.1:5000/${tag}/GAM`]), `127.0.0.1:5000/${tag}/gamma\n`, 'case-insensitive');
    const j = JSON.parse(sb.ok(['search', '--format', 'json', `127.0.0.1:5000/${tag}/beta`]).trim()) as Record<string, unknown>;
    assert.equal(j.Name, `127.0.0.1:5000/${tag}/beta`);
    assert.equal(j.Index, '127.0.0.1:5000');
    // 127.0.0.1:5003 is the token server: HTTP, but no registry
    const r = sb.run(['search', '127.0.0.1:5003/busybox']);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, 'Error: registry 127.0.0.1:5003 does not support searching (it has neither /v2/_catalog nor /v1/search)\n');
    const bad = sb.run(['search', '--limit', '0', `127.0.0.1:5000/${tag}`]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: invalid limit value 0/);
  });
});

describe('run -a', () => {
  test('-a stdout / -a stderr attach only that stream (the log keeps both); -a stdin passes input', () => {
    const cmd = ['busybox', 'sh', '-c', 'echo out; echo err >&2'];
    const both = sb.run(['run', '--name', 'at1', ...cmd]);
    assert.deepEqual([both.stdout, both.stderr], ['out\n', 'err\n']);
    const o = sb.run(['run', '--name', 'at2', '-a', 'stdout', ...cmd]);
    assert.deepEqual([o.code, o.stdout, o.stderr], [0, 'out\n', '']);
    const e = sb.run(['run', '--name', 'at3', '--attach', 'STDERR', ...cmd]);
    assert.deepEqual([e.code, e.stdout, e.stderr], [0, '', 'err\n']);
    assert.equal(sb.ok(['logs', 'at2']), 'out\n');
    assert.equal(sb.run(['logs', 'at3']).stderr, 'err\n');
    const i = sb.run(['run', '--rm', '-i', '-a', 'stdin', '-a', 'stdout', 'busybox', 'sh', '-c', 'cat; echo done >&2'], { input: 'hello\n' });
    assert.deepEqual([i.code, i.stdout, i.stderr], [0, 'hello\n', '']);
    sb.ok(['rm', 'at1', 'at2', 'at3']);
  });

  test('bad input: an unknown stream, -a with -d; one line, 125, no container left', () => {
    const before = sb.ok(['ps', '-aq']);
    for (const args of [['-a', 'stdnothing'], ['-d', '-a', 'stdout']]) {
      const r = sb.run(['run', ...args, 'busybox', 'true']);
      assert.equal(r.code, 125, args.join(' '));
      assert.match(r.stderr, /^Error: .+\n$/);
    }
    assert.equal(sb.ok(['ps', '-aq']), before);
  });
});

describe('ps --sort and noun forms', () => {
  test('ps --sort names|image|id|created|runningfor|status orders as podman does; a bad key is refused', () => {
    sb.ok(['create', '--name', 'srt-b', 'busybox', 'true']);
    sb.ok(['run', '-d', '--name', 'srt-c', 'busybox', 'sleep', '30']);
    sb.ok(['create', '--name', 'srt-a', 'busybox', 'true']);
    const ps = (...args: string[]) => sb.ok(['ps', '-a', '--filter', 'name=srt-', '--format', '{{.Names}}', ...args]).trim().split('\n');
    assert.deepEqual(ps(), ['srt-a', 'srt-c', 'srt-b'], 'newest first by default');
    assert.deepEqual(ps('--sort', 'created'), ['srt-a', 'srt-c', 'srt-b']);
    assert.deepEqual(ps('--sort', 'names'), ['srt-a', 'srt-b', 'srt-c']);
    assert.deepEqual(ps('--sort', 'status'), ['srt-a', 'srt-b', 'srt-c'], 'created before running');
    const ids = sb.ok(['ps', '-a', '--filter', 'name=srt-', '--format', '{{.ID}}', '--sort', 'id']).trim().split('\n');
    assert.deepEqual(ids, [...ids].sort());
    assert.equal(ps('--sort', 'runningfor')[2], 'srt-b', 'the oldest (never started) last');
    const r = sb.run(['ps', '--sort', 'colour']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Error: invalid option for --sort, options are: command, created, id, image, names, runningfor, size, status\n$/);
    sb.ok(['rm', '-f', 'srt-a', 'srt-b', 'srt-c']);
  });

  test("every subcommand of docker's container, image, network, volume and system has its noun form", () => {
    const docker: Record<string, string[]> = {
      container: 'attach commit cp create diff exec export inspect kill logs ls pause port prune rename restart rm run start stats stop top unpause update wait'.split(' '),
      image: 'build history import inspect load ls prune pull push rm save tag'.split(' '),
      network: 'connect create disconnect inspect ls prune rm'.split(' '),
      volume: 'create inspect ls prune rm'.split(' '),
      system: 'df events info prune'.split(' '),
    };
    for (const [noun, verbs] of Object.entries(docker)) {
      const listed = sb.ok([noun, '--help']);
      for (const v of verbs) {
        assert.match(listed, new RegExp(`^  ${v} `, 'm'), `${noun} ${v} in '${noun} --help'`);
        const r = sb.run([noun, v, '--help']);
        assert.equal(r.code, 0, `${noun} ${v} --help: ${r.stderr}`);
        assert.match(r.stdout, new RegExp(`tsctr ${noun} ${v}`));
      }
    }
    assert.equal(sb.ok(['container', 'ls', '-a', '--filter', 'name=nosuch']).split('\n')[0]!.split(/\s{2,}/)[0], 'CONTAINER ID');
  });
});

describe('the image root directory', () => {
  test("an image whose root has mode 555 keeps 555 in the container, also under a built layer without './'", () => {
    assert.equal(sb.ok(['run', '--rm', 'busybox', 'stat', '-c', '%a', '/']).trim(), '755');
    // busybox's files under a 555 root: exported, unpacked here, re-packed with "./" 555, imported
    sb.ok(['create', '--name', 'r555src', 'busybox', 'true']);
    const dir = fs.mkdtempSync(`${sb.dir}/r555-`);
    const tarFile = `${dir}.tar`;
    sb.ok(['export', '-o', tarFile, 'r555src']);
    
    assert.equal(spawnSync('tar', ['-xf', tarFile, '-C', dir]).status, 0);
    fs.chmodSync(dir, 0o555);
    assert.equal(spawnSync('tar', ['-cf', tarFile, '-C', dir, '.']).status, 0);
    sb.ok(['import', tarFile, 'root555']);
    assert.equal(sb.ok(['run', '--rm', 'root555', 'stat', '-c', '%a', '/']).trim(), '555');
    const ctx = fs.mkdtempSync(`${sb.dir}/r555ctx-`);
    fs.writeFileSync(`${ctx}/Dockerfile`, 'FROM root555\nRUN echo hi > /etc/hi\n');
    sb.ok(['build', '-q', '-t', 'root555b', ctx]);
    assert.equal(sb.ok(['run', '--rm', 'root555b', 'sh', '-c', 'stat -c %a /; cat /etc/hi']), '555\nhi\n');
    fs.chmodSync(dir, 0o755);
    sb.ok(['rm', 'r555src']);
  });
});

describe('volume copy-up', () => {
  test("a new volume over an image directory starts with its content (owners, modes, links); nocopy opts out; a volume with content is left alone", () => {
    const ctx = fs.mkdtempSync(`${sb.dir}/cu-`);
    fs.writeFileSync(`${ctx}/Dockerfile`, [
      'FROM busybox',
      'RUN mkdir -p /app/sub && echo hi > /app/f && echo deep > /app/sub/g && ln -s f /app/link && ln -s /etc/passwd /app/abs && chown 1000:1001 /app/f && chmod 640 /app/f && chown 123:45 /app && chmod 750 /app',
    ].join('\n'));
    sb.ok(['build', '-q', '-t', 'cuimg', ctx]);
    const look = 'stat -c "%n %u:%g %a" /app /app/f /app/sub/g; readlink /app/link; readlink /app/abs; cat /app/f /app/sub/g';
    const expected = '/app 123:45 750\n/app/f 1000:1001 640\n/app/sub/g 0:0 644\nf\n/etc/passwd\nhi\ndeep\n';
    assert.equal(sb.ok(['run', '--rm', 'cuimg', 'sh', '-c', look]), expected, 'the image itself');
    assert.equal(sb.ok(['run', '--rm', '-v', 'cu1:/app', 'cuimg', 'sh', '-c', look]), expected, 'a named volume');
    assert.equal(sb.ok(['run', '--rm', '-v', 'cu1:/data', 'busybox', 'cat', '/data/f']), 'hi\n', 'the content is in the volume');
    assert.equal(sb.ok(['run', '--rm', '--mount', 'type=volume,src=cu2,dst=/app', 'cuimg', 'sh', '-c', look]), expected, '--mount');
    assert.equal(sb.ok(['run', '--rm', '-v', '/app', 'cuimg', 'sh', '-c', look]), expected, 'an anonymous volume');
    // nocopy: empty
    assert.equal(sb.ok(['run', '--rm', '-v', 'cu3:/app:nocopy', 'cuimg', 'ls', '-A', '/app']), '');
    assert.equal(sb.ok(['run', '--rm', '--mount', 'type=volume,src=cu4,dst=/app,volume-nocopy', 'cuimg', 'ls', '-A', '/app']), '');
    // a volume that has content keeps it (only an empty one is filled)
    sb.ok(['run', '--rm', '-v', 'cu5:/v', 'busybox', 'sh', '-c', 'echo mine > /v/own']);
    assert.equal(sb.ok(['run', '--rm', '-v', 'cu5:/app', 'cuimg', 'ls', '-A', '/app']), 'own\n');
    // a volume mounted where the image has nothing stays empty
    assert.equal(sb.ok(['run', '--rm', '-v', 'cu6:/nothing', 'cuimg', 'ls', '-A', '/nothing']), '');
    const bad = sb.run(['run', '--rm', '--mount', 'type=volume,src=cu7,dst=/app,volume-nocopy=maybe', 'cuimg', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: .*volume-nocopy.*\n$/);
    sb.ok(['volume', 'rm', 'cu1', 'cu2', 'cu3', 'cu4', 'cu5', 'cu6']);
  });
});

describe('cp with created and stopped containers', () => {
  test('out of a stopped container: its own files and its image files, a directory, owned by the user', () => {
    sb.ok(['run', '--name', 'cp1', 'busybox', 'sh', '-c', 'echo made > /made; mkdir -p /d/e; echo x > /d/e/y; chmod 640 /d/e/y']);
    const out = fs.mkdtempSync(`${sb.dir}/cpout-`);
    sb.ok(['cp', 'cp1:/made', `${out}/made.txt`]);
    assert.equal(fs.readFileSync(`${out}/made.txt`, 'utf8'), 'made\n');
    sb.ok(['cp', 'cp1:/d', out]);
    assert.equal(fs.readFileSync(`${out}/d/e/y`, 'utf8'), 'x\n');
    assert.equal(fs.statSync(`${out}/d/e/y`).uid, process.getuid!());
    sb.ok(['cp', 'cp1:/etc/passwd', out]);
    assert.match(fs.readFileSync(`${out}/passwd`, 'utf8'), /^root:/);
    const r = sb.run(['cp', 'cp1:/nosuch', out]);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, 'Error: Could not find the file /nosuch in container cp1\n');
    sb.ok(['rm', 'cp1']);
  });

  test('into a created container: a file (renamed), a directory, owned by its root, seen when it starts', () => {
    sb.ok(['create', '--name', 'cp2', 'busybox', 'sh', '-c', 'cat /etc/in.txt /tmp/sub/f; stat -c "%u:%g %a %n" /etc/in.txt /tmp/sub/f /etc /tmp']);
    const src = fs.mkdtempSync(`${sb.dir}/cpin-`);
    fs.writeFileSync(`${src}/hello`, 'hello\n', { mode: 0o600 });
    fs.mkdirSync(`${src}/sub`);
    fs.writeFileSync(`${src}/sub/f`, 'sub\n', { mode: 0o644 });
    sb.ok(['cp', `${src}/hello`, 'cp2:/etc/in.txt']);
    sb.ok(['cp', `${src}/sub`, 'cp2:/tmp/']);
    assert.equal(sb.ok(['start', '-a', 'cp2']), 'hello\nsub\n0:0 600 /etc/in.txt\n0:0 644 /tmp/sub/f\n0:0 755 /etc\n0:0 1777 /tmp\n');
    // and out again, now that it has stopped
    sb.ok(['cp', 'cp2:/etc/in.txt', `${src}/back`]);
    assert.equal(fs.readFileSync(`${src}/back`, 'utf8'), 'hello\n');
    sb.ok(['rm', 'cp2']);
  });

  test('attack: symlinks the container made to host paths lead nowhere (paths resolve inside the container)', () => {
    const host = fs.mkdtempSync(`${sb.dir}/cphost-`);
    fs.chmodSync(host, 0o755);
    fs.writeFileSync(`${host}/secret`, 'host secret\n');
    sb.ok(['run', '--name', 'cp3', 'busybox', 'sh', '-c', `ln -s ${host} /evil; ln -s ../../../../../../.. /up; mkdir /tmp/t; ln -s ${host}/secret /tmp/t/link`]);
    const out = fs.mkdtempSync(`${sb.dir}/cp3out-`);
    for (const p of ['/evil/secret', `/up${host}/secret`]) {
      const r = sb.run(['cp', `cp3:${p}`, `${out}/got`]);
      assert.equal(r.code, 125, p);
      assert.match(r.stderr, /^Error: Could not find the file /);
      assert.ok(!fs.existsSync(`${out}/got`));
    }
    // the link itself is copied, not what it names on the host
    sb.ok(['cp', 'cp3:/tmp/t/link', `${out}/link`]);
    assert.equal(fs.readlinkSync(`${out}/link`), `${host}/secret`);
    fs.writeFileSync(`${out}/payload`, 'payload\n');
    for (const p of ['/evil/', `/up${host}/`, '/evil/planted', `/up${host}/planted`]) {
      const r = sb.run(['cp', `${out}/payload`, `cp3:${p}`]);
      assert.equal(r.code, 125, p);
      assert.match(r.stderr, /^Error: Could not find the file /);
    }
    assert.deepEqual(fs.readdirSync(host), ['secret'], 'nothing was written on the host');
    assert.equal(fs.readFileSync(`${host}/secret`, 'utf8'), 'host secret\n');
    sb.ok(['rm', 'cp3']);
  });
});

describe('run --help', () => {
  /** flag → description, continuation lines joined, docker's "(default ...)" left out. */
  function dockerFlags(help: string): Map<string, string> {
    const d = new Map<string, string>();
    let cur: string | undefined;
    for (const line of help.split('\n')) {
      const m = /^\s{2,6}(?:-\w, )?(--[\w-]+)(?: \S+)?\s{2,}(.*)$/.exec(line);
      if (m) {
        cur = m[1]!;
        d.set(cur, m[2]!.trim());
      } else if (cur && /^\s{20,}\S/.test(line)) d.set(cur, `${d.get(cur)} ${line.trim()}`);
      else cur = undefined;
    }
    for (const [k, v] of d) d.set(k, v.replace(/ \(default [^)]*\)$/, '').replace(/\s+/g, ' '));
    return d;
  }

  test("every flag docker also has is described in docker's words (tsctr's notes may follow)", (t) => {
    const docker = '/usr/local/bin/docker';
    if (!fs.existsSync(docker)) return t.skip('no docker client here to compare with');
    const d = dockerFlags(spawnSync(docker, ['run', '--help'], { encoding: 'utf8' }).stdout);
    assert.ok(d.size > 50, 'docker run --help parsed');
    const ours = new Map<string, string>();
    for (const line of sb.ok(['run', '--help']).split('\n')) {
      const m = /^\s+((?:-\w,)?--[\w-]+(?:,--[\w-]+)*)(?: #0)?\s{2,}(.*)$/.exec(line);
      if (m) for (const n of m[1]!.split(',')) if (n.startsWith('--')) ours.set(n, m[2]!.trim());
    }
    assert.ok(ours.has('--attach') && ours.has('--detach') && ours.has('--memory'));
    const wrong = [...ours].filter(([k, v]) => d.has(k) && !v.startsWith(d.get(k)!)).map(([k, v]) => `${k}: "${v}", docker: "${d.get(k)}"`);
    assert.deepEqual(wrong, []);
  });
});
