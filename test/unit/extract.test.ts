/** Layer extraction against hand-made archives, hostile ones included. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { extractLayer } from '../../src/overlay/extract.js';
import { readTar } from '../../src/overlay/tar-reader.js';
import { lgetxattr } from '../../src/rootless/syscalls.js';
import { paxHeader, tarEntry, tarOf } from '../support/tar.js';

// On disk (not tmpfs), like a real store: user xattrs and sparse files behave as they would there.
const base = fs.mkdtempSync('/var/tmp/tsctr-extract-');
after(() => fs.rmSync(base, { recursive: true, force: true }));
let n = 0;

async function* chunks(buf: Buffer, size = 700): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function extract(tar: Buffer) {
  const dest = path.join(base, `l${n++}`);
  fs.mkdirSync(dest);
  const warnings: string[] = [];
  const stats = await extractLayer(chunks(tar), dest, { chown: false, onWarning: (w) => warnings.push(w) });
  return { dest, stats, warnings };
}

/** Everything outside `dest` but inside `base` that a hostile layer might have created. */
function outsideFiles(dest: string): string[] {
  return fs.readdirSync(base).filter((f) => !fs.existsSync(path.join(base, f)) || !dest.endsWith(f)).filter((f) => !/^l\d+$/.test(f));
}

test('files, dirs, symlinks, hard links, modes and long names', async () => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`;
  const tar = tarOf(
    tarEntry('etc/', '', { type: '5', mode: 0o755 }),
    tarEntry('etc/passwd', 'root:x:0:0::/root:/bin/sh\n'),
    tarEntry('usr/bin/su', 'ELF', { mode: 0o4755 }),
    tarEntry('bin', '', { type: '2', linkname: 'usr/bin' }),
    tarEntry('usr/bin/su-link', '', { type: '1', linkname: 'usr/bin/su' }),
    paxHeader({ path: long, 'SCHILY.xattr.user.comment': 'hello' }),
    tarEntry('placeholder', 'long'),
  );
  const { dest, stats } = await extract(tar);
  assert.equal(fs.readFileSync(path.join(dest, 'etc/passwd'), 'utf8'), 'root:x:0:0::/root:/bin/sh\n');
  assert.equal(fs.statSync(path.join(dest, 'usr/bin/su')).mode & 0o7777, 0o4755, 'setuid kept');
  assert.equal(fs.readlinkSync(path.join(dest, 'bin')), 'usr/bin');
  assert.equal(fs.statSync(path.join(dest, 'usr/bin/su-link')).ino, fs.statSync(path.join(dest, 'usr/bin/su')).ino);
  assert.equal(fs.readFileSync(path.join(dest, long), 'utf8'), 'long');
  assert.equal(lgetxattr(path.join(dest, long), 'user.comment')?.toString(), 'hello');
  assert.equal(stats.entries, 6);
});

test('whiteouts become 0/0 character devices and opaque directories get both xattrs', async () => {
  const { dest } = await extract(tarOf(tarEntry('etc/.wh.deleteme'), tarEntry('opq/.wh..wh..opq'), tarEntry('opq/c', 'c'), tarEntry('.wh..wh.plnk/123')));
  const wh = fs.lstatSync(path.join(dest, 'etc/deleteme'));
  assert.ok(wh.isCharacterDevice());
  assert.equal(wh.rdev, 0);
  assert.equal(fs.existsSync(path.join(dest, 'etc/.wh.deleteme')), false);
  assert.equal(lgetxattr(path.join(dest, 'opq'), 'user.overlay.opaque')?.toString(), 'y');
  assert.equal(lgetxattr(path.join(dest, 'opq'), 'user.fuseoverlayfs.opaque')?.toString(), 'y');
  assert.equal(fs.existsSync(path.join(dest, '.wh..wh.plnk')), false);
});

test('a layer cannot forge overlay metadata', async () => {
  const { dest, warnings } = await extract(tarOf(paxHeader({ 'SCHILY.xattr.user.overlay.redirect': '/etc' }), tarEntry('x', 'x')));
  assert.equal(lgetxattr(path.join(dest, 'x'), 'user.overlay.redirect'), undefined);
  assert.match(warnings.join('\n'), /ignoring overlay attributes/);
});

test('sparse regions stay holes', async () => {
  const body = Buffer.alloc(4 * 1024 * 1024);
  body.write('start', 0);
  body.write('end', body.length - 3);
  const { dest } = await extract(tarOf(tarEntry('sparse', body)));
  const st = fs.statSync(path.join(dest, 'sparse'));
  assert.equal(st.size, body.length);
  assert.ok(st.blocks * 512 < body.length / 4, `allocated ${st.blocks * 512} of ${body.length}`);
  assert.ok(fs.readFileSync(path.join(dest, 'sparse')).equals(body));
});

test('device nodes are skipped with a warning, fifos are made', async () => {
  const { dest, warnings } = await extract(tarOf(tarEntry('dev/sda', '', { type: '4', devmajor: 8 }), tarEntry('dev/null', '', { type: '3', devmajor: 1, devminor: 3 }), tarEntry('run/fifo', '', { type: '6' })));
  assert.equal(fs.existsSync(path.join(dest, 'dev/sda')), false);
  assert.equal(warnings.filter((w) => /skipping device node/.test(w)).length, 2);
  assert.ok(fs.lstatSync(path.join(dest, 'run/fifo')).isFIFO());
});

const hostile: [string, Buffer, RegExp][] = [
  ['.. climbing out', tarOf(tarEntry('../escaped', 'x')), /escapes the layer root/],
  ['.. in the middle', tarOf(tarEntry('a/../../escaped', 'x')), /escapes the layer root/],
  ['writing through its own symlink', tarOf(tarEntry('link', '', { type: '2', linkname: base }), tarEntry('link/escaped', 'x')), /goes through the symlink "link"/],
  ['a symlink to .. then a file through it', tarOf(tarEntry('up', '', { type: '2', linkname: '..' }), tarEntry('up/escaped', 'x')), /goes through the symlink "up"/],
  ['a hard link to a file outside', tarOf(tarEntry('h', '', { type: '1', linkname: '../../../etc/passwd' })), /escapes the layer root/],
  ['a hard link through a symlink', tarOf(tarEntry('s', '', { type: '2', linkname: '/etc' }), tarEntry('h', '', { type: '1', linkname: 's/passwd' })), /goes through the symlink "s"/],
  ['a hard link to something missing', tarOf(tarEntry('h', '', { type: '1', linkname: 'nothing' })), /does not contain/],
  ['a truncated archive', tarEntry('f', 'x'.repeat(2000)).subarray(0, 1000), /unexpected end of layer archive/],
  ['a bad checksum', (() => { const b = tarOf(tarEntry('f', 'x')); b[0] = 0x41; return b; })(), /checksum/],
];

for (const [what, tar, err] of hostile) {
  test(`refused: ${what}, and nothing is written outside the layer`, async () => {
    const before = fs.readdirSync(base).length;
    await assert.rejects(extract(tar), err);
    assert.equal(fs.readdirSync(base).length, before + 1, 'only the layer directory itself');
    assert.equal(fs.existsSync(path.join(base, 'escaped')), false);
    assert.deepEqual(outsideFiles(path.join(base, `l${n - 1}`)), []);
  });
}

test('an absolute path stays inside the layer', async () => {
  const { dest } = await extract(tarOf(tarEntry('/etc/abs', 'inside')));
  assert.equal(fs.readFileSync(path.join(dest, 'etc/abs'), 'utf8'), 'inside');
});

test('a file replaces a symlink of the same name instead of writing through it', async () => {
  const target = path.join(base, 'victim');
  fs.writeFileSync(target, 'original');
  const { dest } = await extract(tarOf(tarEntry('f', '', { type: '2', linkname: target }), tarEntry('f', 'replaced')));
  assert.equal(fs.readFileSync(target, 'utf8'), 'original');
  assert.equal(fs.lstatSync(path.join(dest, 'f')).isFile(), true);
  fs.rmSync(target);
});

test('the reader skips unread bodies and reads pax sizes and paths', async () => {
  const tar = tarOf(tarEntry('a', 'x'.repeat(3000)), paxHeader({ path: 'b/with a long pax name' }), tarEntry('ignored', 'yy'));
  const seen: string[] = [];
  for await (const e of readTar(chunks(tar, 100))) seen.push(`${e.path}:${e.size}`);
  assert.deepEqual(seen, ['a:3000', 'b/with a long pax name:2']);
});
