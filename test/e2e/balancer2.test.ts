/**
 * The replica balancer through compose, where it had gaps: a replica its monitor restarts comes
 * back into the rotation by itself; an unhealthy (or stopped) replica leaves it within one health
 * interval and an unhealthy one comes back when healthy; a scaled UDP port (`"PORT:53/udp"`) is
 * balanced by client address, replies come back from the port the client sent to, and a burst of
 * source addresses leaks no descriptors.
 */
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, inspectJson } from '../support/harness.js';
import { startCappedBalancer } from '../support/balancer.js';
import { useSandbox } from '../support/hooks.js';
import { getOnce } from '../support/http.js';
import { sleep, until } from '../support/wait.js';
import { setBackends, startBalancer, stopBalancer } from '../../src/net/balancer.js';

const sb = useSandbox('balancer2');
const INTERVAL_MS = 500;

interface State {
  Pid: number;
  Running: boolean;
  Health?: { Status: string };
}
const state = (name: string) => inspectJson<{ State: State; RestartCount: number; Config: { Hostname: string } }>(sb, name);

/**
 * Three replicas of `project`'s one service through compose, published on one host port (`ports`)
 * and healthy while /tmp/ok exists (their command makes it at each start): `up` writes the compose
 * file, the service's own `lines` (image, command) first, and waits for them; `down` removes them.
 */
function replicas(project: string, service: string) {
  const dir = path.join(sb.dir, project);
  const file = path.join(dir, 'compose.yaml');
  const compose = (...args: string[]) => sb.ok(['compose', '-f', file, ...args]);
  const names = [1, 2, 3].map((i) => `${project}-${service}-${i}`);
  const hostOf: Record<string, string> = {};
  return {
    compose,
    names,
    hostOf,
    up(ports: string, lines: string) {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(
        file,
        `name: ${project}
services:
  ${service}:
${lines}    deploy:
      replicas: 3
    ports: ["${ports}"]
    healthcheck:
      test: ["CMD-SHELL", "test -e /tmp/ok"]
      interval: ${INTERVAL_MS}ms
      retries: 1
`,
      );
      compose('up', '-d', '--wait');
      for (const n of names) hostOf[n] = state(n).Config.Hostname;
    },
    down: () => sb.run(['compose', '-f', file, 'down', '-t', '1']),
  };
}

/** Requests on fresh connections from `n` clients in parallel until stopped: who answered, what failed. */
function load(port: number, n = 4) {
  let stop = false;
  const answers: { at: number; host: string }[] = [];
  const failures: string[] = [];
  const loops = Array.from({ length: n }, async () => {
    while (!stop) {
      try {
        answers.push({ host: await getOnce(port), at: Date.now() });
      } catch (e) {
        failures.push(String(e));
      }
    }
  });
  return {
    answers,
    failures,
    hostsSince: (t: number) => new Set(answers.filter((a) => a.at >= t).map((a) => a.host)),
    async end() {
      stop = true;
      await Promise.all(loops);
    },
  };
}

describe('compose: replicas behind one TCP port', () => {
  const web = replicas('lbweb', 'web');
  const { names, hostOf } = web;
  let port = 0;

  before(async () => {
    port = await freePort();
    // Each answers with its hostname.
    web.up(
      `${port}:80`,
      `    image: busybox
    command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && touch /tmp/ok && exec httpd -f -p 80 -h /www"]
    restart: always
`,
    );
    await until('all three replicas answering', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add(await getOnce(port).catch(() => ''));
      return names.every((n) => seen.has(hostOf[n]!)) ? true : undefined;
    });
  });
  after(() => {
    web.down();
  });

  test('a replica its monitor restarts (main process killed) comes back into the rotation by itself; the port answers throughout', async () => {
    const victim = names[1]!;
    const before = state(victim);
    const l = load(port);
    await sleep(300);
    const killedAt = Date.now();
    // From the host, as a crash would: its monitor restarts it (restart: always), no compose command runs.
    process.kill(before.State.Pid, 'SIGKILL');
    const restarted = await until('the restart', () => {
      const s = state(victim);
      return s.RestartCount > before.RestartCount && s.State.Running && s.State.Pid !== before.State.Pid ? Date.now() : undefined;
    }, 20_000, 50);
    const backAt = await until(
      'the restarted replica answering through the balancer',
      () => l.answers.find((a) => a.at > restarted && a.host === hostOf[victim])?.at,
      15_000,
    );
    await sleep(300);
    await l.end();
    console.log(`killed at 0 ms; restarted by its monitor at ${restarted - killedAt} ms; answering again at ${backAt - killedAt} ms; ${l.answers.length} requests, ${l.failures.length} failed`);
    assert.deepEqual(l.failures, []);
    // Between the kill and its return, the other two kept answering.
    const during = new Set(l.answers.filter((a) => a.at > killedAt && a.at < backAt).map((a) => a.host));
    for (const n of names.filter((n) => n !== victim)) assert.ok(during.has(hostOf[n]!), `${n} answered during the restart: ${[...during].join(' ')}`);
    assert.equal(l.hostsSince(backAt).size, 3);
  });

  test('an unhealthy replica leaves the rotation within one health interval, and comes back when healthy', async () => {
    const sick = names[0]!;
    const l = load(port, 3);
    await sleep(300);
    sb.ok(['exec', sick, 'rm', '/tmp/ok']);
    // Counted from once the file is gone and the answers that came during that synchronous call
    // (it blocks this event loop) are in.
    await sleep(50);
    const t0 = Date.now();
    // The next probe is at most an interval away; the balancer looks at health files every 200 ms.
    await sleep(INTERVAL_MS + 1000);
    const lastHit = Math.max(...l.answers.filter((a) => a.host === hostOf[sick]).map((a) => a.at));
    const probe = Date.now();
    await sleep(1500);
    assert.equal(state(sick).State.Health?.Status, 'unhealthy');
    assert.ok(!l.hostsSince(probe).has(hostOf[sick]!), 'the unhealthy replica still got requests');
    sb.ok(['exec', sick, 'touch', '/tmp/ok']);
    const t1 = Date.now();
    const backAt = await until('the healthy again replica answering', () => l.answers.find((a) => a.at > t1 && a.host === hostOf[sick])?.at, 10_000);
    await l.end();
    console.log(`unhealthy: last request reached it ${lastHit - t0} ms after its health file went; healthy again: back ${backAt - t1} ms after`);
    assert.deepEqual(l.failures, []);
    assert.ok(lastHit - t0 < INTERVAL_MS + 1000, `reached ${lastHit - t0} ms after turning unhealthy`);
    assert.ok(backAt - t1 < INTERVAL_MS + 1500, `back ${backAt - t1} ms after turning healthy`);
  });

  test('a stopped replica leaves the rotation at once, with no failed request', async () => {
    const gone = names[2]!;
    const l = load(port);
    await sleep(300);
    sb.ok(['stop', '-t', '1', gone]);
    // The test's own event loop was blocked by that synchronous call: answers that came meanwhile
    // are only seen now. Count from after them.
    await sleep(200);
    const t = Date.now();
    await sleep(1500);
    await l.end();
    assert.deepEqual(l.failures, []);
    assert.deepEqual([...l.hostsSince(t)].sort(), names.filter((n) => n !== gone).map((n) => hostOf[n]!).sort());
  });
});

describe('compose: replicas behind one UDP port', () => {
  const echo = replicas('lbudp', 'echo');
  const { compose, names, hostOf } = echo;
  let port = 0;
  const nameOf = (host: string) => names.find((n) => hostOf[n] === host);
  const sockets: dgram.Socket[] = [];
  const connected = new WeakSet<dgram.Socket>();

  /** A client socket on a source port of its own (optionally connected: it then takes replies from that address only). */
  async function client(connectTo?: string): Promise<dgram.Socket> {
    const s = dgram.createSocket('udp4');
    sockets.push(s);
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    if (connectTo) {
      await new Promise<void>((r, j) => s.connect(port, connectTo, (e?: Error) => (e ? j(e) : r())));
      connected.add(s);
    }
    return s;
  }
  /** One datagram and its answer: `HOSTNAME MESSAGE` from the replica, and where it came from. */
  function ask(s: dgram.Socket, msg: string, to = '127.0.0.1'): Promise<{ host: string; text: string; from: dgram.RemoteInfo }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        s.off('message', on);
        reject(new Error(`no answer to ${msg}`));
      }, 3000);
      const on = (b: Buffer, from: dgram.RemoteInfo) => {
        const [host, ...rest] = b.toString().split(' ');
        if (rest.join(' ') !== msg) return; // a late answer to an earlier question
        clearTimeout(timer);
        s.off('message', on);
        resolve({ host: host!, text: rest.join(' '), from });
      };
      s.on('message', on);
      if (connected.has(s)) s.send(msg);
      else s.send(msg, port, to);
    });
  }
  before(async () => {
    port = await freePort();
    // A UDP server answering each datagram with `HOSTNAME DATAGRAM` (perl is in debian's minbase).
    const server =
      'use Socket; socket(S, PF_INET, SOCK_DGRAM, 0) or die "socket: $$!"; bind(S, sockaddr_in(53, INADDR_ANY)) or die "bind: $$!"; ' +
      'open(H, "/proc/sys/kernel/hostname"); chomp(my $$h = <H>); ' +
      'while (defined(my $$a = recv(S, my $$m, 65535, 0))) { send(S, "$$h $$m", 0, $$a) }';
    echo.up(
      `${port}:53/udp`,
      `    image: debian
    command: ${JSON.stringify(['sh', '-c', `touch /tmp/ok && exec perl -e '${server}'`])}
`,
    );
  });
  after(() => {
    for (const s of sockets) s.close();
    echo.down();
  });

  test('each client address is a session on the next replica; replies come from the address and port it sent to', async () => {
    assert.equal(compose('port', '--protocol', 'udp', 'echo', '53').trim(), `0.0.0.0:${port}`);
    const hosts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await client();
      const a = await ask(s, `q${i}`);
      assert.equal(a.from.address, '127.0.0.1');
      assert.equal(a.from.port, port);
      // The session sticks: the same client's next datagrams reach the same replica.
      for (let k = 0; k < 3; k++) assert.equal((await ask(s, `q${i}.${k}`)).host, a.host);
      hosts.push(a.host);
    }
    // Two clients on different source ports land on different replicas: round robin over all three.
    assert.deepEqual([...hosts].sort(), names.map((n) => hostOf[n]!).sort(), hosts.join(' '));
    // A client that sent to another local address (the listener is 0.0.0.0) gets the answer from
    // that address: a connected socket would drop one from 127.0.0.1.
    const c = await client('127.0.0.2');
    const a = await ask(c, 'via 127.0.0.2');
    assert.equal(a.from.address, '127.0.0.2');
    assert.equal(a.from.port, port);
  });

  test('an unhealthy replica gets no new sessions, and its sessions move to another at their next datagram', async () => {
    const s = await client();
    const first = await ask(s, 'before');
    const sick = nameOf(first.host)!;
    assert.ok(sick, first.host);
    sb.ok(['exec', sick, 'rm', '/tmp/ok']);
    try {
      await until('unhealthy', () => (state(sick).State.Health?.Status === 'unhealthy' ? true : undefined), 10_000);
      await sleep(400); // the balancer looks at health files every 200 ms
      const moved = await ask(s, 'after');
      assert.notEqual(moved.host, first.host);
      for (let i = 0; i < 6; i++) assert.notEqual((await ask(await client(), `new${i}`)).host, first.host);
    } finally {
      sb.ok(['exec', sick, 'touch', '/tmp/ok']);
    }
    await until('healthy again', () => (state(sick).State.Health?.Status === 'healthy' ? true : undefined), 10_000);
    await sleep(400);
    const back = new Set<string>();
    for (let i = 0; i < 3; i++) back.add((await ask(await client(), `back${i}`)).host);
    assert.ok(back.has(first.host), `${[...back].join(' ')}`);
  });

  /** The balancer's sessions: its sockets connected to the replicas' published ports (this netns' /proc/net/udp). */
  function sessionSockets(backendPorts: number[]): number {
    const want = new Set(backendPorts.map((p) => `0100007F:${p.toString(16).toUpperCase().padStart(4, '0')}`));
    return fs
      .readFileSync('/proc/net/udp', 'utf8')
      .split('\n')
      .slice(1)
      .filter((l) => want.has(l.trim().split(/\s+/)[2] ?? '')).length;
  }

  test('a burst of 5000 source ports: sessions stay within the cap the fd limit sets, no descriptor leaks, it keeps serving', async () => {
    const backendPorts = names.map((n) => Number(/:(\d+)\s*$/.exec(sb.ok(['port', n, '53/udp']).trim())![1]));
    // A balancer of its own over the same replicas, with 160 descriptors: (160 - 32) = 128 sessions.
    const capped = await startCappedBalancer(path.join(sb.dir, 'lb-udp-cap'), { nofile: 160, protocol: 'udp', backends: backendPorts });
    const { pid, port: capPort } = capped;
    try {
      const before = sessionSockets(backendPorts);
      // 5000 distinct source ports, 250 sockets at a time, each sending one datagram.
      let sent = 0;
      const used = new Set<number>();
      while (sent < 5000) {
        const batch: dgram.Socket[] = [];
        for (let i = 0; i < 250 && sent < 5000; i++) {
          const s = dgram.createSocket('udp4');
          await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
          if (used.has(s.address().port)) {
            s.close();
            continue;
          }
          used.add(s.address().port);
          s.send(`flood${sent++}`, capPort, '127.0.0.1');
          batch.push(s);
        }
        await sleep(20);
        for (const s of batch) s.close();
      }
      await sleep(500);
      const during = sessionSockets(backendPorts) - before;
      const fdSize = Number(/^FDSize:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
      console.log(`${used.size} source ports: ${during} sessions open after the burst, FDSize ${fdSize}`);
      assert.equal(used.size, 5000);
      assert.ok(during > 0 && during <= 128, `${during} sessions`);
      assert.ok(fdSize <= 256, `FDSize ${fdSize}`);
      // Still serving: new clients get their answers.
      for (let i = 0; i < 3; i++) {
        const s = await client();
        const r = await new Promise<string>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('no answer after the burst')), 3000);
          s.once('message', (b) => (clearTimeout(t), resolve(b.toString())));
          s.send(`after${i}`, capPort, '127.0.0.1');
        });
        assert.match(r, new RegExp(` after${i}$`));
      }
    } finally {
      await capped.stop();
    }
  });
});

describe('UDP sessions under a flood', () => {
  test('a flood of source addresses that get no answer does not push out a client that is being answered', async () => {
    // The backend: a UDP server of the test's own, answering only `ask...`, noting the port each came from.
    const backend = dgram.createSocket('udp4');
    const fromPort: Record<string, number> = {};
    backend.on('message', (b, r) => {
      const m = b.toString();
      if (!m.startsWith('ask')) return;
      fromPort[m] = r.port;
      backend.send(`ok ${m}`, r.port, r.address);
    });
    await new Promise<void>((r) => backend.bind(0, '127.0.0.1', () => r()));
    // 96 descriptors: 64 sessions.
    const lb = await startCappedBalancer(path.join(sb.dir, 'lb-udp-flood'), { nofile: 96, protocol: 'udp', backends: [backend.address().port] });
    const lbPort = lb.port;
    const a = dgram.createSocket('udp4');
    await new Promise<void>((r) => a.bind(0, '127.0.0.1', () => r()));
    const ask = (msg: string) =>
      new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no answer to ${msg}`)), 3000);
        a.once('message', (b) => (clearTimeout(t), resolve(b.toString())));
        a.send(msg, lbPort, '127.0.0.1');
      });
    try {
      assert.equal(await ask('ask1'), 'ok ask1');
      for (let sent = 0; sent < 2000; ) {
        const batch: dgram.Socket[] = [];
        for (let i = 0; i < 200; i++, sent++) {
          const s = dgram.createSocket('udp4');
          await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
          s.send('flood', lbPort, '127.0.0.1');
          batch.push(s);
        }
        await sleep(20);
        for (const s of batch) s.close();
      }
      await sleep(300);
      assert.equal(await ask('ask2'), 'ok ask2');
      // The same session: the balancer's socket to the backend is the one it had before the flood.
      assert.equal(fromPort['ask2'], fromPort['ask1']);
    } finally {
      a.close();
      backend.close();
      await lb.stop();
    }
  });
});

describe('a replica in its restart back-off', () => {
  const lbDir = path.join(sb.dir, 'lb-backoff');
  after(async () => {
    await stopBalancer(lbDir);
    sb.run(['rm', '-f', 'steady', 'crashing']);
  });

  test('refuses connections at once (not kept in the backlog until its next start): through a balancer no request waits for it', async () => {
    const publish = (name: string) => Number(/:(\d+)\s*$/.exec(sb.ok(['port', name, '80']).trim())![1]);
    sb.ok(['run', '-d', '--name', 'steady', '-p', '127.0.0.1::80', 'busybox', 'sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www']);
    // Exits after 0.3 s, again and again: its monitor's back-off doubles from 100 ms (1.6 s, 3.2 s, ...).
    sb.ok(['run', '-d', '--name', 'crashing', '--restart', 'always', '-p', '127.0.0.1::80', 'busybox', 'sh', '-c', 'sleep 0.3; exit 1']);
    const crashingPort = publish('crashing');
    await until('a long back-off', () => (state('crashing').RestartCount >= 5 ? true : undefined), 30_000);
    // Straight to its port: a reset within moments, whether it is in its back-off or briefly up.
    for (let i = 0; i < 8; i++) {
      const t = Date.now();
      await assert.rejects(getOnce(crashingPort), /ECONNRESET|socket hang up|ECONNREFUSED/);
      assert.ok(Date.now() - t < 500, `refused after ${Date.now() - t} ms`);
      await sleep(150);
    }
    // Through a balancer (no health checks: both in rotation until they refuse), no request waits.
    const b = await startBalancer({ dir: lbDir, hostIp: '127.0.0.1', hostPort: 0, protocol: 'tcp' });
    setBackends(lbDir, [{ port: publish('steady') }, { port: crashingPort }]);
    await sleep(400);
    let slowest = 0;
    for (let i = 0; i < 20; i++) {
      const t = Date.now();
      await getOnce(b.port);
      slowest = Math.max(slowest, Date.now() - t);
      await sleep(100);
    }
    console.log(`the slowest of 20 requests through the balancer took ${slowest} ms`);
    assert.ok(slowest < 500, `a request took ${slowest} ms`);
  });
});
