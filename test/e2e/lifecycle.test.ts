/**
 * Beyond one boot, without a daemon: what `ps`, `start` and `start --all` make of containers after
 * a (simulated) reboot, and the systemd units `generate systemd` writes — checked with
 * systemd-analyze and by running their Exec lines the way systemd would.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Sandbox } from '../support/harness.js';
import { sleep } from '../support/wait.js';
import { alive } from '../support/processes.js';

const sb = new Sandbox('lifecycle');
after(() => sb.dispose());

const status = (name: string) => sb.ok(['ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.Status}}']).trim();

/**
 * What a reboot does to this sandbox: every process it started dies (monitors, containers,
 * network helpers) and the runtime directory, a tmpfs, comes back empty.
 */
async function reboot(): Promise<void> {
  const uid = String(process.getuid!());
  const ours = (pid: string) => {
    try {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return args.includes(sb.dir) ? true : undefined;
    } catch {
      return undefined;
    }
  };
  // Containers are in their own user namespaces; slirp4netns names its container's by pid.
  const users = new Set<string>();
  const pids: string[] = [];
  for (const id of sb.ok(['ps', '-q', '--no-trunc']).trim().split('\n').filter(Boolean)) {
    const pid = sb.ok(['inspect', '-f', '{{.State.Pid}}', id]).trim();
    pids.push(pid);
    users.add(fs.readlinkSync(`/proc/${pid}/ns/user`));
  }
  const helperOf = (p: string) => {
    const args = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
    return pids.some((pid) => args.includes(`/proc/${pid}/ns/`));
  };
  const victims = () =>
    fs.readdirSync('/proc').filter((p) => {
      if (!/^\d+$/.test(p) || Number(p) === process.pid) return false;
      try {
        if (String(fs.statSync(`/proc/${p}`).uid) !== uid || !alive(Number(p))) return false;
        return ours(p) || users.has(fs.readlinkSync(`/proc/${p}/ns/user`)) || helperOf(p);
      } catch {
        return false;
      }
    });
  for (let i = 0; i < 50; i++) {
    const left = victims();
    if (left.length === 0) break;
    for (const p of left) spawnSync('kill', ['-KILL', p]);
    await sleep(50);
  }
  assert.deepEqual(victims(), []);
  const run = sb.env.XDG_RUNTIME_DIR!;
  for (const e of fs.readdirSync(run)) spawnSync('unshare', ['--map-auto', '--map-root-user', 'rm', '-rf', path.join(run, e)]);
}

describe('after a reboot', () => {
  test('ps shows what ran as Exited, start brings containers back with their writable layer, start --all --filter restart-policy=always', async () => {
    sb.ok(['pull', '-q', 'busybox']);
    sb.ok(['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sh', '-c', 'echo run >> /runs; exec sleep 1000']);
    sb.ok(['run', '-d', '--name', 'plain', 'busybox', 'sleep', '1000']);
    assert.equal(sb.run(['run', '--name', 'three', 'busybox', 'sh', '-c', 'echo kept > /kept; exit 3']).code, 3);
    assert.match(status('always'), /^Up /);
    await reboot();

    assert.match(status('always'), /^Exited \(\d+\)/);
    assert.match(status('plain'), /^Exited \(\d+\)/);
    assert.match(status('three'), /^Exited \(3\)/);
    assert.equal(sb.ok(['ps', '-q']), '', 'nothing runs after the reboot');

    assert.equal(sb.ok(['start', '--all', '--filter', 'restart-policy=always']), 'always\n');
    assert.match(status('always'), /^Up /);
    assert.match(status('plain'), /^Exited/);
    assert.equal(sb.ok(['exec', 'always', 'cat', '/runs']), 'run\nrun\n', 'the writable layer survived');
    assert.equal(sb.run(['start', '-a', 'three']).code, 3);
    sb.ok(['commit', 'three', 'three-after']);
    assert.equal(sb.ok(['run', '--rm', 'three-after', 'cat', '/kept']), 'kept\n');

    // Without a filter, --all starts everything that is not running.
    assert.deepEqual(sb.ok(['start', '--all']).trim().split('\n').sort(), ['plain', 'three']);
    assert.match(sb.run(['start', '--all', 'plain']).stderr, /^Error: --all and container names cannot be combined/);
    sb.ok(['rm', '-f', 'always', 'plain', 'three']);
  });
});

/** The unit's settings, in order (Exec lines may repeat). */
function unitLines(unit: string, key: string): string[] {
  return unit.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
}

/** An Exec line's words, as systemd splits them: quotes group, backslash escapes; then specifiers. */
function execArgv(line: string, unitName: string): string[] {
  const words: string[] = [];
  let cur: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\') cur = `${cur ?? ''}${line[++i] ?? ''}`;
      else cur = `${cur ?? ''}${ch}`;
    } else if (ch === ' ') {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      cur ??= '';
    } else cur = (cur ?? '') + (ch === '\\' ? line[++i] : ch);
  }
  if (cur !== undefined) words.push(cur);
  const spec = { t: sb.env.XDG_RUNTIME_DIR!, n: unitName, '%': '%' } as Record<string, string>;
  return words.map((w) => w.replace(/%(.)/g, (_, c: string) => spec[c] ?? `%${c}`).replace(/\$\$/g, '$'));
}

/** Runs one Exec line as systemd would for a user unit: no shell, the unit's Environment=. */
function execLine(unit: string, name: string, line: string): number {
  const ignoreFailure = line.startsWith('-');
  const argv = execArgv(line.replace(/^-/, ''), name);
  const env: NodeJS.ProcessEnv = { PATH: sb.env.PATH, HOME: sb.env.HOME, XDG_RUNTIME_DIR: sb.env.XDG_RUNTIME_DIR };
  for (const e of unitLines(unit, 'Environment')) {
    const [kv] = execArgv(e, name);
    env[kv!.slice(0, kv!.indexOf('='))] = kv!.slice(kv!.indexOf('=') + 1);
  }
  const r = spawnSync(argv[0]!, argv.slice(1), { env, encoding: 'utf8' });
  return ignoreFailure ? 0 : (r.status ?? 1);
}

describe('generate systemd', () => {
  test('the unit passes systemd-analyze verify, and its PIDFile names the monitor while the container runs', async () => {
    sb.ok(['run', '-d', '--name', 'svc', '--stop-timeout', '1', 'busybox', 'sleep', '1000']);
    const unit = sb.ok(['generate', 'systemd', 'svc']);
    assert.deepEqual(unitLines(unit, 'Type'), ['forking']);
    assert.deepEqual(unitLines(unit, 'PIDFile'), ['%t/%n.pid']);
    assert.deepEqual(unitLines(unit, 'WantedBy'), ['default.target']);
    const file = path.join(sb.dir, 'container-svc.service');
    fs.writeFileSync(file, unit);
    const verify = spawnSync('systemd-analyze', ['--user', 'verify', file], { encoding: 'utf8', env: { ...sb.env } });
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal(verify.stderr, '');

    sb.ok(['stop', 'svc']);
    const name = 'container-svc.service';
    assert.equal(execLine(unit, name, unitLines(unit, 'ExecStart')[0]!), 0);
    const pid = Number(fs.readFileSync(path.join(sb.env.XDG_RUNTIME_DIR!, `${name}.pid`), 'utf8'));
    assert.ok(alive(pid), 'PIDFile names a live process');
    const id = sb.ok(['inspect', '-f', '{{.Id}}', 'svc']).trim();
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.equal(args[1], 'run', 'the main process is the monitor');
    assert.ok(args[2]!.includes(id), "and it is this container's");
    assert.match(status('svc'), /^Up /);
    assert.equal(execLine(unit, name, unitLines(unit, 'ExecStop')[0]!), 0);
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
    assert.ok(!alive(pid), 'the monitor is gone once the container is stopped');
    assert.match(status('svc'), /^Exited/);
  });

  test('--new recreates the container from its options at each start and removes it at stop', () => {
    sb.ok(['run', '-d', '--name', 'fresh', '--stop-timeout', '1', '-e', 'MSG=hello world', '--label', 'a=b', 'busybox', 'sh', '-c', 'echo "$MSG" > /msg; exec sleep 1000']);
    const firstId = sb.ok(['inspect', '-f', '{{.Id}}', 'fresh']).trim();
    const unit = sb.ok(['generate', 'systemd', '--new', 'fresh']);
    const file = path.join(sb.dir, 'container-fresh.service');
    fs.writeFileSync(file, unit);
    const verify = spawnSync('systemd-analyze', ['--user', 'verify', file], { encoding: 'utf8', env: { ...sb.env } });
    assert.equal(verify.status, 0, verify.stderr);
    const name = 'container-fresh.service';
    for (const l of [...unitLines(unit, 'ExecStartPre'), ...unitLines(unit, 'ExecStart')]) assert.equal(execLine(unit, name, l), 0, l);
    const id = sb.ok(['inspect', '-f', '{{.Id}}', 'fresh']).trim();
    assert.notEqual(id, firstId, 'a new container');
    assert.equal(sb.ok(['exec', 'fresh', 'cat', '/msg']), 'hello world\n');
    assert.equal(sb.ok(['inspect', '-f', '{{index .Config.Labels "a"}}', 'fresh']), 'b\n');
    for (const l of [...unitLines(unit, 'ExecStop'), ...unitLines(unit, 'ExecStopPost')]) assert.equal(execLine(unit, name, l), 0, l);
    assert.match(sb.run(['inspect', 'fresh']).stderr, /No such object: fresh/, 'removed at stop');
  });

  test('--files writes container-NAME.service; unknown containers are a clear error', () => {
    sb.ok(['create', '--name', 'filed', 'busybox', 'true']);
    const r = spawnSync(process.env.TSCTR_BIN ?? 'tsctr', ['generate', 'systemd', '--files', 'filed'], { cwd: sb.dir, env: sb.env, encoding: 'utf8' });
    assert.equal(r.stdout, `${path.join(sb.dir, 'container-filed.service')}\n`);
    assert.match(fs.readFileSync(path.join(sb.dir, 'container-filed.service'), 'utf8'), /^ExecStart=.* start --monitor-pidfile %t\/%n.pid filed$/m);
    const bad = sb.run(['generate', 'systemd', 'nope']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: No such container: nope/);
  });
});
