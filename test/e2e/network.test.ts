/**
 * The headline: `tsctr run -d -p 8080:80 nginx` as an ordinary user, answered with a real HTTP
 * request through the published port, then stopped, removed and its image deleted.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Sandbox, freePort, freePortRange } from '../support/harness.js';
import { sleep } from '../support/wait.js';
import { getBody } from '../support/http.js';
import { compileProbe } from '../support/probes.js';

const get = (url: string, ms = 10_000) => getBody(url, { ms, every: 50 });

/** Network helpers of this user: the stacks, and tsctr's port forwarder (named by its comm). */
function helperProcesses(): string[] {
  const out = spawnSync('ps', ['-u', String(process.getuid!()), '-o', 'stat=,comm=,args='], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter((l) => !/^Z/.test(l) && /^\S+\s+(tsctr-ports|\S+\s+(\S*\/)?(pasta|passt|slirp4netns)( |$))/.test(l));
}

/** Sends data, half-closes, and collects everything the server sends back until it closes. */
function echo(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(port, '127.0.0.1', () => sock.end(data));
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => (chunks.length ? resolve(Buffer.concat(chunks)) : reject(new Error('closed without an answer'))));
    sock.on('error', reject);
    sock.setTimeout(10_000, () => sock.destroy(new Error('timeout')));
  });
}

/**
 * How many helpers run once the count has settled: a killed helper takes a moment to die (the
 * kernel tears down its tap device), so poll until it reaches `want`, or stops changing.
 */
async function settledHelpers(want?: number): Promise<number> {
  let last = helperProcesses().length;
  // Without a target: the same count for half a second (a helper killed by an earlier test may
  // take that long to go on a loaded machine).
  let stable = 0;
  for (let i = 0; i < 200; i++) {
    await sleep(50);
    const n = helperProcesses().length;
    if (want !== undefined && n === want) return n;
    stable = n === last ? stable + 1 : 0;
    if (want === undefined && stable >= 10) return n;
    last = n;
  }
  return last;
}

/** This host's first non-loopback IPv4 address: what a container reaches the host by without host-loopback access. */
function hostAddress(): string | undefined {
  return Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

/** Does this host have IPv6 addresses (then `-p 8080:80` binds :: too)? */
const HOST_IPV6 = (() => {
  try {
    return fs.readFileSync('/proc/net/if_inet6', 'utf8').trim() !== '';
  } catch {
    return false;
  }
})();

describe('published ports (acceptance scenario)', () => {
  const sb = new Sandbox('net');
  after(() => sb.dispose());

  test('run -d -p PORT:80 nginx serves, ps/port/inspect show it, logs have the request, stop uses SIGQUIT, rm + rmi leave nothing', async () => {
    const helpersBefore = await settledHelpers();
    // Any free port: the demo's nginx may hold the usual one (scripts/demo.sh leaves it running).
    const port = await freePort();
    const r = sb.run(['run', '-d', '-p', `${port}:80`, 'nginx']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.match(id, /^[a-f0-9]{64}$/);
    const page = await get(`http://127.0.0.1:${port}/`);
    assert.match(page, /Welcome to nginx/);
    const ps = sb.ok(['ps']);
    assert.match(ps, new RegExp(`^${id.slice(0, 12)}\\s+nginx\\s+.*Up .*0\\.0\\.0\\.0:${port}->80/tcp`, 'm'));
    // As docker: a port published on every address is bound for IPv6 too, where the host has it.
    if (HOST_IPV6) {
      assert.equal(sb.ok(['port', id]).trim(), `80/tcp -> 0.0.0.0:${port}\n80/tcp -> [::]:${port}`);
      assert.equal(sb.ok(['inspect', '-f', '{{json .NetworkSettings.Ports}}', id]).trim(), `{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"${port}"},{"HostIp":"::","HostPort":"${port}"}]}`);
      assert.match(await get(`http://[::1]:${port}/`), /Welcome to nginx/);
    } else {
      assert.equal(sb.ok(['port', id]).trim(), `80/tcp -> 0.0.0.0:${port}`);
      assert.equal(sb.ok(['inspect', '-f', '{{json .NetworkSettings.Ports}}', id]).trim(), `{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"${port}"}]}`);
    }
    await sleep(200);
    assert.match(sb.ok(['logs', id]), /"GET \/ HTTP\/1\.1" 200/);
    const t0 = Date.now();
    sb.ok(['stop', id]);
    assert.ok(Date.now() - t0 < 5000, 'nginx quit on SIGQUIT without waiting for the SIGKILL timeout');
    assert.equal(sb.ok(['inspect', '-f', '{{.State.ExitCode}}', id]).trim(), '0');
    await assert.rejects(get(`http://127.0.0.1:${port}/`, 500));
    sb.ok(['rm', id]);
    sb.ok(['rmi', 'nginx']);
    assert.deepEqual(fs.readdirSync(path.join(sb.root, 'layers')), []);
    assert.deepEqual(fs.readdirSync(path.join(sb.root, 'containers')), []);
    assert.equal(await settledHelpers(helpersBefore), helpersBefore, 'no network helper left behind');
  });

  test('a port already in use is a clear error and leaves nothing behind', async () => {
    const busy = await freePort();
    const blocker = net.createServer().listen(busy, '0.0.0.0');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const r = sb.run(['run', '-d', '--name', 'clash', '-p', `${busy}:80`, 'nginx']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /^Error: .*address already in use/m);
      assert.doesNotMatch(sb.ok(['ps', '-a']), /clash/);
    } finally {
      blocker.close();
    }
  });

  test('-p with a random host port, an IP, udp, and ranges', async () => {
    const range = await freePortRange(2);
    const udp = await freePort();
    const id = sb.ok(['run', '-d', '-p', '80', '-p', `127.0.0.1:${range}-${range + 1}:8000-8001`, '-p', `${udp}:53/udp`, 'nginx']).trim();
    const ports = sb.ok(['port', id]).trim().split('\n');
    const random = ports.find((l) => l.startsWith('80/tcp -> 0.0.0.0:'));
    assert.ok(random, ports.join('\n'));
    const hostPort = Number(random.split(':').at(-1));
    assert.ok(hostPort > 1024);
    assert.match(await get(`http://127.0.0.1:${hostPort}/`), /Welcome to nginx/);
    assert.ok(ports.includes(`8000/tcp -> 127.0.0.1:${range}`));
    assert.ok(ports.includes(`8001/tcp -> 127.0.0.1:${range + 1}`));
    assert.ok(ports.includes(`53/udp -> 0.0.0.0:${udp}`));
    sb.ok(['rm', '-f', id]);
  });

  test('ports below the unprivileged start get an explanation', () => {
    const start = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    if (start <= 80) return;
    const r = sb.run(['run', '-d', '-p', '80:80', 'nginx']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /ip_unprivileged_port_start/);
  });

  test('the default network forwards TCP through tsctr-ports: bytes intact both ways with half-close, ports kept across restarts, refused when nothing listens', async () => {
    const before = await settledHelpers();
    // An echo server: each connection gets `cat`, which answers until the client's EOF and then closes.
    const [echoPort, deadPort] = [await freePort(), await freePort()];
    const id = sb.ok(['run', '-d', '--restart', 'always', '-p', `${echoPort}:9000`, '-p', `${deadPort}:81`, 'busybox', 'nc', '-ll', '-p', '9000', '-e', 'cat']).trim();
    assert.equal(sb.ok(['inspect', '-f', '{{.HostConfig.NetworkMode}}', id]).trim(), 'slirp4netns');
    const blob = (await import('node:crypto')).randomBytes(8 << 20);
    const echoed = await echo(echoPort, blob);
    assert.equal(echoed.length, blob.length);
    assert.ok(echoed.equals(blob), '8 MiB came back byte for byte');
    const names = helperProcesses().join('\n');
    assert.match(names, /tsctr-ports/);
    assert.match(names, /slirp4netns/);
    // The forwarder and the stack live outside the container's pid namespace.
    assert.doesNotMatch(sb.ok(['exec', id, 'sh', '-c', 'cat /proc/[0-9]*/comm']), /tsctr-ports|slirp4netns/);
    // Nothing listens on 81 inside: the connection is refused at once, not left hanging.
    await assert.rejects(echo(deadPort, Buffer.from('x')), /ECONNRESET|EPIPE|closed/);
    // The monitor restarts the container, and the same port serves again through a new forwarder.
    sb.ok(['kill', id]);
    for (let i = 0; i < 100 && sb.ok(['inspect', '-f', '{{.RestartCount}}', id]).trim() === '0'; i++) await sleep(50);
    let again: Buffer = Buffer.alloc(0);
    for (let i = 0; i < 50 && !again.length; i++) again = await echo(echoPort, Buffer.from('again')).catch(() => sleep(50).then(() => Buffer.alloc(0)));
    assert.equal(again.toString(), 'again');
    sb.ok(['rm', '-f', id]);
    assert.equal(await settledHelpers(before), before, 'slirp4netns and tsctr-ports end with the container');
  });

  test('UDP ports are forwarded by tsctr-ports, to loopback clients too, and again after the monitor restarts the container', async () => {
    const dir = path.join(sb.dir, 'udp');
    fs.mkdirSync(dir);
    compileProbe('udp-echo', dir);
    const udpPort = await freePort();
    const id = sb.ok(['run', '-d', '--restart', 'always', '-p', `${udpPort}:9001/udp`, '-v', `${dir}:/probe:ro`, 'busybox', '/probe/udp-echo', '9001']).trim();
    assert.match(sb.ok(['port', id]), new RegExp(`^9001/udp -> 0\\.0\\.0\\.0:${udpPort}$`, 'm'));
    const dgram = await import('node:dgram');
    const ask = async (text: string): Promise<string> => {
      const sock = dgram.createSocket('udp4');
      try {
        for (let i = 0; i < 50; i++) {
          const reply = new Promise<string>((resolve) => sock.once('message', (m) => resolve(m.toString())));
          sock.send(text, udpPort, '127.0.0.1');
          const got = await Promise.race([reply, sleep(100).then(() => '')]);
          if (got) return got;
        }
        return '';
      } finally {
        sock.close();
      }
    };
    assert.equal(await ask('ping'), 'ping');
    // Two clients at once each get their own answers.
    const [a, b] = await Promise.all([ask('from a'), ask('from b')]);
    assert.deepEqual([a, b], ['from a', 'from b']);
    assert.doesNotMatch(helperProcesses().join('\n'), /slirp4netns.*--api-socket/);
    sb.ok(['kill', id]);
    for (let i = 0; i < 100 && sb.ok(['inspect', '-f', '{{.RestartCount}}', id]).trim() === '0'; i++) await sleep(50);
    assert.equal(await ask('again'), 'again', 'the forward was set up again for the restarted container');
    sb.ok(['rm', '-f', id]);
  });

  test('--network pasta publishes ports itself and maps the gateway to the host loopback; its helper ends with the container', async () => {
    const before = await settledHelpers();
    const server = (await import('node:http')).createServer((_req, res) => res.end('from-the-host'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const webPort = await freePort();
      const id = sb.ok(['run', '-d', '--network', 'pasta', '-p', `${webPort}:80`, 'nginx']).trim();
      assert.match(await get(`http://127.0.0.1:${webPort}/`), /Welcome to nginx/);
      assert.ok(helperProcesses().some((l) => /pasta|passt/.test(l)), 'pasta runs while the container does');
      const r = await sb.runAsync(['run', '--rm', '--network', 'pasta', 'busybox', 'sh', '-c', `gw=$(ip route | awk '/default/ {print $3}'); wget -qO- http://$gw:${port}/`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'from-the-host');
      sb.ok(['rm', '-f', id]);
      assert.equal(await settledHelpers(before), before);
    } finally {
      server.close();
    }
  });

  test('-P publishes every exposed port; container:NAME shares a network namespace', async () => {
    const id = sb.ok(['run', '-d', '--name', 'web', '-P', 'nginx']).trim();
    const line = sb.ok(['port', id]).trim();
    const m = /^80\/tcp -> 0\.0\.0\.0:(\d+)$/m.exec(line);
    assert.ok(m, line);
    if (HOST_IPV6) assert.match(line, new RegExp(`^80/tcp -> \\[::\\]:${m[1]}$`, 'm'), 'the same random port on IPv6');
    assert.match(await get(`http://127.0.0.1:${m[1]}/`), /Welcome to nginx/);
    const sidecar = await sb.runAsync(['run', '--rm', '--network', 'container:web', 'busybox', 'wget', '-qO-', 'http://127.0.0.1/']);
    assert.equal(sidecar.code, 0, sidecar.stderr);
    assert.match(sidecar.stdout, /Welcome to nginx/);
    sb.ok(['rm', '-f', 'web']);
  });

  test('outbound: the container reaches a server on the host through the stack; hosts and resolv.conf are its own', async (t) => {
    const addr = hostAddress();
    if (!addr) return t.skip('this host has no non-loopback IPv4 address');
    const server = (await import('node:http')).createServer((_req, res) => res.end('from-the-host'));
    await new Promise<void>((r) => server.listen(0, addr, () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      // slirp4netns runs with host loopback disabled: the host is reached by its own address.
      const r = await sb.runAsync(['run', '--rm', '--name', 'out', 'busybox', 'sh', '-c', `wget -qO- http://${addr}:${port}/; echo; cat /etc/hosts; cat /etc/resolv.conf`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^from-the-host$/m);
      assert.match(r.stdout, /127\.0\.1\.1\s+\S+ out$/m);
      assert.match(r.stdout, /^nameserver 10\.0\.2\.3$/m, 'slirp4netns resolver first');
    } finally {
      server.close();
    }
  });

  test('--network none has only loopback; host shares the host network', () => {
    const none = sb.ok(['run', '--rm', '--network', 'none', 'busybox', 'cat', '/proc/net/dev']);
    assert.deepEqual(none.split('\n').slice(2).filter(Boolean).map((l) => l.trim().split(':')[0]), ['lo']);
    const host = sb.ok(['run', '--rm', '--network', 'host', 'busybox', 'cat', '/proc/net/dev']);
    assert.ok(host.split('\n').slice(2).filter(Boolean).length > 1);
  });
});
