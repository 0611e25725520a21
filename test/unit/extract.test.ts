import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';
import { extractLayer, type ExtractOptions } from '../../src/overlay/extract.js';
import { lgetxattr, lsetxattr } from '../../src/rootless/syscalls.js';
import { LayerError } from '../../src/errors.js';
import { chunked, entry, header, padTo512, paxEntry, tarOf, type RawHeader } from '../support/tar.js';

const IS_ROOT = process.getuid!() === 0;
/** chown only works as root (or root in a user namespace); CI runs these as a plain user. */
const CHOWN = IS_ROOT;
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const raw = entry;
const pax = (records: [string, string | Buffer][]) => paxEntry(records);
const file = (name: string, body: Buffer | string = '', h: Partial<RawHeader> = {}) => raw({ name, ...h }, body);
const dir = (name: string, h: Partial<RawHeader> = {}) => raw({ name, type: '5', ...h });
const symlink = (name: string, target: string) => raw({ name, type: '2', linkname: target, mode: 0o777 });
const hardlink = (name: string, target: string) => raw({ name, type: '1', linkname: target });
const layer = tarOf;
/** Enough small files first that the extractor hands the rest to its worker thread. */
const PADDING = 80;
const padding = () => Array.from({ length: PADDING }, (_, i) => file(`pad/${i}`, `p${i}`.repeat(i), { mtime: i * 1000 }));


// ---- a scratch area: under /var/tmp, where user xattrs work (tmpfs /tmp may lack them) ----

let base: string;
let xattrsWork = false;

before(() => {
  base = fs.mkdtempSync('/var/tmp/tsctr-extract-test-');
  const probe = path.join(base, 'probe');
  fs.writeFileSync(probe, '');
  try {
    lsetxattr(probe, 'user.probe', Buffer.from('1'));
    xattrsWork = lgetxattr(probe, 'user.probe')?.toString() === '1';
  } catch {
    xattrsWork = false;
  }
  fs.rmSync(probe);
});

after(() => {
  // Read-only directories from layers would stop a plain user's rm.
  spawnSync('chmod', ['-R', 'u+rwX', base]);
  fs.rmSync(base, { recursive: true, force: true });
});

interface Scene {
  /** The test's own directory: dest, and "outside" things next to it. */
  root: string;
  dest: string;
  outside: string;
  warnings: string[];
  extract(buf: Buffer, opts?: Partial<ExtractOptions>): ReturnType<typeof extractLayer>;
  /** Everything under root but outside dest: path, type, mode, size, mtime, link count. */
  snapshotOutside(): string[];
}

function scene(): Scene {
  const root = fs.mkdtempSync(path.join(base, 't-'));
  const dest = path.join(root, 'layers', 'dest');
  const outside = path.join(root, 'outside');
  fs.mkdirSync(dest, { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret'), 'top secret');
  fs.utimesSync(outside, 1000, 1000);
  const warnings: string[] = [];
  return {
    root,
    dest,
    outside,
    warnings,
    extract: (buf, opts = {}) => extractLayer(chunked(buf), dest, { chown: CHOWN, onWarning: (m) => warnings.push(m), ...opts }),
    snapshotOutside() {
      const out: string[] = [];
      const walk = (p: string) => {
        if (p === dest) return;
        const st = fs.lstatSync(p);
        const x = lgetxattrs(p);
        out.push(`${path.relative(root, p)} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${st.nlink} ${x}`);
        if (st.isDirectory()) for (const n of fs.readdirSync(p).sort()) walk(path.join(p, n));
      };
      walk(root);
      return out;
    },
  };
}

function lgetxattrs(p: string): string {
  return ['user.overlay.opaque', 'user.fuseoverlayfs.opaque', 'user.pwned'].map((n) => lgetxattr(p, n)?.toString() ?? '-').join(',');
}

async function rejectsLayer(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof LayerError, `expected a LayerError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

/** Runs a malicious layer: it must be refused (when `re` is given) and must leave the outside untouched. */
async function malicious(entries: Buffer[], re: RegExp | undefined, check?: (s: Scene) => void): Promise<Scene> {
  const s = scene();
  // The obvious targets of an escape, next to dest and above it.
  const before = s.snapshotOutside();
  if (re) await rejectsLayer(s.extract(layer(...entries)), re);
  else await s.extract(layer(...entries));
  assert.deepEqual(s.snapshotOutside(), before, 'something outside dest changed');
  check?.(s);
  return s;
}

const exists = (p: string) => {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
};

// ---- tests ----

describe('extractLayer', () => {
  test('a layer written by node-tar: files, dirs, symlinks, hard links, modes, mtimes', async () => {
    const s = scene();
    const src = path.join(s.root, 'src');
    fs.mkdirSync(path.join(src, 'etc/sub'), { recursive: true });
    fs.writeFileSync(path.join(src, 'etc/sub/conf'), 'conf\n');
    fs.writeFileSync(path.join(src, 'big'), crypto.randomBytes(300_000));
    fs.linkSync(path.join(src, 'big'), path.join(src, 'big-link'));
    fs.symlinkSync('../big', path.join(src, 'etc/to-big'));
    fs.symlinkSync('/absolute/dangling', path.join(src, 'dangling'));
    const long = path.join('l'.repeat(120), 'm'.repeat(120));
    fs.mkdirSync(path.join(src, path.dirname(long)));
    fs.writeFileSync(path.join(src, long), 'long');
    fs.chmodSync(path.join(src, 'etc/sub/conf'), 0o640);
    fs.utimesSync(path.join(src, 'etc/sub/conf'), 1_500_000_000, 1_500_000_000);
    fs.utimesSync(path.join(src, 'etc/sub'), 1_400_000_000, 1_400_000_000);
    const tarFile = path.join(s.root, 'layer.tar');
    tar.c({ cwd: src, file: tarFile, sync: true }, ['.']); // not portable: that zeroes directory mtimes

    const stats = await extractLayer(fs.createReadStream(tarFile), s.dest, { chown: CHOWN, onWarning: (m) => s.warnings.push(m) });
    const d = s.dest;
    assert.equal(fs.readFileSync(path.join(d, 'etc/sub/conf'), 'utf8'), 'conf\n');
    assert.deepEqual(fs.readFileSync(path.join(d, 'big')), fs.readFileSync(path.join(src, 'big')));
    assert.equal(fs.statSync(path.join(d, 'big')).ino, fs.statSync(path.join(d, 'big-link')).ino, 'hard link');
    assert.equal(fs.readlinkSync(path.join(d, 'etc/to-big')), '../big');
    assert.equal(fs.readlinkSync(path.join(d, 'dangling')), '/absolute/dangling');
    assert.equal(fs.readFileSync(path.join(d, long), 'utf8'), 'long');
    const conf = fs.statSync(path.join(d, 'etc/sub/conf'));
    assert.equal(conf.mode & 0o7777, 0o640);
    assert.equal(conf.mtimeMs, 1_500_000_000_000);
    // Set after its child was written.
    assert.equal(fs.statSync(path.join(d, 'etc/sub')).mtimeMs, 1_400_000_000_000);
    assert.equal(stats.bytes, 300_000 + 5 + 4);
    assert.ok(stats.entries >= 9, `entries ${stats.entries}`);
    assert.deepEqual(s.warnings, []);
  });

  test('long names: PAX path and GNU long name/link', async () => {
    const s = scene();
    const paxName = `${'p'.repeat(150)}/${'q'.repeat(150)}`;
    const gnuName = `${'g'.repeat(150)}/${'h'.repeat(150)}`;
    await s.extract(
      layer(
        pax([['path', paxName]]),
        file('ignored', 'pax'),
        raw({ name: '././@LongLink', type: 'L', format: 'gnu' }, `${gnuName}\0`),
        file(gnuName.slice(0, 99), 'gnu', { format: 'gnu' }),
        raw({ name: '././@LongLink', type: 'K', format: 'gnu' }, `${paxName}\0`),
        raw({ name: 'hl', type: '1', format: 'gnu', linkname: 'truncated' }),
      ),
    );
    assert.equal(fs.readFileSync(path.join(s.dest, paxName), 'utf8'), 'pax');
    assert.equal(fs.readFileSync(path.join(s.dest, gnuName), 'utf8'), 'gnu');
    assert.equal(fs.statSync(path.join(s.dest, 'hl')).ino, fs.statSync(path.join(s.dest, paxName)).ino);
  });

  test('xattrs: user.* kept; security.* (but capabilities), trusted.* and overlay metadata from the layer dropped', async (t) => {
    if (!xattrsWork) return t.skip('no user xattrs on /var/tmp');
    const s = scene();
    const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // cap_net_bind_service, vfs v2
    await s.extract(
      layer(
        dir('d/'),
        pax([
          ['SCHILY.xattr.user.mime_type', 'text/plain'],
          ['SCHILY.xattr.security.selinux', 'system_u:object_r:etc_t:s0'],
          ['SCHILY.xattr.trusted.secret', 'x'],
          ['SCHILY.xattr.user.overlay.opaque', 'y'],
          ['SCHILY.xattr.user.overlay.redirect', '/etc'],
          ['SCHILY.xattr.trusted.overlay.opaque', 'y'],
          ['SCHILY.xattr.user.fuseoverlayfs.opaque', 'y'],
        ]),
        file('d/f', 'x', { mode: 0o444 }),
        pax([['LIBARCHIVE.xattr.user.b64', Buffer.from('bin\0ary').toString('base64')]]),
        dir('d/sub/'),
        pax([['SCHILY.xattr.security.capability', cap]]),
        file('ping', 'elf', { mode: 0o755 }),
      ),
    );
    const f = path.join(s.dest, 'd/f');
    assert.equal(lgetxattr(f, 'user.mime_type')?.toString(), 'text/plain', 'set even though the file is read-only');
    assert.equal(lgetxattr(path.join(s.dest, 'd/sub'), 'user.b64')?.toString(), 'bin\0ary');
    for (const n of ['user.overlay.opaque', 'user.overlay.redirect', 'user.fuseoverlayfs.opaque', 'trusted.secret', 'trusted.overlay.opaque']) {
      assert.equal(lgetxattr(f, n), undefined, n);
    }
    const selinux = lgetxattr(f, 'security.selinux')?.toString();
    assert.ok(!selinux?.includes('etc_t'), 'security.selinux from the layer is not applied');
    assert.ok(s.warnings.some((w) => /overlay/.test(w)));
    assert.ok(s.warnings.some((w) => /trusted/.test(w)));
    assert.ok(!s.warnings.some((w) => /selinux/.test(w)));
    assert.equal(s.warnings.filter((w) => /overlay/.test(w)).length, 1, 'warned once');
    if (IS_ROOT) assert.deepEqual(lgetxattr(path.join(s.dest, 'ping'), 'security.capability'), cap);
    else assert.ok(s.warnings.some((w) => /security\.capability/.test(w)), 'a plain user cannot set file capabilities: warned');
  });

  test('setuid, setgid and sticky bits are preserved (and ownership as root)', async () => {
    const s = scene();
    const gid = process.getgid!();
    await s.extract(
      layer(
        file('suid', '#!', { mode: 0o4755, uid: 33, gid: 33 }),
        file('sgid', '#!', { mode: 0o2711, uid: 0, gid: IS_ROOT ? 42 : gid }),
        dir('tmp/', { mode: 0o1777 }),
        dir('shared/', { mode: 0o2775, uid: 5, gid: 6 }),
      ),
    );
    const st = (p: string) => fs.lstatSync(path.join(s.dest, p));
    assert.equal(st('suid').mode & 0o7777, 0o4755);
    assert.equal(st('sgid').mode & 0o7777, 0o2711);
    assert.equal(st('tmp').mode & 0o7777, 0o1777);
    assert.equal(st('shared').mode & 0o7777, 0o2775);
    if (IS_ROOT) {
      assert.deepEqual([st('suid').uid, st('suid').gid], [33, 33]);
      assert.deepEqual([st('sgid').uid, st('sgid').gid], [0, 42]);
      assert.deepEqual([st('shared').uid, st('shared').gid], [5, 6]);
    } else {
      assert.equal(st('suid').uid, process.getuid!());
    }
  });

  test('zero blocks become holes: a sparse file takes less space than its size', async () => {
    const s = scene();
    const size = 4 * 1024 * 1024 + 100;
    const body = Buffer.alloc(size);
    body.write('head', 0);
    body.write('middle', 2 * 1024 * 1024 + 3);
    body.write('tail', size - 4);
    // Chunks that do not line up with 4 KiB blocks.
    const stats = await extractLayer(chunked(layer(file('sparse', body)), 10_000), s.dest, { chown: CHOWN });
    const p = path.join(s.dest, 'sparse');
    const st = fs.statSync(p);
    assert.equal(st.size, size);
    assert.ok(st.blocks * 512 < 64 * 1024, `allocated ${st.blocks * 512} bytes for ${size}`);
    assert.deepEqual(fs.readFileSync(p), body);
    assert.equal(stats.bytes, size);
    // All zeros, and ending in a hole.
    await s.extract(layer(file('zeros', Buffer.alloc(100_000))));
    assert.equal(fs.statSync(path.join(s.dest, 'zeros')).size, 100_000);
    assert.deepEqual(fs.readFileSync(path.join(s.dest, 'zeros')), Buffer.alloc(100_000));
  });

  test('GNU sparse 1.0 files are rebuilt with holes', async () => {
    const s = scene();
    const map = Buffer.from('2\n0\n5\n3000000\n4\n');
    await s.extract(
      layer(
        pax([
          ['GNU.sparse.major', '1'],
          ['GNU.sparse.minor', '0'],
          ['GNU.sparse.name', 'var/log/lastlog'],
          ['GNU.sparse.realsize', '4000000'],
        ]),
        header({ name: 'GNUSparseFile.0/lastlog', size: 512 + 9 }),
        map,
        Buffer.alloc(512 - map.length),
        Buffer.from('startlast'),
        padTo512(9),
      ),
    );
    const p = path.join(s.dest, 'var/log/lastlog');
    const st = fs.statSync(p);
    assert.equal(st.size, 4_000_000);
    assert.ok(st.blocks * 512 < 64 * 1024);
    const want = Buffer.alloc(4_000_000);
    want.write('start', 0);
    want.write('last', 3_000_000);
    assert.deepEqual(fs.readFileSync(p), want);
  });

  test('whiteouts become 0/0 character devices; opaque markers become xattrs for both overlay backends', async (t) => {
    const s = scene();
    await s.extract(layer(dir('etc/'), file('etc/.wh.passwd'), file('.wh.gone-dir'), dir('opaque/'), file('opaque/.wh..wh..opq'), file('opaque/kept', 'k'), file('implicit/.wh..wh..opq')));
    for (const w of ['etc/passwd', 'gone-dir']) {
      const st = fs.lstatSync(path.join(s.dest, w));
      assert.ok(st.isCharacterDevice(), w);
      assert.equal(st.rdev, 0, w);
    }
    assert.ok(!exists(path.join(s.dest, 'etc/.wh.passwd')));
    assert.ok(!exists(path.join(s.dest, '.wh.gone-dir')));
    assert.ok(!exists(path.join(s.dest, 'opaque/.wh..wh..opq')));
    assert.equal(fs.readFileSync(path.join(s.dest, 'opaque/kept'), 'utf8'), 'k');
    if (!xattrsWork) return t.skip('no user xattrs on /var/tmp');
    for (const d of ['opaque', 'implicit']) {
      assert.equal(lgetxattr(path.join(s.dest, d), 'user.overlay.opaque')?.toString(), 'y', d);
      assert.equal(lgetxattr(path.join(s.dest, d), 'user.fuseoverlayfs.opaque')?.toString(), 'y', d);
    }
    assert.equal(lgetxattr(path.join(s.dest, 'etc'), 'user.overlay.opaque'), undefined);
  });

  test('aufs metadata is dropped, but its hard link targets resolve', async () => {
    const s = scene();
    await s.extract(
      layer(
        dir('.wh..wh.plnk/'),
        file('.wh..wh.plnk/12.34', 'shared'),
        hardlink('usr/bin/tool', '.wh..wh.plnk/12.34'),
        file('.wh..wh.aufs'),
        dir('.wh..wh.orph/'),
        file('x/.wh..wh.something'),
      ),
    );
    assert.equal(fs.readFileSync(path.join(s.dest, 'usr/bin/tool'), 'utf8'), 'shared');
    assert.deepEqual(fs.readdirSync(s.dest).sort(), ['usr']);
  });

  test('later entries win: replacing files, dirs and links', async () => {
    const s = scene();
    await s.extract(
      layer(
        file('a', 'first'),
        file('a', 'second'),
        dir('b/'),
        file('b/child', 'c'),
        file('b', 'b is a file now'),
        file('c', 'c'),
        dir('c/', { mode: 0o750 }),
        dir('d/', { mode: 0o700 }),
        file('d/keep', 'kept'),
        dir('d/', { mode: 0o711 }),
        symlink('e', 'a'),
        symlink('e', 'b'),
      ),
    );
    const d = s.dest;
    assert.equal(fs.readFileSync(path.join(d, 'a'), 'utf8'), 'second');
    assert.equal(fs.readFileSync(path.join(d, 'b'), 'utf8'), 'b is a file now');
    assert.ok(fs.lstatSync(path.join(d, 'c')).isDirectory());
    assert.equal(fs.lstatSync(path.join(d, 'c')).mode & 0o7777, 0o750);
    assert.equal(fs.readFileSync(path.join(d, 'd/keep'), 'utf8'), 'kept');
    assert.equal(fs.lstatSync(path.join(d, 'd')).mode & 0o7777, 0o711);
    assert.equal(fs.readlinkSync(path.join(d, 'e')), 'b');
  });

  test('past the first 64 files a worker thread writes them: contents, modes, mtimes, and later entries still win', async () => {
    const s = scene();
    await s.extract(
      layer(
        ...padding(),
        file('a', 'first', { mode: 0o640 }),
        file('a', 'second', { mode: 0o604, mtime: 1234 }),
        file('b/child', 'c'),
        file('b', 'b is a file now'),
        file('x', 'x'),
        hardlink('xl', 'x'),
        file('y', 'y'),
        file('.wh.y'),
        file('z', 'z'),
        symlink('z', 'a'),
        file('big', Buffer.alloc(3 << 20, 7)),
        dir('ro/', { mode: 0o555 }),
        file('ro/inside', 'in', { mode: 0o400 }),
      ),
    );
    const d = s.dest;
    for (let i = 0; i < PADDING; i++) assert.equal(fs.readFileSync(path.join(d, `pad/${i}`), 'utf8'), `p${i}`.repeat(i));
    assert.equal(fs.lstatSync(path.join(d, 'pad/7')).mtimeMs, 7_000_000);
    assert.equal(fs.readFileSync(path.join(d, 'a'), 'utf8'), 'second');
    assert.equal(fs.lstatSync(path.join(d, 'a')).mode & 0o7777, 0o604);
    assert.equal(fs.lstatSync(path.join(d, 'a')).mtimeMs, 1_234_000);
    assert.equal(fs.readFileSync(path.join(d, 'b'), 'utf8'), 'b is a file now');
    assert.equal(fs.lstatSync(path.join(d, 'xl')).ino, fs.lstatSync(path.join(d, 'x')).ino);
    assert.ok(fs.lstatSync(path.join(d, 'y')).isCharacterDevice());
    assert.equal(fs.readlinkSync(path.join(d, 'z')), 'a');
    assert.equal(fs.statSync(path.join(d, 'big')).size, 3 << 20);
    assert.equal(fs.lstatSync(path.join(d, 'ro/inside')).mode & 0o7777, 0o400);
    assert.equal(fs.lstatSync(path.join(d, 'ro')).mode & 0o7777, 0o555);
  });

  test('read-only directories still get their children; modes and mtimes are applied last', async () => {
    const s = scene();
    await s.extract(
      layer(
        dir('./', { mode: 0o755, mtime: 1_234_567_890 }),
        dir('ro/', { mode: 0o555, mtime: 1_000_000_000 }),
        dir('ro/locked/', { mode: 0o000, mtime: 1_100_000_000 }),
        file('ro/locked/f', 'x', { mode: 0o400 }),
        file('ro/g', 'y', { mode: 0o000 }),
        hardlink('ro/h', 'ro/g'),
      ),
    );
    const st = (p: string) => fs.lstatSync(path.join(s.dest, p));
    assert.equal(st('ro').mode & 0o7777, 0o555);
    assert.equal(st('ro/locked').mode & 0o7777, 0o000);
    assert.equal(st('ro').mtimeMs, 1_000_000_000_000);
    assert.equal(st('ro/locked').mtimeMs, 1_100_000_000_000);
    assert.equal(st('ro/g').ino, st('ro/h').ino);
    assert.equal(fs.statSync(s.dest).mtimeMs, 1_234_567_890_000);
  });

  test('fifos are made; device nodes are skipped with a warning', async () => {
    const s = scene();
    const stats = await s.extract(layer(dir('dev/'), raw({ name: 'dev/null', type: '3', devmajor: 1, devminor: 3, mode: 0o666 }), raw({ name: 'dev/sda', type: '4', devmajor: 8 }), raw({ name: 'pipe', type: '6', mode: 0o620 }), file('after', 'ok')));
    assert.ok(!exists(path.join(s.dest, 'dev/null')));
    assert.ok(!exists(path.join(s.dest, 'dev/sda')));
    assert.ok(s.warnings.some((w) => w.startsWith('skipping device node dev/null')));
    assert.ok(s.warnings.some((w) => w.startsWith('skipping device node dev/sda')));
    const fifo = fs.lstatSync(path.join(s.dest, 'pipe'));
    assert.ok(fifo.isFIFO());
    assert.equal(fifo.mode & 0o7777, 0o620);
    assert.equal(fs.readFileSync(path.join(s.dest, 'after'), 'utf8'), 'ok');
    assert.equal(stats.entries, 5);
  });

  test('filesystem errors come back as LayerError naming the entry', async () => {
    const s = scene();
    await rejectsLayer(s.extract(layer(symlink('empty-target', ''))), /"empty-target"/);
  });

  test('a tar that is not one is refused', async () => {
    const s = scene();
    await rejectsLayer(s.extract(Buffer.alloc(2048, 'z')), /checksum/);
    await rejectsLayer(s.extract(file('cut', Buffer.alloc(5000)).subarray(0, 3000)), /unexpected end of layer archive/);
  });
});

describe('extractLayer: malicious layers', () => {
  test('"../escape" is refused', async () => {
    await malicious([file('../escape', 'x')], /escapes the layer root/, (s) => {
      assert.ok(!exists(path.join(s.root, 'layers', 'escape')));
    });
    await malicious([dir('a/'), file('a/../../escape', 'x')], /escapes the layer root/);
    await malicious([pax([['path', '../../outside/pax']]), file('harmless', 'x')], /escapes the layer root/);
  });

  test('an absolute "/etc/x" lands inside the layer, never in /etc', async () => {
    const name = `tsctr-test-${crypto.randomBytes(6).toString('hex')}`;
    await malicious([file(`/etc/${name}`, 'x'), file('//abs2', 'y')], undefined, (s) => {
      assert.equal(fs.readFileSync(path.join(s.dest, 'etc', name), 'utf8'), 'x');
      assert.equal(fs.readFileSync(path.join(s.dest, 'abs2'), 'utf8'), 'y');
    });
    assert.ok(!exists(`/etc/${name}`));
  });

  test('writing through a symlink to outside is refused', async () => {
    let outside = '';
    await malicious(
      [
        // The scene's outside dir, known only once the scene exists: use a fixed name and a relative climb.
        symlink('link', '../../outside'),
        file('link/pwned', 'x'),
      ],
      /goes through the symlink "link"/,
      (s) => {
        outside = s.outside;
        assert.ok(!exists(path.join(s.outside, 'pwned')));
      },
    );
    assert.ok(outside);
    // An absolute target, to a directory that is there.
    const abs = fs.mkdtempSync(path.join(base, 'abs-outside-'));
    await malicious([symlink('link', abs), dir('link/sub/'), file('link/sub/pwned', 'x')], /goes through the symlink "link"/);
    assert.deepEqual(fs.readdirSync(abs), []);
    // Deeper: a symlinked directory in the middle of the path.
    await malicious([dir('a/'), symlink('a/b', abs), file('a/b/c/d', 'x')], /goes through the symlink "a\/b"/);
    assert.deepEqual(fs.readdirSync(abs), []);
  });

  test('a symlink to ".." then a file through it is refused', async () => {
    await malicious([symlink('up', '..'), file('up/evil', 'x')], /symlink "up"/, (s) => {
      assert.ok(!exists(path.join(s.root, 'layers', 'evil')));
    });
    await malicious([dir('d/'), symlink('d/up', '../..'), file('d/up/evil', 'x')], /symlink "d\/up"/);
  });

  test('whiteouts and opaque markers through a symlink are refused', async () => {
    await malicious([symlink('l', '../../outside'), file('l/.wh.secret')], /symlink "l"/, (s) => {
      assert.equal(fs.readFileSync(path.join(s.outside, 'secret'), 'utf8'), 'top secret');
    });
    await malicious([symlink('l', '../../outside'), file('l/.wh..wh..opq')], /symlink "l"/);
  });

  test('whiteouts that name no file (".wh.", ".wh..", ".wh...") are refused', async () => {
    for (const name of ['.wh.', '.wh..', '.wh...', 'sub/.wh...']) {
      await malicious([file('keep', 'k'), file(name)], /names no file/, (s) => {
        assert.equal(fs.readFileSync(path.join(s.dest, 'keep'), 'utf8'), 'k');
        assert.ok(exists(path.join(s.root, 'layers')));
      });
    }
  });

  test('hard links out of the layer are refused', async () => {
    await malicious([hardlink('passwd', '../../etc/passwd')], /escapes the layer root/, (s) => assert.ok(!exists(path.join(s.dest, 'passwd'))));
    await malicious([hardlink('secret', '../../outside/secret')], /escapes the layer root/);
    // Absolute: taken inside the layer, where there is no etc/passwd.
    await malicious([hardlink('passwd', '/etc/passwd')], /does not contain/, (s) => assert.ok(!exists(path.join(s.dest, 'passwd'))));
    // ...and when the layer has one, that is the one linked.
    await malicious([file('etc/passwd', 'layer passwd'), hardlink('pw', '/etc/passwd')], undefined, (s) => {
      assert.equal(fs.statSync(path.join(s.dest, 'pw')).ino, fs.statSync(path.join(s.dest, 'etc/passwd')).ino);
      assert.equal(fs.readFileSync(path.join(s.dest, 'pw'), 'utf8'), 'layer passwd');
    });
  });

  test('a hard link through a symlink is refused', async () => {
    await malicious([symlink('lnk', '../../outside'), hardlink('h', 'lnk/secret')], /symlink "lnk"/, (s) => {
      assert.ok(!exists(path.join(s.dest, 'h')));
      assert.equal(fs.statSync(path.join(s.outside, 'secret')).nlink, 1);
    });
    const abs = fs.mkdtempSync(path.join(base, 'abs-outside-'));
    fs.writeFileSync(path.join(abs, 'secret'), 's');
    await malicious([symlink('lnk', abs), hardlink('h', 'lnk/secret')], /symlink "lnk"/);
    assert.equal(fs.statSync(path.join(abs, 'secret')).nlink, 1);
  });

  test('a hard link to a directory, or to nothing, is refused', async () => {
    await malicious([dir('d/'), hardlink('h', 'd')], /points at a directory/);
    await malicious([hardlink('h', 'missing/file')], /does not contain/, (s) => assert.ok(!exists(path.join(s.dest, 'missing')), 'no directories made for a link target'));
    await malicious([hardlink('h', './')], /layer root/);
  });

  test('a file replacing a symlink to outside replaces the link, not what it points at', async () => {
    await malicious([symlink('f', '../../outside/new'), file('f', 'mine')], undefined, (s) => {
      assert.ok(fs.lstatSync(path.join(s.dest, 'f')).isFile());
      assert.equal(fs.readFileSync(path.join(s.dest, 'f'), 'utf8'), 'mine');
      assert.ok(!exists(path.join(s.outside, 'new')));
    });
    await malicious([symlink('f', '../../outside/secret'), file('f', 'mine', { mode: 0o600 })], undefined, (s) => {
      assert.equal(fs.readFileSync(path.join(s.outside, 'secret'), 'utf8'), 'top secret');
      assert.equal(fs.readFileSync(path.join(s.dest, 'f'), 'utf8'), 'mine');
    });
    // The same for a directory, a fifo, a whiteout and a hard link over the symlink.
    await malicious(
      [file('target', 't'), symlink('d', '../../outside'), dir('d/', { mode: 0o700 }), symlink('p', '../../outside/p'), raw({ name: 'p', type: '6' }), symlink('w', '../../outside/secret'), file('.wh.w'), symlink('h', '../../outside/secret'), hardlink('h', 'target')],
      undefined,
      (s) => {
        assert.ok(fs.lstatSync(path.join(s.dest, 'd')).isDirectory());
        assert.ok(fs.lstatSync(path.join(s.dest, 'p')).isFIFO());
        assert.ok(fs.lstatSync(path.join(s.dest, 'w')).isCharacterDevice());
        assert.equal(fs.lstatSync(path.join(s.dest, 'h')).ino, fs.lstatSync(path.join(s.dest, 'target')).ino);
      },
    );
  });

  test('a directory later replaced by a symlink to outside: its deferred mode and mtime do not follow the link', async () => {
    await malicious([dir('d/', { mode: 0o777, mtime: 42 }), dir('d/e/', { mode: 0o777, mtime: 43 }), symlink('d', '../../outside')], undefined, (s) => {
      assert.ok(fs.lstatSync(path.join(s.dest, 'd')).isSymbolicLink());
    });
  });

  test('a file through a non-directory is refused', async () => {
    await malicious([file('f', 'x'), file('f/g', 'y')], /not a directory/);
  });

  test('the same with the files before written by the worker thread', async () => {
    await malicious([...padding(), file('f', 'x'), file('f/g', 'y')], /not a directory/);
    await malicious([...padding(), symlink('f', '../../outside/secret'), file('f', 'mine', { mode: 0o600 })], undefined, (s) => {
      assert.equal(fs.readFileSync(path.join(s.outside, 'secret'), 'utf8'), 'top secret');
      assert.equal(fs.readFileSync(path.join(s.dest, 'f'), 'utf8'), 'mine');
    });
    // A refused layer stops the worker before the caller deletes what was extracted.
    const s = await malicious([...padding(), file('../escape', 'x')], /escapes/);
    fs.rmSync(s.dest, { recursive: true });
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(!exists(s.dest));
  });

  test('extended attributes cannot be set through a symlink', async (t) => {
    if (!xattrsWork) return t.skip('no user xattrs on /var/tmp');
    // xattrs of a symlink entry apply to the link itself (which user.* refuses): never to its target.
    await malicious([symlink('l', '../../outside'), pax([['SCHILY.xattr.user.pwned', 'y']]), symlink('l', '../../outside')], undefined);
  });

  test('device nodes do not crash the extraction', async () => {
    await malicious([raw({ name: 'dev/mem', type: '3', devmajor: 1, devminor: 1 }), raw({ name: 'dev/sda', type: '4', devmajor: 8, devminor: 0 }), file('ok', 'ok')], undefined, (s) => {
      assert.ok(!exists(path.join(s.dest, 'dev/mem')));
      assert.equal(fs.readFileSync(path.join(s.dest, 'ok'), 'utf8'), 'ok');
    });
  });

  test('a name with a NUL byte is refused', async () => {
    await malicious([pax([['path', 'a\0/../../x']]), file('a', 'x')], /NUL/);
  });
});

// ---- inside a real user namespace, as a plain user would pull ----

function subidStart(file: string): number | undefined {
  const me = spawnSync('id', ['-un']).stdout.toString().trim();
  const uid = String(process.getuid!());
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const [who, start] = line.split(':');
    if (who === me || who === uid) return Number(start);
  }
  return undefined;
}

function usernsSkipReason(): string | false {
  if (IS_ROOT) return 'only meaningful for a plain user';
  const r = spawnSync('unshare', ['--map-auto', '--map-root-user', 'true'], { stdio: 'ignore' });
  if (r.status !== 0) return 'unshare --map-auto --map-root-user is not available to this user';
  try {
    if (subidStart('/etc/subuid') === undefined || subidStart('/etc/subgid') === undefined) return 'no subordinate ids';
  } catch {
    return 'no /etc/subuid';
  }
  return false;
}

test('in a user namespace, image uids land on the subordinate ids', { skip: usernsSkipReason() }, async () => {
  const root = fs.mkdtempSync(path.join(base, 'userns-'));
  const dest = path.join(root, 'dest');
  fs.mkdirSync(dest);
  const tarFile = path.join(root, 'layer.tar');
  fs.writeFileSync(tarFile, layer(dir('var/www/', { uid: 33, gid: 33, mode: 0o755 }), file('var/www/index.html', 'hi', { uid: 33, gid: 34, mode: 0o4750 }), file('root-owned', 'r')));
  const script = `
    import fs from 'node:fs';
    import { extractLayer } from ${JSON.stringify(path.join(REPO, 'src/overlay/extract.ts'))};
    await extractLayer(fs.createReadStream(${JSON.stringify(tarFile)}), ${JSON.stringify(dest)}, { chown: true });
  `;
  try {
    const r = spawnSync('unshare', ['--map-auto', '--map-root-user', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const uid0 = subidStart('/etc/subuid')!;
    const gid0 = subidStart('/etc/subgid')!;
    // Namespace uid n (n >= 1) is host uid start + n - 1; namespace root is the user.
    const html = fs.statSync(path.join(dest, 'var/www/index.html'));
    assert.equal(html.uid, uid0 + 32);
    assert.equal(html.gid, gid0 + 33);
    assert.equal(html.mode & 0o7777, 0o4750, 'setuid survives the chown');
    assert.equal(fs.statSync(path.join(dest, 'var/www')).uid, uid0 + 32);
    assert.equal(fs.statSync(path.join(dest, 'root-owned')).uid, process.getuid!());
  } finally {
    // Files of subordinate uids: only root in the namespace may remove them.
    spawnSync('unshare', ['--map-auto', '--map-root-user', 'rm', '-rf', root]);
  }
});
