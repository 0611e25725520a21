/**
 * `tsctr compose`, end to end as the unprivileged user: the classic counter (a Flask app built
 * from the project's Dockerfile, counting visits in redis, which has a health check and a named
 * volume with append-only persistence), its lifecycle (up, ps, down, down -v), scaling behind one
 * load-balanced port, and what invalid input and down leave behind.
 */
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Sandbox, freePort, inspectJson, REPO } from '../support/harness.js';
import { sleep } from '../support/wait.js';
import { getBody } from '../support/http.js';

const sb = new Sandbox('compose');
const projectDir = path.join(sb.dir, 'counter');
const file = path.join(projectDir, 'compose.yaml');
let port = 0;

const compose = (...args: string[]) => sb.ok(['compose', '-f', file, ...args]);
const composeRun = (...args: string[]) => sb.run(['compose', '-f', file, ...args], { timeout: 300_000 });

before(async () => {
  port = await freePort();
  fs.cpSync(path.join(REPO, 'test', 'fixtures', 'compose', 'counter'), projectDir, { recursive: true });
  // The published port: one the test found free (${WEB_PORT} also works once the file side interpolates).
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('${WEB_PORT:-8000}', String(port)));
});
after(() => {
  sb.run(['compose', '-f', file, 'down', '-v', '-t', '1']);
  sb.dispose();
});

/** GET / through the published port, retried while the app starts (connection refused / 5xx). */
const hit = (ms = 30_000) => getBody(port, { ms, timeout: 5000, only200: true });
const seen = (body: string) => Number(/I have been seen (\d+) times\./.exec(body)?.[1]);
const hostOf = (body: string) => /^Hello from (\S+)!/.exec(body)?.[1];
const names = () => sb.ok(['ps', '-a', '--format', '{{.Names}}']).trim().split('\n').filter(Boolean).sort();
const networks = () => sb.ok(['network', 'ls', '--format', '{{.Name}}']).trim().split('\n').filter((n) => n.startsWith('counter'));
const volumes = () => sb.ok(['volume', 'ls', '--format', '{{.Name}}']).trim().split('\n').filter((n) => n.startsWith('counter'));

/** Pids in the sandbox's run directory (monitors, inits, the balancer): what must be gone after down. */
function recordedPids(): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/pid$/.test(e.name)) {
        const n = Number(fs.readFileSync(p, 'utf8').trim().split(/\s+/)[0]);
        if (n > 1) out.push(n);
      }
    }
  };
  walk(sb.env.XDG_RUNTIME_DIR!);
  return out;
}
async function allGone(pids: number[], ms = 10_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const alive = pids.filter((p) => fs.existsSync(`/proc/${p}`) && !/State:\s+Z/.test(fs.readFileSync(`/proc/${p}/status`, 'utf8')));
    if (!alive.length || Date.now() > deadline) return alive;
    await sleep(100);
  }
}

describe('compose: the counter', () => {
  test('up -d builds web, waits for redis to be healthy, and the counter counts 1, 2', async () => {
    const r = composeRun('up', '-d');
    assert.equal(r.code, 0, r.stderr);
    // Dependency order: redis healthy before web is created.
    const healthy = r.stderr.indexOf('Container counter-redis-1  Healthy');
    const webCreated = r.stderr.indexOf('Container counter-web-1  Created');
    assert.ok(healthy > 0 && webCreated > healthy, r.stderr);
    assert.equal(seen(await hit()), 1);
    assert.equal(seen(await hit()), 2);
    assert.deepEqual(names(), ['counter-redis-1', 'counter-web-1']);
    assert.deepEqual(networks(), ['counter_default']);
    assert.deepEqual(volumes(), ['counter_redis-data']);
  });

  test('ps shows the services, redis (healthy); labels are docker compose v2’s', () => {
    const ps = compose('ps');
    assert.match(ps, /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS$/m);
    assert.match(ps, /^counter-redis-1\s+redis\s+.*\bredis\s+.*Up .*\(healthy\)/m);
    assert.match(ps, new RegExp(`^counter-web-1\\s+counter-web\\s+.*\\bweb\\s+.*Up .*0\\.0\\.0\\.0:${port}->5000/tcp`, 'm'));
    assert.equal(compose('ps', '--services').trim().split('\n').sort().join(' '), 'redis web');
    assert.equal(compose('ps', '-q').trim().split('\n').length, 2);
    assert.equal(compose('ps', '--format', '{{.Service}} {{.State}}').trim().split('\n').sort().join(','), 'redis running,web running');
    const labels = inspectJson<{ Config: { Labels: Record<string, string> } }>(sb, 'counter-web-1').Config.Labels;
    assert.equal(labels['com.docker.compose.project'], 'counter');
    assert.equal(labels['com.docker.compose.service'], 'web');
    assert.equal(labels['com.docker.compose.container-number'], '1');
    assert.equal(labels['com.docker.compose.oneoff'], 'False');
    assert.equal(labels['com.docker.compose.project.working_dir'], projectDir);
    assert.equal(labels['com.docker.compose.project.config_files'], file);
    assert.match(labels['com.docker.compose.config-hash'] ?? '', /^[0-9a-f]{64}$/);
    assert.match(sb.ok(['compose', 'ls']), /^counter\s+running\(2\)\s+/m);
  });

  test('the service name resolves on the project network; exec, run --rm and logs with prefixes', () => {
    assert.equal(sb.ok(['compose', '-f', file, 'exec', '-T', 'redis', 'redis-cli', 'get', 'hits']).trim(), '2');
    const one = composeRun('run', '--rm', '--no-deps', 'redis', 'redis-cli', '-h', 'redis', 'ping');
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout.trim(), 'PONG');
    assert.deepEqual(names(), ['counter-redis-1', 'counter-web-1'], 'run --rm left its container');
    const logs = compose('logs', 'web');
    assert.match(logs, /^web-1 {2}\| .*"GET \/ HTTP\/1\.1" 200/m);
    assert.doesNotMatch(logs, /^redis-1/m);
  });

  test('up -d again recreates nothing: the config hashes did not change', () => {
    const before = sb.ok(['ps', '-q', '--no-trunc']).trim().split('\n').sort();
    const r = composeRun('up', '-d');
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /Recreate|Created/);
    assert.deepEqual(sb.ok(['ps', '-q', '--no-trunc']).trim().split('\n').sort(), before);
  });

  test('down + up -d: the named volume keeps the count (3); stop_signal SIGINT stops Flask at once', async () => {
    const t0 = Date.now();
    compose('down');
    // Python as PID 1 ignores SIGTERM: without stop_signal this would wait the 10 s grace period.
    assert.ok(Date.now() - t0 < 8000, `down took ${Date.now() - t0} ms`);
    assert.deepEqual(names(), []);
    assert.deepEqual(networks(), []);
    assert.deepEqual(volumes(), ['counter_redis-data']);
    assert.equal(composeRun('up', '-d').code, 0);
    assert.equal(seen(await hit()), 3);
  });

  test('down -v + up -d: the volume went, the count starts again at 1', async () => {
    compose('down', '-v');
    assert.deepEqual(volumes(), []);
    assert.equal(composeRun('up', '-d').code, 0);
    assert.equal(seen(await hit()), 1);
  });

  test('up -d --scale web=3: one published port, load-balanced over the three replicas; a killed one leaves the rotation', async () => {
    const r = composeRun('up', '-d', '--wait', '--scale', 'web=3');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(names(), ['counter-redis-1', 'counter-web-1', 'counter-web-2', 'counter-web-3']);
    assert.equal(compose('port', 'web', '5000').trim(), `0.0.0.0:${port}`);
    // Each replica publishes only on 127.0.0.1: the balancer owns the service's port.
    assert.match(compose('ps', 'web'), /127\.0\.0\.1:\d+->5000\/tcp/);
    await hit();
    const hosts = new Set<string>();
    // A replica still starting (Flask not listening yet) is skipped by the balancer: ask until all answered.
    const deadline = Date.now() + 30_000;
    while (hosts.size < 3 && Date.now() < deadline) hosts.add(hostOf(await hit())!);
    assert.equal(hosts.size, 3, `replicas reached: ${[...hosts].join(', ')}`);
    // On the project network the service name resolves to every replica.
    const addrs = new Set(compose('exec', '-T', 'redis', 'getent', 'ahostsv4', 'web').trim().split('\n').map((l) => l.split(/\s+/)[0]));
    assert.equal(addrs.size, 3, [...addrs].join(' '));
    sb.ok(['kill', 'counter-web-2']);
    let failed = 0;
    const after = new Set<string>();
    for (let i = 0; i < 12; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
        if (res.status !== 200) failed++;
        else after.add(hostOf(await res.text())!);
      } catch {
        failed++;
      }
    }
    assert.equal(failed, 0, 'requests failed after a replica was killed');
    assert.equal(after.size, 2);
    // Scaling down removes the highest numbers; the port is the single replica's own again.
    assert.equal(composeRun('up', '-d', '--scale', 'web=1').code, 0);
    assert.deepEqual(names(), ['counter-redis-1', 'counter-web-1']);
    assert.ok(seen(await hit()) > 1);
  });

  test('down leaves no containers, networks or processes (monitors, helpers, the balancer); -p NAME alone finds the project', async () => {
    compose('up', '-d', '--scale', 'web=2');
    await hit();
    const pids = recordedPids();
    assert.ok(pids.length >= 5, `pids recorded: ${pids.join(' ')}`);
    // No file: the project's containers and networks are found by their labels.
    sb.ok(['compose', '-p', 'counter', '--project-directory', sb.dir, 'down']);
    assert.deepEqual(names(), []);
    assert.deepEqual(networks(), []);
    assert.deepEqual(await allGone(pids), []);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }));
    assert.equal(sb.ok(['compose', 'ls', '-a']).includes('counter'), false);
  });
});

describe('compose: dependencies, recreation and the other verbs', () => {
  const fx = (name: string) => path.join(REPO, 'test', 'fixtures', 'compose', name, 'compose.yaml');
  const deps = (...args: string[]) => sb.run(['compose', '-f', fx('deps'), ...args], { timeout: 120_000 });

  test('service_completed_successfully: app starts after init exited 0; unsupported keys are warned about by name', () => {
    const r = deps('up', '-d');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /WARN.*services\.app\.mem_swappiness/);
    assert.ok(r.stderr.indexOf('Container deps-init-1  Exited') < r.stderr.indexOf('Container deps-app-1  Created'), r.stderr);
    assert.match(sb.ok(['compose', '-f', fx('deps'), 'logs', '--no-prefix', 'app']), /^migrated\nhello\n/);
    assert.match(sb.ok(['compose', '-f', fx('deps'), 'ps', '-a', 'init']), /Exited \(0\)/);
    assert.match(sb.ok(['compose', '-f', fx('deps'), 'top', 'app']), /sleep 600/);
    assert.match(sb.ok(['compose', '-f', fx('deps'), 'images']), /deps-app-1\s+busybox\s+latest/);
  });

  test('a changed value recreates only the service it changes', () => {
    const appId = sb.ok(['ps', '-q', '--no-trunc', '--filter', 'name=deps-app-1']).trim();
    const r = sb.run(['compose', '-f', fx('deps'), 'up', '-d'], { env: { GREETING: 'bye' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Container deps-app-1 {2}Recreate/);
    assert.doesNotMatch(r.stderr, /deps-init-1 {2}Recreate/);
    assert.notEqual(sb.ok(['ps', '-q', '--no-trunc', '--filter', 'name=deps-app-1']).trim(), appId);
    assert.match(sb.ok(['compose', '-f', fx('deps'), 'logs', 'app']), /^app-1 {2}\| bye$/m);
  });

  test('attached up: per-service log prefixes; Ctrl-C (SIGINT) stops the project', async () => {
    const child = sb.runAsync(['compose', '-f', fx('deps'), 'up']);
    let out = '';
    const deadline = Date.now() + 60_000;
    // runAsync collects the output itself; poll the log through the CLI until the app printed.
    while (Date.now() < deadline && !/app-1 {2}\| hello/.test(out)) {
      await sleep(200);
      out = sb.ok(['compose', '-f', fx('deps'), 'logs', 'app']);
    }
    await sleep(500);
    child.kill('SIGINT');
    const r = await child;
    // Prefixes are padded to the longest container's (init-1).
    assert.match(r.stdout, /^app-1 {3}\| migrated\napp-1 {3}\| hello$/m);
    assert.match(r.stderr, /Gracefully stopping/);
    assert.equal(sb.ok(['compose', '-f', fx('deps'), 'ps', '-a', '--format', '{{.State}}', 'app']).trim(), 'exited');
  });

  test('kill -s, start, restart, stop -t, rm -s -f', () => {
    const state = () => sb.ok(['compose', '-f', fx('deps'), 'ps', '-a', '--format', '{{.Service}}={{.State}}', 'app']).trim();
    assert.equal(deps('kill', '-s', 'SIGKILL', 'app').code, 0);
    assert.equal(state(), 'app=exited');
    assert.equal(deps('start', 'app').code, 0);
    assert.equal(state(), 'app=running');
    assert.equal(deps('restart', 'app').code, 0);
    assert.equal(state(), 'app=running');
    assert.equal(deps('stop', '-t', '1').code, 0);
    assert.equal(state(), 'app=exited');
    assert.equal(deps('rm', '-s', '-f').code, 0);
    assert.equal(sb.ok(['compose', '-f', fx('deps'), 'ps', '-a', '-q']).trim(), '');
    assert.equal(deps('down', '-v').code, 0);
  });

  test('a dependency that becomes unhealthy fails up with a message naming it; the dependent is not created', () => {
    const r = sb.run(['compose', '-f', fx('sick'), 'up', '-d'], { timeout: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^Error: dependency failed to start: container sick-db-1 \(service "db"\) is unhealthy$/m);
    assert.deepEqual(names().filter((n) => n.startsWith('sick')), ['sick-db-1']);
    assert.equal(sb.run(['compose', '-f', fx('sick'), 'down', '-t', '0']).code, 0);
    assert.deepEqual(names().filter((n) => n.startsWith('sick')), []);
  });
});

describe('compose: bad input', () => {
  test('a file the schema refuses creates nothing: the error names the path', () => {
    const bad = path.join(REPO, 'test', 'fixtures', 'compose', 'bad-schema', 'compose.yaml');
    const r = sb.run(['compose', '-f', bad, 'up', '-d']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /services\.web\.ports must be a(n)? array/);
    assert.deepEqual(names(), []);
    assert.deepEqual(sb.ok(['network', 'ls', '--format', '{{.Name}}']).trim().split('\n').filter((n) => n.startsWith('bad-schema')), []);
    assert.deepEqual(sb.ok(['volume', 'ls', '--format', '{{.Name}}']).trim().split('\n').filter((n) => n.startsWith('bad-schema')), []);
  });

  test('an invalid project (a dependency on an undefined service) creates nothing: one Error line, exit nonzero', () => {
    const bad = path.join(REPO, 'test', 'fixtures', 'compose', 'bad-deps', 'compose.yaml');
    const r = sb.run(['compose', '-f', bad, 'up', '-d']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^Error: .*\bdb\b/m);
    assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('Error')).length, 1);
    assert.deepEqual(names(), []);
    assert.deepEqual(sb.ok(['network', 'ls', '--format', '{{.Name}}']).trim().split('\n').filter((n) => n.startsWith('bad-deps')), []);
    assert.deepEqual(sb.ok(['volume', 'ls', '--format', '{{.Name}}']).trim().split('\n').filter((n) => n.startsWith('bad-deps')), []);
  });
});
