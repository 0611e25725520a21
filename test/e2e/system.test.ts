/**
 * The system commands end to end, as the unprivileged user: host checks, info, disk usage, prune
 * and reset against a real store with real containers.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Sandbox, subordinateStart } from '../support/harness.js';
import { sleep } from '../support/wait.js';

interface Check {
  name: string;
  ok: boolean;
  severity: 'error' | 'warning';
  detail: string;
  fix?: string;
}

function processesOf(sb: Sandbox): string[] {
  const out = spawnSync('ps', ['-u', String(process.getuid!()), '-o', 'pid=,stat=,args='], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter((l) => l.includes(sb.dir) && !l.includes(' ps ') && !/^\s*\d+\s+Z/.test(l));
}

describe('system check', () => {
  const sb = new Sandbox('syscheck');
  after(() => sb.cleanup());

  test('every error-level check passes on this machine', () => {
    const r = sb.run(['system', 'check', '--format', 'json']);
    const checks = JSON.parse(r.stdout) as Check[];
    const failed = checks.filter((c) => c.severity === 'error' && !c.ok);
    assert.deepEqual(failed, [], 'no error-level failures');
    assert.equal(r.code, 0);
    for (const name of ['subuid range', 'subgid range', 'newuidmap', 'newgidmap', 'user namespaces', 'kernel overlay in user namespace', 'pasta', 'cgroups', 'XDG_RUNTIME_DIR']) {
      assert.ok(checks.some((c) => c.name === name), `has a "${name}" check`);
    }
    assert.ok(checks.every((c) => c.ok || c.fix || c.detail), 'every failure explains itself');
    assert.match(checks.find((c) => c.name === 'kernel overlay in user namespace')!.detail, new RegExp(os.release().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.deepEqual(fs.readdirSync(sb.dir).filter((n) => n.startsWith('.tsctr-overlay-probe')), [], 'the probe cleans up');
  });

  test('plain text without a terminal: ok/FAIL/warn words; the doctor alias', () => {
    const r = sb.run(['doctor']);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /^ok {3}subuid range: \d+ ids/m);
    assert.doesNotMatch(r.stdout, /[✔✘]/);
  });

  test('missing tools fail with the command that fixes them, exit 1', () => {
    const r = sb.run(['system', 'check'], { env: { PATH: '/nonexistent' } });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^FAIL slirp4netns: not found in PATH: containers on the default network cannot start.*\n {4}fix: sudo apt-get install slirp4netns$/m);
    assert.match(r.stdout, /^warn pasta: not found in PATH \(--network pasta unavailable\)\n {4}fix: sudo apt-get install passt$/m);
    assert.match(r.stdout, /^FAIL newuidmap: newuidmap not found in PATH\n {4}fix: sudo apt-get install uidmap$/m);
  });
});

describe('info, df, prune', () => {
  const sb = new Sandbox('sysinfo');
  after(() => sb.dispose());
  const info = () => JSON.parse(sb.ok(['info', '--format', 'json'])) as Record<string, Record<string, any>>;

  test('info: host, id mappings, store and registries; counts follow pull and create', () => {
    const before = info();
    assert.deepEqual(Object.keys(before).sort(), ['host', 'registries', 'store', 'version']);
    assert.equal(before.host!.rootless, true);
    assert.equal(before.host!.kernel, os.release());
    assert.deepEqual(before.host!.idMappings.uidmap[0], { container_id: 0, host_id: process.getuid!(), size: 1 });
    assert.equal(before.host!.idMappings.uidmap[1].host_id, subordinateStart('uid'));
    assert.equal(before.host!.idMappings.gidmap[1].host_id, subordinateStart('gid'));
    assert.equal(before.store!.dataRoot, sb.root);
    assert.equal(before.store!.graphDriverName, 'overlay');
    assert.equal(before.store!.imageStore.number, 0);
    assert.equal(before.store!.containerStore.number, 0);
    assert.ok(before.registries!.mirrors['docker.io'].some((m: string) => m.startsWith('127.0.0.1:5000')));

    sb.ok(['pull', '-q', 'busybox']);
    sb.ok(['create', '--name', 'idle', 'busybox', 'true']);
    const after = info();
    assert.equal(after.store!.imageStore.number, 1);
    assert.deepEqual(after.store!.containerStore, { number: 1, running: 0, paused: 0, stopped: 1 });

    assert.equal(sb.ok(['info', '--format', '{{.Host.Kernel}} {{.Store.GraphDriverName}}']).trim(), `${os.release()} overlay`);
    const text = sb.ok(['info']);
    assert.match(text, /^host:\n {2}arch: /);
    assert.match(text, /^ {2}graphDriverName: overlay$/m);
    sb.ok(['rm', 'idle']);
  });

  test('info survives a corrupt store and says so', () => {
    const file = path.join(sb.root, 'containers.json');
    const saved = fs.readFileSync(file);
    fs.writeFileSync(file, '{not json');
    try {
      const r = sb.run(['info', '--format', 'json']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(JSON.parse(r.stdout).store.containerStore.error, /corrupt/);
    } finally {
      fs.writeFileSync(file, saved);
    }
  });

  test('system df: images, containers, volumes with reclaimable space', () => {
    sb.ok(['run', '--name', 'writer', 'busybox', 'dd', 'if=/dev/zero', 'of=/blob', 'bs=1000', 'count=200']);
    const out = sb.ok(['system', 'df']);
    const lines = out.trim().split('\n');
    assert.match(lines[0]!, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
    assert.match(out, /^Images\s+1\s+1\s+[\d.]+[kM]B\s+0B \(0%\)$/m, "the exited container still uses its image");
    assert.match(out, /^Containers\s+1\s+0\s+20\dkB\s+20\dkB \(100%\)$/m);
    assert.match(out, /^Local Volumes\s+0\s+0\s+0B\s+0B$/m);
    assert.match(sb.ok(['system', 'df', '-v']), /^busybox\s+latest\s+[a-f0-9]{12}\s/m);
    sb.ok(['rm', 'writer']);
  });

  test('system prune: stopped containers, dangling images, unused volumes go; running ones stay', async () => {
    sb.ok(['pull', '-q', 'debian']);
    const danglingId = sb.ok(['images', '-q', '--no-trunc', 'debian']).trim();
    sb.ok(['tag', 'busybox', 'debian:latest']); // the debian image loses its only tag
    const keep = sb.ok(['run', '-d', '--name', 'keep', '-v', 'used:/data', 'busybox', 'sleep', '300']).trim();
    const gone = sb.ok(['create', '--name', 'gone', 'busybox', 'true']).trim();
    sb.ok(['volume', 'create', 'lonely']);

    const refused = sb.run(['system', 'prune']);
    assert.equal(refused.code, 1, 'no terminal, no -f: nothing is removed');
    assert.match(refused.stderr, /prune cancelled/);

    const out = sb.ok(['system', 'prune', '-f', '--volumes']);
    assert.match(out, new RegExp(`^Deleted Containers:\\n${gone}$`, 'm'));
    assert.match(out, /^Deleted Volumes:\nlonely$/m);
    assert.match(out, new RegExp(`^deleted: ${danglingId}$`, 'm'));
    assert.match(out, /^Total reclaimed space: [\d.]+MB$/m);
    assert.doesNotMatch(out, new RegExp(keep));
    assert.equal(sb.ok(['ps', '-q', '--no-trunc']).trim(), keep, 'the running container stays');
    assert.equal(sb.ok(['ps', '-aq']).trim().split('\n').length, 1);
    assert.match(sb.ok(['images']), /busybox/);
    assert.equal(sb.ok(['images', '-q', '--no-trunc']).includes(danglingId), false);
    assert.deepEqual(sb.ok(['volume', 'ls', '-q']).trim().split('\n'), ['used'], 'a volume in use stays');
    await sleep(0);
  });
});

describe('system reset', () => {
  const sb = new Sandbox('sysreset');
  after(() => sb.cleanup());

  test('removes everything, even with a corrupt store and running containers', async () => {
    // The default network's helpers: slirp4netns, and the port forwarder when ports are published.
    const helpers = () => spawnSync('pgrep', ['-u', String(process.getuid!()), '-c', '-f', '^(/usr/bin/slirp4netns |/usr/bin/pasta )'], { encoding: 'utf8' }).stdout.trim();
    const helpersBefore = helpers();
    sb.ok(['pull', '-q', 'busybox']);
    sb.ok(['run', '-d', '--name', 'a', 'busybox', 'sleep', '300']);
    sb.ok(['run', '-d', '--name', 'b', '--restart', 'always', 'busybox', 'sleep', '300']);
    assert.ok(processesOf(sb).length >= 2, 'containers run');
    fs.writeFileSync(path.join(sb.root, 'containers.json'), 'garbage');

    const refused = sb.run(['system', 'reset']);
    assert.equal(refused.code, 1);
    assert.ok(fs.existsSync(sb.root), 'nothing removed without confirmation');

    const r = sb.run(['system', 'reset', '-f']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.existsSync(sb.root), false, 'no data root left');
    assert.equal(fs.existsSync(path.join(sb.dir, 'run', 'tsctr')), false, 'no run root left');
    for (let i = 0; i < 100 && processesOf(sb).length; i++) await sleep(50);
    assert.deepEqual(processesOf(sb), [], 'no monitor or container survives');
    for (let i = 0; i < 100 && helpers() !== helpersBefore; i++) await sleep(50);
    assert.equal(helpers(), helpersBefore, 'no network helper is orphaned');
    assert.equal(sb.ok(['ps', '-aq']).trim(), '', 'a fresh, empty store afterwards');
  });
});
