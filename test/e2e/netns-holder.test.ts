/**
 * The per-user network holder of the shim (`tsctr-shim netns-holder`, src/shim/holder.c): user
 * networks as bridges in the holder's network namespace, a veth per container, and the DNS
 * responder. Driven directly through the shim (hand-written specs, a busybox root), so it depends
 * on nothing of the Node side's networks.
 *
 * Upstream DNS is a stub server run by this test on 127.0.0.1 (the holder's forwarder sockets live
 * in the host's network namespace): it answers `outside.example` and NXDOMAIN for the rest, and
 * records what it was asked, so forwarding is testable offline.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dgram from 'node:dgram';
import { spawn, spawnSync } from 'node:child_process';
import { Sandbox, REPO } from '../support/harness.js';
import { sleep } from '../support/wait.js';
import { compileProbe } from '../support/probes.js';
import { alive } from '../support/processes.js';

const SHIM = process.env.TSCTR_SHIM || path.join(REPO, 'dist', 'tsctr-shim');

function subRange(kind: 'uid' | 'gid'): [number, number] {
  const name = os.userInfo().username;
  const uid = process.getuid?.() ?? 0;
  for (const line of fs.readFileSync(`/etc/sub${kind}`, 'utf8').split('\n')) {
    const [who, start, count] = line.split(':');
    if (who === name || who === String(uid)) return [Number(start), Number(count)];
  }
  throw new Error(`no /etc/sub${kind} entry for ${name}`);
}

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

/** Async, so that the DNS stub in this process can answer meanwhile. */
function runAsync(args: string[], timeout = 30_000): Promise<Out> {
  return new Promise((resolve) => {
    const child = spawn(SHIM, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? 128, stdout, stderr });
    });
  });
}

/** A DNS stub: `outside.example` A 192.0.2.7, NXDOMAIN otherwise. */
function dnsStub(): Promise<{ port: number; asked: string[]; close: () => void }> {
  const sock = dgram.createSocket('udp4');
  const asked: string[] = [];
  sock.on('message', (q, rinfo) => {
    try {
      answer(q, rinfo);
    } catch {
      /* a mangled query the holder passed on: no answer */
    }
  });
  const answer = (q: Buffer, rinfo: dgram.RemoteInfo) => {
    if (q.length < 12) return;
    let pos = 12;
    const labels: string[] = [];
    while (pos < q.length && q[pos] !== 0) {
      labels.push(q.subarray(pos + 1, pos + 1 + q[pos]!).toString('latin1'));
      pos += 1 + q[pos]!;
    }
    const qend = pos + 5;
    const name = labels.join('.').toLowerCase();
    const qtype = q.readUInt16BE(pos + 1);
    asked.push(name);
    const known = name === 'outside.example';
    const answer = known && qtype === 1;
    const out = Buffer.alloc(qend + (answer ? 16 : 0));
    q.copy(out, 0, 0, qend);
    out.writeUInt16BE(0x8180 | (known ? 0 : 3), 2);
    out.writeUInt16BE(1, 4);
    out.writeUInt16BE(answer ? 1 : 0, 6);
    out.writeUInt16BE(0, 8);
    out.writeUInt16BE(0, 10);
    if (answer) Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7]).copy(out, qend);
    sock.send(out, rinfo.port, rinfo.address);
  };
  return new Promise((resolve) =>
    sock.bind(0, '127.0.0.1', () => resolve({ port: sock.address().port, asked, close: () => sock.close() })),
  );
}

describe('network holder (shim)', () => {
  const sb = new Sandbox('holder');
  const dir = path.join(sb.dir, 'netns');
  const sock = path.join(dir, 'control.sock');
  const lower = path.join(sb.dir, 'lower');
  let holderPid = 0;
  let stub: Awaited<ReturnType<typeof dnsStub>>;
  const ctrs = new Map<string, { id: string; dir: string; pid: () => number }>();
  let seq = 0;
  let unusedPid = 0;
  let unusedStart = 0;

  const ctl = (...reqs: string[]) => spawnSync(SHIM, ['netns-ctl', sock, ...reqs], { encoding: 'utf8' });
  const list = () => ctl('list').stdout.replace(/\0$/, '').split('\n').slice(1);

  function startHolder(extra: string[] = []): { code: number; sync: string; stderr: string } {
    const [su, nu] = subRange('uid');
    const [sg, ng] = subRange('gid');
    const uid = process.getuid!();
    const gid = process.getgid!();
    const r = spawnSync(
      SHIM,
      ['netns-holder', dir, '--uidmap', `0 ${uid} 1`, '--uidmap', `1 ${su} ${nu}`, '--gidmap', `0 ${gid} 1`, '--gidmap', `1 ${sg} ${ng}`, ...extra],
      { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], encoding: 'utf8', timeout: 30_000 },
    );
    return { code: r.status ?? 128, sync: String(r.output[3] ?? ''), stderr: r.stderr };
  }

  /** A busybox container attached to NET at IP (prefix /24) answering to NAMES. */
  function startContainer(name: string, attach: { net: string; ip: string; names: string; dns?: string; ifname?: string }[], extra: string[] = []): Out {
    const id = (++seq).toString(16).padStart(8, '0').repeat(8);
    const d = path.join(sb.dir, 'c', name);
    for (const sub of ['root', 'upper', 'work']) fs.mkdirSync(path.join(d, sub), { recursive: true });
    const kv: string[] = [
      'id', name, 'rootfs', path.join(d, 'root'), 'lower', lower, 'upper', path.join(d, 'upper'), 'work', path.join(d, 'work'),
      'userns', `/proc/${holderPid}/ns/user`, 'hostname', name, 'cap', 'ALL',
      'pid-file', path.join(d, 'pid'), 'monitor-pid-file', path.join(d, 'monitor.pid'),
      'arg', '/bin/sleep', 'arg', '1000', ...extra,
    ];
    attach.forEach((a, i) =>
      kv.push('netattach', [sock, 'attach', id, '{pid}', a.net, `${a.ip}/24`, '', a.ifname ?? `eth${i}`, a.names, a.dns ?? `127.0.0.1:${stub.port}`].join('\t')),
    );
    fs.writeFileSync(path.join(d, 'spec'), kv.join('\0') + '\0');
    const r = spawnSync(SHIM, ['run', path.join(d, 'spec')], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], encoding: 'utf8', timeout: 30_000 });
    ctrs.set(name, { id, dir: d, pid: () => Number(fs.readFileSync(path.join(d, 'pid'), 'utf8').split(' ')[0]) });
    return { code: r.status ?? 128, stdout: String(r.output[3] ?? ''), stderr: r.stderr };
  }

  function inCtr(name: string, args: string[]): Promise<Out> {
    const c = ctrs.get(name)!;
    const spec = path.join(c.dir, `exec${++seq}`);
    fs.writeFileSync(spec, ['pid', String(c.pid()), 'cap', 'ALL', ...args.flatMap((a) => ['arg', a])].join('\0') + '\0');
    return runAsync(['exec', spec]);
  }

  /** busybox nslookup NAME through the holder's responder at SERVER: the addresses, or null. */
  async function lookup(ctr: string, name: string, server: string, sorted = true): Promise<string[] | null> {
    const r = await inCtr(ctr, ['nslookup', '-type=a', name, server]);
    if (r.code !== 0) return null;
    const answer = r.stdout.split(/\n\s*\n/).slice(1).join('\n');
    const found = [...answer.matchAll(/^Address: ([0-9.]+)$/gm)].map((m) => m[1]!);
    if (sorted) found.sort();
    return found.length ? found : null;
  }

  before(async () => {
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.mkdirSync(path.join(lower, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(lower, 'etc'));
    fs.mkdirSync(path.join(lower, 'tmp'));
    fs.copyFileSync('/bin/busybox', path.join(lower, 'bin', 'busybox'));
    fs.chmodSync(path.join(lower, 'bin', 'busybox'), 0o755);
    const applets = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter((a) => a && a !== 'busybox');
    for (const a of applets) fs.symlinkSync('busybox', path.join(lower, 'bin', a));
    compileProbe('udp-send', path.join(lower, 'bin'));
    stub = await dnsStub();
  });

  after(() => {
    for (const c of ctrs.values()) {
      for (const f of ['monitor.pid', 'pid']) {
        try {
          process.kill(Number(fs.readFileSync(path.join(c.dir, f), 'utf8').split(' ')[0]), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    for (const pid of [holderPid, unusedPid]) if (pid && alive(pid)) process.kill(pid, 'SIGTERM');
    stub?.close();
    sb.cleanup();
  });

  test('starts, reports ready on fd 3, writes its pid file, listens', () => {
    const r = startHolder();
    assert.equal(r.code, 0, r.stderr);
    const m = /^ok (\d+)\n$/.exec(r.sync);
    assert.ok(m, r.sync);
    holderPid = Number(m[1]);
    const [pid, start] = fs.readFileSync(path.join(dir, 'holder.pid'), 'utf8').trim().split(' ');
    assert.equal(Number(pid), holderPid);
    assert.ok(Number(start) > 0);
    assert.equal(fs.statSync(sock).mode & 0o777, 0o600);
    // sealed and not dumpable like the other host-side helpers
    assert.match(fs.readlinkSync(`/proc/${holderPid}/exe`), /^\/memfd:tsctr-shim/);
    assert.equal(fs.readlinkSync(`/proc/${holderPid}/cwd`), '/');
    // no stray descriptors: stdio, its lock, its own netns, sockets, the signalfd
    const fds = fs.readdirSync(`/proc/${holderPid}/fd`).map((fd) => fs.readlinkSync(`/proc/${holderPid}/fd/${fd}`));
    for (const f of fds) assert.match(f, /^(\/dev\/null|.*\/netns\/holder\.(log|lock)|net:\[\d+\]|socket:\[\d+\]|anon_inode:\[signalfd\])$/, fds.join(' '));
    // a directory others may write to is refused
    const open = path.join(sb.dir, 'open');
    fs.mkdirSync(open, { mode: 0o777 });
    fs.chmodSync(open, 0o777);
    const r2 = spawnSync(SHIM, ['netns-holder', open, '--uidmap', `0 ${process.getuid!()} 1`], { encoding: 'utf8' });
    assert.equal(r2.status, 125);
    assert.match(r2.stderr, /^Error: .*open: not a directory of ours that only we may write to\n$/);
    assert.deepEqual(fs.readdirSync(open), []);
    // a second one for the same directory is refused, and the first stays
    const again = startHolder();
    assert.equal(again.code, 125);
    assert.match(again.sync, /^error .*another holder is running/);
    assert.ok(alive(holderPid));
    // one that nobody ever connects to goes by itself (checked in the last test)
    const dir2 = path.join(sb.dir, 'netns2');
    fs.mkdirSync(dir2, { mode: 0o700 });
    const u = spawnSync(SHIM, ['netns-holder', dir2, '--uidmap', `0 ${process.getuid!()} 1`, '--gidmap', `0 ${process.getgid!()} 1`], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    unusedPid = Number(/^ok (\d+)\n$/.exec(String(u.output[3]))?.[1]);
    unusedStart = Date.now();
    assert.ok(alive(unusedPid), String(u.output[3]) + u.stderr);
    const rss = Number(spawnSync('ps', ['-o', 'rss=', '-p', String(holderPid)], { encoding: 'utf8' }).stdout.trim());
    console.log(`# holder RSS: ${rss} kB`);
  });

  test('creates networks (idempotently) and refuses bad requests with one error line', () => {
    const r = ctl('network\tappnet\ttb-app\t10.89.1.0/24\t10.89.1.1\t0', 'network\tothernet\ttb-oth\t10.89.2.0/24\t10.89.2.1\t0',
      'network\tintnet\ttb-int\t10.89.3.0/24\t10.89.3.1\t1', 'network\tappnet\ttb-app\t10.89.1.0/24\t10.89.1.1\t0');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ok\0ok\0ok\0ok\0');
    assert.deepEqual(ctl('nets').stdout.replace(/\0$/, '').split('\n').slice(1).sort(), [
      'appnet tb-app 10.89.1.0/24 10.89.1.1 0',
      'intnet tb-int 10.89.3.0/24 10.89.3.1 1',
      'othernet tb-oth 10.89.2.0/24 10.89.2.1 0',
    ]);
    const bad: [string, RegExp][] = [
      ['network\tx\ttb-x\t10.89.4.0/33\t10.89.4.1\t0', /bad subnet/],
      ['network\tx\ttb-x\t10.89.4.1/24\t10.89.4.1\t0', /bad subnet/],
      ['network\tx\ttb-x\t10.89.4.0/24\t10.89.5.1\t0', /bad gateway/],
      ['network\tx\ttb-way-too-long-name\t10.89.4.0/24\t10.89.4.1\t0', /bad bridge name/],
      ['network\tx\ttb-x\t10.89.1.128/25\t10.89.1.129\t0', /overlaps network appnet/],
      ['network\tappnet\ttb-app\t10.89.1.0/24\t10.89.1.254\t0', /exists with other settings/],
      ['network\t../x\ttb-x\t10.89.4.0/24\t10.89.4.1\t0', /bad network name/],
      ['attach\tnothex\t1\tappnet\t10.89.1.9/24\t\teth0\t\t', /bad container id/],
      [`attach\t${'a'.repeat(64)}\t1x\tappnet\t10.89.1.9/24\t\teth0\t\t`, /bad pid/],
      [`attach\t${'a'.repeat(64)}\t${process.pid}\tappnet\t10.89.9.9/24\t\teth0\t\t`, /bad address/],
      [`attach\t${'a'.repeat(64)}\t${process.pid}\tappnet\t10.89.1.1/24\t\teth0\t\t`, /bad address/],
      [`attach\t${'a'.repeat(64)}\t${process.pid}\tappnet\t10.89.1.9/24\t01:00:00:00:00:01\teth0\t\t`, /bad MAC/],
      [`attach\t${'a'.repeat(64)}\t${process.pid}\tappnet\t10.89.1.9/24\t\teth0\tb,,c\t`, /bad names/],
      [`attach\t${'a'.repeat(64)}\t${process.pid}\tappnet\t10.89.1.9/24\t\teth0\tb c\t`, /bad names/],
      [`attach\t${'a'.repeat(64)}\t${process.pid}\tappnet\t10.89.1.9/24\t\teth0\tb,\t`, /bad names/],
      [`attach\t${'a'.repeat(64)}\t${process.pid}\tappnet\t10.89.1.9/24\t\teth0\tb\t1.2.3.4:99999`, /bad DNS server/],
      [`attach\t${'a'.repeat(64)}\t${process.pid}\tappnet\t10.89.1.9/24\t\teth0\tb\t`, /not in a network namespace of its own|permission denied|operation not permitted/],
      [`attach\t${'a'.repeat(64)}\t${process.pid}\tnonet\t10.89.1.9/24\t\teth0\tb\t`, /no such network/],
      ['frobnicate', /unknown request/],
    ];
    for (const [req, want] of bad) {
      const b = ctl(req);
      assert.equal(b.status, 125, req);
      assert.match(b.stderr, /^Error: [^\n]+\n$/, req);
      assert.match(b.stderr, want, req);
    }
    assert.deepEqual(list(), []);
  });

  test('containers on a network reach each other by address and resolve each other by name and alias', async () => {
    for (const [name, att] of [
      ['a', [{ net: 'appnet', ip: '10.89.1.2', names: 'a,alpha,svc' }]],
      ['b', [{ net: 'appnet', ip: '10.89.1.3', names: 'b,bee,svc' }]],
      ['c', [{ net: 'othernet', ip: '10.89.2.2', names: 'c' }]],
      ['d', [{ net: 'intnet', ip: '10.89.3.2', names: 'd' }]],
      ['e', [{ net: 'othernet', ip: '10.89.2.3', names: 'e' }, { net: 'appnet', ip: '10.89.1.4', names: 'e' }]],
    ] as const) {
      const r = startContainer(name, [...att]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /^ok \d+\n$/);
    }
    const l = list();
    assert.equal(l.length, 6);
    assert.ok(l.some((x) => x.startsWith(`${ctrs.get('b')!.id} appnet 10.89.1.3 b,bee,svc tv`)), l.join('\n'));
    // the monitor's connection to the holder is not the container's
    assert.equal((await inCtr('a', ['ls', '/proc/1/fd'])).stdout, '0\n1\n2\n');
    const ip = await inCtr('a', ['ip', 'addr', 'show', 'eth0']);
    assert.match(ip.stdout, /inet 10\.89\.1\.2\/24/);
    const ping = await inCtr('a', ['ping', '-c1', '-W3', '10.89.1.3']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.deepEqual(await lookup('a', 'b', '10.89.1.1'), ['10.89.1.3']);
    assert.deepEqual(await lookup('a', 'BEE.', '10.89.1.1'), ['10.89.1.3']);
    assert.deepEqual(await lookup('a', 'svc', '10.89.1.1'), ['10.89.1.2', '10.89.1.3']);
    // replicas behind one alias: the order rotates from query to query
    const firsts = new Set<string>();
    for (let i = 0; i < 4; i++) firsts.add((await lookup('a', 'svc', '10.89.1.1', false))![0]!);
    assert.equal(firsts.size, 2);
    // reverse lookups of a container's address: its first name
    const ptr = await inCtr('a', ['nslookup', '10.89.1.3', '10.89.1.1']);
    assert.match(ptr.stdout, /^3\.1\.89\.10\.in-addr\.arpa\s+name = b\.?$/m, ptr.stdout + ptr.stderr);
    // e is on both networks: through appnet it is found at its appnet address
    assert.deepEqual(await lookup('a', 'e', '10.89.1.1'), ['10.89.1.4']);
  });

  test('networks are isolated: other networks neither reach nor resolve', async () => {
    if (Date.now() - unusedStart < 8000) assert.ok(alive(unusedPid), 'the unused holder left early');
    else console.log('# unused holder: too late to check it is still there');
    const ping = await inCtr('c', ['ping', '-c1', '-W2', '10.89.1.3']);
    assert.notEqual(ping.code, 0);
    // not even with a route through the holder: its netns forwards nothing, whatever the host does
    const route = await inCtr('c', ['ip', 'route', 'add', '10.89.1.0/24', 'via', '10.89.2.1']);
    assert.equal(route.code, 0, route.stderr);
    const routed = await inCtr('c', ['ping', '-c1', '-W2', '10.89.1.3']);
    assert.notEqual(routed.code, 0, routed.stdout);
    const fwd = spawnSync('nsenter', ['-t', String(holderPid), '-U', '-n', 'cat', '/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' });
    assert.equal(fwd.stdout, '0\n', fwd.stderr);
    assert.equal(await lookup('c', 'b', '10.89.2.1'), null);
    assert.ok(stub.asked.includes('b'), 'an unknown name is forwarded upstream');
    const ptr = await inCtr('c', ['nslookup', '10.89.1.3', '10.89.2.1']);
    assert.doesNotMatch(ptr.stdout, /name = /);
    assert.ok(stub.asked.includes('3.1.89.10.in-addr.arpa'), 'not ours to answer: forwarded');
    // e, on othernet and appnet, resolves the names of both (docker's rule)
    assert.deepEqual(await lookup('e', 'c', '10.89.2.1'), ['10.89.2.2']);
    assert.deepEqual(await lookup('e', 'bee', '10.89.2.1'), ['10.89.1.3']);
  });

  test('other names are forwarded upstream, except for a container only on internal networks', async () => {
    assert.deepEqual(await lookup('a', 'outside.example', '10.89.1.1'), ['192.0.2.7']);
    const before = stub.asked.length;
    assert.equal(await lookup('d', 'outside.example', '10.89.3.1'), null);
    assert.equal(stub.asked.length, before, 'nothing left the internal network');
    assert.deepEqual(await lookup('d', 'd', '10.89.3.1'), ['10.89.3.2']);
  });

  test('malformed DNS packets do not crash the responder', async () => {
    const hdr = (id: string, flags: string, qd: string) => `${id}${flags}${qd}000000000000`;
    const longName = ('3f' + '61'.repeat(63)).repeat(5);
    const packets = [
      '01', // shorter than a header
      hdr('0001', '0100', '0001') + '3f616263', // a label past the end
      hdr('0002', '0100', '0001') + 'c00c00010001', // compression in the question
      hdr('0003', '8180', '0001') + '0162000001000100', // a response: never answered (no reflection)
      hdr('0004', '0100', 'ffff') + '016200' + '00010001', // 65535 questions
      hdr('0005', '0100', '0001') + '0162000001', // no class
      hdr('0006', '0100', '0001') + longName + '0000010001', // a name over 255 bytes
      hdr('0008', '1100', '0000'), // opcode STATUS
      hdr('0007', '0100', '0001') + '0162000001' + '0001', // well-formed: b, A, IN
      hdr('0009', '0100', '0001') + '016200001c0001', // b, AAAA: known, but no such record
    ];
    const r = await inCtr('a', ['/bin/udp-send', '10.89.1.1', '53', ...packets]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(alive(holderPid));
    const got = r.stdout.trim().split('\n').sort();
    assert.deepEqual(got, [
      '000181810000000000000000',
      '000281810000000000000000',
      '000481810000000000000000',
      '000581810000000000000000',
      '000681810000000000000000',
      // id 7, QR AA RD RA; the question; b's address, name by pointer, TTL 0
      '000785800001000100000000' + '016200' + '00010001' + 'c00c' + '00010001' + '00000000' + '0004' + '0a590103',
      '000891840000000000000000',
      '000985800001000000000000' + '016200' + '001c0001',
    ]);
    assert.deepEqual(await lookup('a', 'b', '10.89.1.1'), ['10.89.1.3']);
  });

  test('random and mutated queries do not crash the responder', async () => {
    // A seeded generator: a failure can be replayed.
    let seed = 20261204;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const hex = (bytes: number[]) => Buffer.from(bytes).toString('hex');
    const valid = [...Buffer.from('000a01000001000000000001036273760000010001', 'hex')]; // svc, A, IN
    const packets: string[] = [];
    for (let i = 0; i < 400; i++) {
      if (i % 2) {
        const m = [...valid];
        for (let k = 0; k < 1 + rnd(4); k++) m[rnd(m.length)] = rnd(256);
        m[2] = m[2]! & 0x7f; // a query, or it is dropped before the parser
        packets.push(hex(m.slice(0, 1 + rnd(m.length))));
      } else {
        const len = 12 + rnd(80);
        const m = Array.from({ length: len }, () => rnd(256));
        m[2] = m[2]! & 0x07;
        m[4] = 0;
        m[5] = 1;
        packets.push(hex(m));
      }
    }
    const r = await inCtr('a', ['/bin/udp-send', '10.89.1.1', '53', ...packets]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(alive(holderPid));
    assert.deepEqual(await lookup('a', 'svc', '10.89.1.1'), ['10.89.1.2', '10.89.1.3']);
  });

  test('a start fails (125) with the holder message when the attachment is refused', () => {
    const r = startContainer('bad', [{ net: 'nonet', ip: '10.89.1.9', names: 'x' }]);
    assert.equal(r.code, 125);
    assert.match(r.stdout, /^error 125 no such network: nonet\n$/);
    assert.ok(!list().some((x) => x.startsWith(ctrs.get('bad')!.id)));
  });

  test('a dead container loses its veth and its names', async () => {
    const b = ctrs.get('b')!;
    const hostif = list().find((x) => x.startsWith(b.id))!.split(' ')[4];
    process.kill(b.pid(), 'SIGKILL');
    for (let i = 0; i < 50 && list().some((x) => x.startsWith(b.id)); i++) await sleep(100);
    assert.ok(!list().some((x) => x.startsWith(b.id)), list().join('\n'));
    assert.ok(!list().some((x) => x.endsWith(` ${hostif}`)));
    assert.equal(await lookup('a', 'bee', '10.89.1.1'), null);
    assert.deepEqual(await lookup('a', 'svc', '10.89.1.1'), ['10.89.1.2']);
    // its address is free for another container
    const r = startContainer('b2', [{ net: 'appnet', ip: '10.89.1.3', names: 'b2' }]);
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(await lookup('a', 'b2', '10.89.1.1'), ['10.89.1.3']);
  });

  test('a restarted container is attached again', async () => {
    const r = startContainer('r', [{ net: 'appnet', ip: '10.89.1.20', names: 'r' }], ['restart', 'always']);
    assert.equal(r.code, 0, r.stdout);
    const c = ctrs.get('r')!;
    const first = c.pid();
    process.kill(first, 'SIGKILL');
    for (let i = 0; i < 50 && (!fs.existsSync(path.join(c.dir, 'pid')) || c.pid() === first); i++) await sleep(100);
    assert.notEqual(c.pid(), first);
    for (let i = 0; i < 30 && !list().some((x) => x.startsWith(`${c.id} appnet 10.89.1.20`)); i++) await sleep(100);
    assert.equal(list().filter((x) => x.startsWith(c.id)).length, 1, list().join('\n'));
    const ping = await inCtr('r', ['ping', '-c1', '-W3', '10.89.1.2']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  });

  test("a monitor's connection closing (the monitor SIGKILLed) detaches what it attached", async () => {
    const c = ctrs.get('r')!;
    process.kill(Number(fs.readFileSync(path.join(c.dir, 'monitor.pid'), 'utf8').split(' ')[0]), 'SIGKILL');
    for (let i = 0; i < 30 && list().some((x) => x.startsWith(c.id)); i++) await sleep(100);
    assert.ok(!list().some((x) => x.startsWith(c.id)), list().join('\n'));
    assert.ok(alive(c.pid()), 'the container itself runs on');
    process.kill(c.pid(), 'SIGKILL');
  });

  test('netrm refuses a network in use, removes an empty one', () => {
    assert.match(ctl('netrm\tappnet').stderr, /^Error: network appnet has \d+ attached containers?\n$/);
    assert.equal(ctl('network\tspare\ttb-spare\t10.89.9.0/24\t10.89.9.1\t0').status, 0);
    assert.equal(ctl('netrm\tspare').stdout, 'ok\0');
    assert.ok(!ctl('nets').stdout.includes('spare'));
  });

  test('the holder exits a few seconds after the last container and client are gone', async () => {
    for (const c of ctrs.values()) {
      try {
        process.kill(c.pid(), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (let i = 0; i < 100 && alive(holderPid); i++) await sleep(100);
    assert.ok(!alive(holderPid), 'holder still running');
    assert.ok(!fs.existsSync(sock));
    assert.ok(!fs.existsSync(path.join(dir, 'holder.pid')));
    assert.notEqual(ctl('list').status, 0);
  });

  test('a new holder joins the user namespace of containers that survived the old one (--join-userns)', async () => {
    const r = startHolder();
    assert.equal(r.code, 0, r.sync);
    holderPid = Number(/^ok (\d+)/.exec(r.sync)![1]);
    assert.equal(ctl('network\tappnet\ttb-app\t10.89.1.0/24\t10.89.1.1\t0').status, 0);
    assert.equal(startContainer('x', [{ net: 'appnet', ip: '10.89.1.50', names: 'x' }]).code, 0);
    const x = ctrs.get('x')!;
    process.kill(holderPid, 'SIGKILL'); // its netns, bridges and veths go with it; x runs on
    for (let i = 0; i < 50 && alive(holderPid); i++) await sleep(100);
    assert.ok(alive(x.pid()));
    const j = startHolder(['--join-userns', `/proc/${x.pid()}/ns/user`]);
    assert.equal(j.code, 0, j.sync + j.stderr);
    holderPid = Number(/^ok (\d+)/.exec(j.sync)![1]);
    assert.equal(fs.readlinkSync(`/proc/${holderPid}/ns/user`), fs.readlinkSync(`/proc/${x.pid()}/ns/user`));
    const again = ctl('network\tappnet\ttb-app\t10.89.1.0/24\t10.89.1.1\t0', `attach\t${x.id}\t${x.pid()}\tappnet\t10.89.1.50/24\t\teth1\tx\t`);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(startContainer('y', [{ net: 'appnet', ip: '10.89.1.51', names: 'y' }]).code, 0);
    assert.deepEqual(await lookup('y', 'x', '10.89.1.1'), ['10.89.1.50']);
    const ping = await inCtr('y', ['ping', '-c1', '-W3', '10.89.1.50']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    process.kill(ctrs.get('x')!.pid(), 'SIGKILL');
    for (let i = 0; i < 50 && list().length > 1; i++) await sleep(100);
    assert.equal(list().length, 1);
    // Quiet for longer than the grace period; then the last client goes (y's monitor, which takes
    // its attachment along, in one event): the 3 s count from then.
    await sleep(3500);
    process.kill(Number(fs.readFileSync(path.join(ctrs.get('y')!.dir, 'monitor.pid'), 'utf8').split(' ')[0]), 'SIGKILL');
    const t0 = Date.now();
    for (let i = 0; i < 100 && alive(holderPid); i++) await sleep(50);
    assert.ok(!alive(holderPid), 'holder still running');
    assert.ok(Date.now() - t0 >= 2500, `holder exited ${Date.now() - t0} ms after the last client`);
    process.kill(ctrs.get('y')!.pid(), 'SIGKILL');
  });

  test('a holder nobody connects to exits about 10 s after its start', async () => {
    while (alive(unusedPid) && Date.now() - unusedStart < 13_000) await sleep(100);
    assert.ok(!alive(unusedPid), 'still running');
    assert.deepEqual(fs.readdirSync(path.join(sb.dir, 'netns2')).sort(), ['holder.lock', 'holder.log']);
  });
});
