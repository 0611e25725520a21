/**
 * tsctr-shim userns-serve spoken to directly, with hostile requests: paths that climb out, go
 * through a symlink, or lie about their length. Runs as root here (the unit tests do), where the
 * helper writes its id maps itself; the end-to-end tests run it as an unprivileged user.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const SHIM = path.join(REPO, 'dist', 'tsctr-shim');
const ROOT = 1, OWN = 2, STAT = 3, READ = 7;
const EINVAL = 22, ELOOP = 40;
const asRoot = process.getuid?.() === 0;

let dir: string;
let child: ChildProcess;
let sock: Duplex;
let pending = Buffer.alloc(0);
let waiting: (() => void) | undefined;

function reply(): Promise<{ errno: number; index: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (pending.length >= 4 && pending.length >= 4 + pending.readUInt32LE(0)) {
        const len = pending.readUInt32LE(0);
        const msg = pending.subarray(4, 4 + len);
        pending = pending.subarray(4 + len);
        waiting = undefined;
        resolve({ errno: msg.readInt32LE(0), index: msg.readUInt32LE(4), body: Buffer.from(msg.subarray(8)) });
      }
    };
    waiting = check;
    if (child.exitCode !== null) reject(new Error(`helper exited ${child.exitCode}`));
    check();
  });
}

function send(op: number, body: Buffer): Promise<{ errno: number; index: number; body: Buffer }> {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(1 + body.length, 0);
  head[4] = op;
  sock.write(Buffer.concat([head, body]));
  return reply();
}

const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
const rel = (p: string) => {
  const b = Buffer.from(p);
  const h = Buffer.alloc(2);
  h.writeUInt16LE(b.length);
  return Buffer.concat([h, b]);
};
const own = (p: string, uid: number, gid: number) => Buffer.concat([rel(p), u32(uid), u32(gid), u32(0xffffffff), u32(0)]);

before(async () => {
  if (!asRoot) return;
  const make = spawnSync('make', ['-C', path.join(REPO, 'src/shim')], { encoding: 'utf8' });
  assert.equal(make.status, 0, make.stderr);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'userns-serve-'));
  fs.mkdirSync(path.join(dir, 'root', 'sub'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'outside'));
  fs.writeFileSync(path.join(dir, 'outside', 'file'), 'host file\n');
  fs.writeFileSync(path.join(dir, 'root', 'sub', 'data'), 'layer data\n', { mode: 0o600 });
  fs.symlinkSync('../outside', path.join(dir, 'root', 'link'));
  // fd 3 is a socket (Node's 'pipe' stdio is a socketpair).
  child = spawn(SHIM, ['userns-serve', '0 0 1,1 200000 65536', '0 0 1,1 200000 65536'], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
  sock = child.stdio[3] as Duplex;
  sock.on('data', (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    waiting?.();
  });
  const ready = await reply();
  assert.equal(ready.errno, 0, ready.body.toString());
  const r = await send(ROOT, Buffer.from(path.join(dir, 'root')));
  assert.equal(r.errno, 0);
  assert.equal(r.body.readUInt32LE(0), 0);
});

after(() => {
  if (!asRoot) return;
  child.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('chown as root of the namespace: a mapped id lands on the host id, an unmapped one is refused', { skip: !asRoot && 'needs root', timeout: 10_000 }, async () => {
  const r = await send(OWN, Buffer.concat([u32(0), own('sub/data', 5, 6), own('sub', 7, 7)]));
  assert.equal(r.errno, 0);
  assert.equal(fs.statSync(path.join(dir, 'root', 'sub', 'data')).uid, 200004);
  assert.equal(fs.statSync(path.join(dir, 'root', 'sub')).gid, 200006);
  const bad = await send(OWN, Buffer.concat([u32(0), own('sub/data', 5, 5), own('sub/data', 70000, 0)]));
  assert.deepEqual([bad.errno, bad.index], [EINVAL, 1], 'the second record fails, and says so');
});

test('no path climbs out or goes through a symlink', { skip: !asRoot && 'needs root', timeout: 10_000 }, async () => {
  for (const p of ['../outside/file', 'sub/../../outside/file', './sub/data', 'sub//data', '/sub/data', 'sub/']) {
    const r = await send(STAT, Buffer.concat([u32(0), rel(p)]));
    assert.equal(r.errno, EINVAL, p);
  }
  const through = await send(OWN, Buffer.concat([u32(0), own('link/file', 9, 9)]));
  assert.equal(through.errno, ELOOP);
  const read = await send(READ, Buffer.concat([u32(0), rel('link/file'), Buffer.alloc(8), u32(100)]));
  assert.equal(read.errno, ELOOP);
  // The symlink itself may be chowned: its target stays as it was.
  assert.equal((await send(OWN, Buffer.concat([u32(0), own('link', 9, 9)]))).errno, 0);
  assert.equal(fs.lstatSync(path.join(dir, 'root', 'link')).uid, 200008);
  assert.equal(fs.statSync(path.join(dir, 'outside', 'file')).uid, 0);
  assert.equal(fs.statSync(path.join(dir, 'outside')).uid, 0);
  // A file the helper may read is read from where it is (not through the link).
  const ok = await send(READ, Buffer.concat([u32(0), rel('sub/data'), Buffer.alloc(8), u32(100)]));
  assert.equal(ok.body.toString(), 'layer data\n');
});

test('records that lie about their length are refused, and the helper goes on', { skip: !asRoot && 'needs root', timeout: 10_000 }, async () => {
  const short = Buffer.concat([u32(0), own('sub/data', 1, 1)]).subarray(0, 12);
  assert.equal((await send(OWN, short)).errno, EINVAL);
  const long = Buffer.concat([u32(0), rel('sub/data'), u32(1)]);
  long.writeUInt16LE(60000, 4);
  assert.equal((await send(STAT, long)).errno, EINVAL);
  assert.equal((await send(STAT, Buffer.concat([u32(7), rel('sub')]))).errno, EINVAL, 'an unknown root');
  assert.equal((await send(99, Buffer.alloc(0))).errno, 38 /* ENOSYS */);
  assert.equal((await send(STAT, Buffer.concat([u32(0), rel('sub')]))).errno, 0);
});

test('a request over the size limit ends the helper (125), it does not read past it', { skip: !asRoot && 'needs root', timeout: 10_000 }, async () => {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const head = Buffer.alloc(4);
  head.writeUInt32LE(64 << 20);
  sock.write(head);
  assert.equal(await exited, 125);
});
