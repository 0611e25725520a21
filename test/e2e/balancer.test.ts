/**
 * Replicas behind one host port (`tsctr-shim balance`, src/net/balancer.ts): three real containers
 * each publish busybox httpd on their own 127.0.0.1 port and answer with their hostname; one
 * balancer, started here as compose would start it, spreads connections over them. Round robin,
 * failover without a failed request, health files, live backend updates, a busy port, stopping,
 * and a flood of connections.
 */
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Sandbox, freePort } from '../support/harness.js';
import { startCappedBalancer } from '../support/balancer.js';
import { getOnce } from '../support/http.js';
import { sleep, until } from '../support/wait.js';
import { balancerAlive, setBackends, startBalancer, stopBalancer, type Backend } from '../../src/net/balancer.js';

const sb = new Sandbox('balancer');
const dirs: string[] = [];
const INTERVAL_MS = 500;

interface Replica {
  name: string;
  id: string;
  hostname: string;
  port: number;
  healthFile: string;
}
const replicas: Replica[] = [];

function startReplica(name: string): Replica {
  const id = sb.ok([
    'run', '-d', '--name', name, '-p', '127.0.0.1::80',
    '--health-cmd', 'test ! -e /tmp/sick', '--health-interval', `${INTERVAL_MS}ms`, '--health-retries', '1',
    'busybox', 'sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www',
  ]).trim();
  const port = Number(/:(\d+)\s*$/.exec(sb.ok(['port', name, '80']).trim())![1]);
  const hostname = id.slice(0, 12);
  const healthFile = path.join(sb.env.XDG_RUNTIME_DIR!, 'tsctr', 'containers', id, 'health.json');
  return { name, id, hostname, port, healthFile };
}

const backendsOf = (rs: Replica[]): Backend[] => rs.map((r) => ({ port: r.port, healthFile: r.healthFile }));

function balancerDir(): string {
  const d = path.join(sb.dir, `lb-${dirs.length}`);
  dirs.push(d);
  return d;
}

const healthStatus = (r: Replica) => {
  try {
    return (JSON.parse(fs.readFileSync(r.healthFile, 'utf8')) as { Status: string }).Status;
  } catch {
    return undefined;
  }
};

/** This user's balancer processes (by their comm), zombies aside. */
function balancerProcesses(): number[] {
  const uid = process.getuid!();
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const st = fs.readFileSync(`/proc/${p}/status`, 'utf8');
      if (/^Name:\ttsctr-balance$/m.test(st) && new RegExp(`^Uid:\\t${uid}\\t`, 'm').test(st) && !/^State:\tZ/m.test(st)) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

const rssKb = (pid: number) => Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

before(async () => {
  sb.ok(['pull', '-q', 'busybox']);
  for (const n of ['r1', 'r2', 'r3']) replicas.push(startReplica(n));
  await until('three healthy replicas', () => (replicas.every((r) => healthStatus(r) === 'healthy') ? true : undefined), 20_000, 50);
});

after(async () => {
  for (const d of dirs) await stopBalancer(d);
  sb.dispose();
});

describe('load balancer', () => {
  let dir: string;
  let port: number;

  test('connections go round robin over the replicas, on IPv4 and the IPv6 twin; the balancer is not dumpable', async () => {
    dir = balancerDir();
    const want = await freePort();
    const b = await startBalancer({ dir, hostIp: '', hostPort: want, protocol: 'tcp' });
    port = b.port;
    assert.equal(port, want);
    assert.ok(balancerAlive(dir));
    assert.deepEqual(balancerProcesses(), [b.pid]);
    setBackends(dir, backendsOf(replicas));
    await sleep(400);
    const seen: string[] = [];
    for (let i = 0; i < 9; i++) seen.push(await getOnce(port));
    for (const r of replicas) assert.equal(seen.filter((h) => h === r.hostname).length, 3, `${r.hostname} in ${seen.join(' ')}`);
    for (let i = 0; i + 2 < seen.length; i++) assert.equal(new Set(seen.slice(i, i + 3)).size, 3, `round robin: ${seen.join(' ')}`);
    if (fs.readFileSync('/proc/net/if_inet6', 'utf8').trim()) {
      const six = new Set<string>();
      for (let i = 0; i < 3; i++) six.add(await getOnce(port, '::1'));
      assert.equal(six.size, 3);
    }
    // Not dumpable: even its own user cannot take its descriptors or read its memory.
    assert.throws(() => fs.readdirSync(`/proc/${b.pid}/fd`), /EACCES|EPERM/);
  });

  test('an unhealthy replica leaves the rotation within one health interval and comes back when healthy', async () => {
    const [r1, r2, r3] = replicas as [Replica, Replica, Replica];
    const t0 = Date.now();
    sb.ok(['exec', r2.name, 'touch', '/tmp/sick']);
    try {
      // Out once no request in a full rotation reaches it (probes every interval, one failure is enough).
      let unhealthyAt = 0;
      const outAt = await until('r2 out of the rotation', async () => {
        if (!unhealthyAt && healthStatus(r2) === 'unhealthy') unhealthyAt = Date.now();
        const hosts = [await getOnce(port), await getOnce(port), await getOnce(port)];
        return hosts.includes(r2.hostname) ? undefined : Date.now();
      }, 20_000, 50);
      assert.equal(healthStatus(r2), 'unhealthy');
      unhealthyAt ||= outAt;
      console.log(`r2 left the rotation ${outAt - t0} ms after the touch, ${outAt - unhealthyAt} ms after its monitor said unhealthy`);
      // The monitor's verdict takes up to an interval and a probe; the balancer looks every 200 ms.
      assert.ok(outAt - unhealthyAt < 1000, `left the rotation ${outAt - unhealthyAt} ms after turning unhealthy`);
      const seen = new Set<string>();
      for (let i = 0; i < 8; i++) seen.add(await getOnce(port));
      assert.deepEqual([...seen].sort(), [r1.hostname, r3.hostname].sort());
    } finally {
      sb.ok(['exec', r2.name, 'rm', '-f', '/tmp/sick']);
    }
    await until('r2 back in the rotation', async () => ((await getOnce(port)) === r2.hostname ? true : undefined), 10_000, 50);
  });

  test('updating the backends file adds and removes replicas live', async () => {
    const [r1, r2, r3] = replicas as [Replica, Replica, Replica];
    setBackends(dir, [{ port: r1.port }]); // no health file: in the rotation as long as it answers
    await sleep(400);
    for (let i = 0; i < 5; i++) assert.equal(await getOnce(port), r1.hostname);
    setBackends(dir, backendsOf([r2, r3]));
    await sleep(400);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(await getOnce(port));
    assert.deepEqual([...seen].sort(), [r2.hostname, r3.hostname].sort());
    setBackends(dir, []);
    await sleep(400);
    await assert.rejects(getOnce(port), /ECONNRESET|socket hang up/);
    setBackends(dir, backendsOf(replicas));
    await sleep(400);
    const all = new Set<string>();
    for (let i = 0; i < 6; i++) all.add(await getOnce(port));
    assert.equal(all.size, 3);
  });

  test('a flood of 2000 connections opened and dropped does not kill it', async () => {
    const pid = Number(fs.readFileSync(path.join(dir, 'balancer.pid'), 'utf8').split(' ')[0]);
    const before = rssKb(pid);
    for (let batch = 0; batch < 4; batch++) {
      await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          new Promise<void>((resolve) => {
            const s = net.connect(port, '127.0.0.1');
            // Half are closed politely, half reset: both must be cleaned up.
            s.on('connect', () => (i % 2 ? s.destroy() : s.resetAndDestroy()));
            s.on('error', () => resolve());
            s.on('close', () => resolve());
          }),
        ),
      );
    }
    assert.ok(balancerAlive(dir));
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(await getOnce(port));
    assert.equal(seen.size, 3);
    await sleep(500);
    const afterKb = rssKb(pid);
    console.log(`balancer RSS ${before} kB before the flood, ${afterKb} kB after`);
    assert.ok(afterKb < before + 8192, `RSS grew from ${before} to ${afterKb} kB`);
  });

  test('at its connection cap (from the fd limit) new connections wait in the backlog, and are served once others go', async () => {
    const [r1] = replicas as [Replica];
    const d = balancerDir();
    // 56 descriptors: (56 - 32) / 6 = 4 connections at once.
    const capPort = (await startCappedBalancer(d, { nofile: 56, protocol: 'tcp', backends: [r1.port] })).port;
    const idle = await Promise.all(
      Array.from({ length: 4 }, () => new Promise<net.Socket>((resolve) => { const s = net.connect(capPort, '127.0.0.1', () => resolve(s)); })),
    );
    await sleep(300);
    let settled = false;
    const waiting = getOnce(capPort).finally(() => (settled = true));
    await sleep(1000);
    assert.equal(settled, false, 'a fifth connection was served at the cap');
    for (const s of idle) s.destroy();
    assert.equal(await waiting, r1.hostname);
    assert.equal(await getOnce(capPort), r1.hostname);
    await stopBalancer(d);
  });

  test('killing a replica keeps the port answering, with no failed request', async () => {
    const [r1, r2, r3] = replicas as [Replica, Replica, Replica];
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const hostsAfterKill = new Set<string>();
    let killed = false;
    // Four clients in parallel, each request on a new connection, through the kill and after it.
    const loops = Array.from({ length: 4 }, async () => {
      while (!stop) {
        try {
          const h = await getOnce(port);
          ok++;
          if (killed) hostsAfterKill.add(h);
        } catch (e) {
          failures.push(String(e));
        }
      }
    });
    await sleep(500);
    sb.ok(['kill', r3.name]);
    await sleep(300);
    killed = true;
    await sleep(1500);
    stop = true;
    await Promise.all(loops);
    assert.deepEqual(failures, []);
    assert.ok(ok > 20, `${ok} requests`);
    assert.deepEqual([...hostsAfterKill].sort(), [r1.hostname, r2.hostname].sort());
  });

  test('bad backends are refused before anything is written', async () => {
    const d = balancerDir();
    fs.mkdirSync(d, { mode: 0o700 });
    assert.throws(() => setBackends(d, [{ port: 0 }]), /invalid backend port 0/);
    assert.throws(() => setBackends(d, [{ port: 70000 }]), /invalid backend port 70000/);
    assert.throws(() => setBackends(d, [{ port: 80, healthFile: 'relative/health.json' }]), /invalid health file path/);
    assert.throws(() => setBackends(d, [{ port: 80, healthFile: '/x\n81 -' }]), /invalid health file path/);
    assert.deepEqual(fs.readdirSync(d), []);
    // Nor does it follow a symlink for its directory.
    const link = path.join(sb.dir, 'lb-link');
    fs.symlinkSync(d, link);
    await assert.rejects(startBalancer({ dir: link, hostIp: '127.0.0.1', hostPort: 0, protocol: 'tcp' }), /not a directory of ours/);
    assert.deepEqual(fs.readdirSync(d), []);
  });

  test('a port in use is a clear error and leaves nothing behind', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const busyPort = (busy.address() as net.AddressInfo).port;
    const d = balancerDir();
    const procs = balancerProcesses();
    try {
      await assert.rejects(
        startBalancer({ dir: d, hostIp: '127.0.0.1', hostPort: busyPort, protocol: 'tcp' }),
        (e: Error) => {
          assert.equal(e.message, `failed to bind port 127.0.0.1:${busyPort}/tcp: listen tcp 127.0.0.1:${busyPort}: bind: address already in use`);
          return true;
        },
      );
      assert.deepEqual(fs.readdirSync(d), []);
      assert.deepEqual(balancerProcesses(), procs);
      assert.equal(balancerAlive(d), false);
      // UDP too (balancer2.test.ts balances it), with the same wording.
      const udp = dgram.createSocket('udp4');
      await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
      const udpPort = udp.address().port;
      try {
        await assert.rejects(
          startBalancer({ dir: d, hostIp: '127.0.0.1', hostPort: udpPort, protocol: 'udp' }),
          (e: Error) => e.message === `failed to bind port 127.0.0.1:${udpPort}/udp: listen udp 127.0.0.1:${udpPort}: bind: address already in use`,
        );
      } finally {
        udp.close();
      }
      assert.deepEqual(fs.readdirSync(d), []);
      if (Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')) > 80) {
        await assert.rejects(
          startBalancer({ dir: d, hostIp: '127.0.0.1', hostPort: 80, protocol: 'tcp' }),
          /^TsctrError: failed to bind port 127\.0\.0\.1:80\/tcp: ports below \d+ are privileged; as root run 'sysctl net\.ipv4\.ip_unprivileged_port_start=80'/,
        );
        assert.deepEqual(fs.readdirSync(d), []);
      }
    } finally {
      busy.close();
    }
  });

  test('stop leaves no process; removing the backends file ends it too', async () => {
    assert.equal(balancerProcesses().length, 1);
    await stopBalancer(dir);
    assert.equal(balancerAlive(dir), false);
    assert.deepEqual(balancerProcesses(), []);
    assert.deepEqual(fs.readdirSync(dir), []);
    await assert.rejects(getOnce(port), /ECONNREFUSED/);

    const d = balancerDir();
    const b = await startBalancer({ dir: d, hostIp: '127.0.0.1', hostPort: 0, protocol: 'tcp' });
    setBackends(d, backendsOf(replicas.slice(0, 2)));
    await until('an answer', async () => (await getOnce(b.port).catch(() => undefined)) ? true : undefined, 5000, 50);
    fs.rmSync(path.join(d, 'backends'));
    await until('the balancer gone', () => (balancerProcesses().length === 0 ? true : undefined), 5000, 50);
    assert.equal(balancerAlive(d), false);
  });
});
