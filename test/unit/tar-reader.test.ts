import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as tar from 'tar';
import { readTar, type TarEntry } from '../../src/overlay/tar-reader.js';
import { LayerError } from '../../src/errors.js';
import { chunked, entry, header, padTo512, paxData, paxEntry, type RawHeader } from '../support/tar.js';

// ---- raw tar writing, to craft what no well-behaved writer would ----

const END = Buffer.alloc(1024);

type Read = Omit<TarEntry, 'body' | 'skip'> & { data: Buffer };

async function readAll(src: AsyncIterable<Buffer>): Promise<Read[]> {
  const out: Read[] = [];
  for await (const e of readTar(src)) {
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(c);
    const { body: _b, skip: _s, ...rest } = e;
    out.push({ ...rest, data: Buffer.concat(parts) });
  }
  return out;
}

const read = (buf: Buffer, chunk = 65536) => readAll(chunked(buf, chunk));

async function rejectsLayer(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof LayerError, `expected a LayerError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

// ---- tests ----

describe('readTar: hand-made archives', () => {
  test('regular file, directory, symlink, hard link, fifo, devices', async () => {
    const archive = Buffer.concat([
      entry({ name: 'dir/', type: '5', mode: 0o755, uid: 1, gid: 2 }),
      entry({ name: 'dir/file', mode: 0o4755, uid: 33, gid: 44, mtime: 1234567890 }, 'hello'),
      entry({ name: 'dir/link', type: '2', linkname: '../target' }),
      entry({ name: 'dir/hard', type: '1', linkname: 'dir/file' }),
      entry({ name: 'fifo', type: '6', mode: 0o600 }),
      entry({ name: 'null', type: '3', devmajor: 1, devminor: 3 }),
      entry({ name: 'sda', type: '4', devmajor: 8, devminor: 0 }),
      END,
    ]);
    const es = await read(archive);
    assert.deepEqual(
      es.map((e) => [e.path, e.type]),
      [
        ['dir/', 'dir'],
        ['dir/file', 'file'],
        ['dir/link', 'symlink'],
        ['dir/hard', 'hardlink'],
        ['fifo', 'fifo'],
        ['null', 'char'],
        ['sda', 'block'],
      ],
    );
    const f = es[1]!;
    assert.equal(f.mode, 0o4755);
    assert.equal(f.uid, 33);
    assert.equal(f.gid, 44);
    assert.equal(f.size, 5);
    assert.equal(f.mtime, 1234567890);
    assert.equal(f.data.toString(), 'hello');
    assert.equal(es[0]!.mode, 0o755);
    assert.equal(es[2]!.linkname, '../target');
    assert.equal(es[3]!.linkname, 'dir/file');
    assert.deepEqual([es[5]!.devmajor, es[5]!.devminor], [1, 3]);
    assert.deepEqual([es[6]!.devmajor, es[6]!.devminor], [8, 0]);
  });

  test("type '\\0' and '7' are files; a V7 '\\0' entry ending in / is a directory", async () => {
    const es = await read(
      Buffer.concat([entry({ name: 'a', type: '\0' }, 'A'), entry({ name: 'b', type: '7' }, 'B'), entry({ name: 'old/', type: '\0', format: 'v7' }), END]),
    );
    assert.deepEqual(
      es.map((e) => [e.path, e.type, e.data.toString()]),
      [
        ['a', 'file', 'A'],
        ['b', 'file', 'B'],
        ['old/', 'dir', ''],
      ],
    );
  });

  test('ustar prefix + name; old GNU headers have no prefix field', async () => {
    const prefix = 'p'.repeat(120);
    const es = await read(
      Buffer.concat([
        entry({ name: 'n'.repeat(90), prefix }, 'x'),
        // GNU format stores atime/ctime where ustar keeps the prefix: it must not be read as one.
        entry({ name: 'gnu-file', format: 'gnu', prefix: '14567012345' }, 'y'),
        END,
      ]),
    );
    assert.equal(es[0]!.path, `${prefix}/${'n'.repeat(90)}`);
    assert.equal(es[1]!.path, 'gnu-file');
  });

  test('PAX extended headers: path, linkpath, size, uid, gid, mtime, xattrs', async () => {
    const long = `${'d'.repeat(150)}/${'f'.repeat(200)}`;
    const capability = Buffer.from([1, 0, 0, 2, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const archive = Buffer.concat([
      paxEntry([
        ['path', long],
        ['uid', '3000000'],
        ['gid', '3000001'],
        ['mtime', '1700000000.123456789'],
        ['uname', 'ignored'],
        ['SCHILY.xattr.user.comment', 'hé'],
        ['SCHILY.xattr.security.capability', capability],
        ['LIBARCHIVE.xattr.user.b64%20name', Buffer.from('binary\0value').toString('base64')],
      ]),
      entry({ name: 'truncated-name', uid: 1, gid: 1 }, 'body'),
      paxEntry([['linkpath', `/${'t'.repeat(300)}`]]),
      entry({ name: 'sym', type: '2', linkname: 'short' }),
      // A size too big for the octal field comes in the pax header.
      // The header says 0 but the pax size says 3: its data is 3 bytes (+ padding).
      paxEntry([['size', '3']]),
      header({ name: 'sized', size: 0 }),
      entryData('abc'),
      END,
    ]);
    const es = await read(archive);
    assert.equal(es.length, 3);
    const [f, s, z] = es as [Read, Read, Read];
    assert.equal(f.path, long);
    assert.equal(f.uid, 3000000);
    assert.equal(f.gid, 3000001);
    assert.ok(Math.abs(f.mtime - 1700000000.123456789) < 1e-6);
    assert.equal(f.data.toString(), 'body');
    assert.equal(f.xattrs['user.comment']!.toString(), 'hé');
    assert.deepEqual(f.xattrs['security.capability'], capability);
    assert.equal(f.xattrs['user.b64 name']!.toString(), 'binary\0value');
    assert.equal(s.linkname, `/${'t'.repeat(300)}`);
    assert.equal(s.uid, 0, 'extended headers apply to one entry only');
    assert.deepEqual(s.xattrs, {});
    assert.equal(z.size, 3);
    assert.equal(z.data.toString(), 'abc');
  });

  test('PAX global headers: uid/gid/mtime apply to later entries, path never does', async () => {
    const es = await read(
      Buffer.concat([
        paxEntry(
          [
            ['comment', 'git archive writes one of these'],
            ['uid', '7'],
            ['path', 'not-a-name'],
          ],
          'g',
        ),
        entry({ name: 'a', uid: 1 }, 'A'),
        paxEntry([['uid', '9']]),
        entry({ name: 'b' }, 'B'),
        END,
      ]),
    );
    assert.deepEqual(
      es.map((e) => [e.path, e.uid]),
      [
        ['a', 7],
        ['b', 9],
      ],
    );
  });

  test('empty extended headers are harmless', async () => {
    const es = await read(Buffer.concat([entry({ name: 'PaxHeader', type: 'x' }), entry({ name: 'PaxHeader', type: 'g' }), entry({ name: 'a' }, 'A'), END]));
    assert.deepEqual(
      es.map((e) => [e.path, e.data.toString()]),
      [['a', 'A']],
    );
  });

  test('extended headers cannot pile up without bound', async () => {
    const one = paxEntry([['comment', 'x'.repeat(1024 * 1024)]]);
    await rejectsLayer(read(Buffer.concat([...Array.from({ length: 17 }, () => one), entry({ name: 'a' }), END])), /oversized extended header/);
  });

  test('GNU long names and long link names (L/K)', async () => {
    const longName = `gnu/${'n'.repeat(250)}`;
    const longLink = `../${'l'.repeat(250)}`;
    const es = await read(
      Buffer.concat([
        entry({ name: '././@LongLink', type: 'L', format: 'gnu' }, `${longName}\0`),
        entry({ name: longName.slice(0, 99), format: 'gnu' }, 'content'),
        entry({ name: '././@LongLink', type: 'L', format: 'gnu' }, `${longName}-link\0`),
        entry({ name: '././@LongLink', type: 'K', format: 'gnu' }, `${longLink}\0`),
        entry({ name: 'x', type: '2', format: 'gnu', linkname: 'short' }),
        entry({ name: 'after', format: 'gnu' }, ''),
        END,
      ]),
    );
    assert.deepEqual(
      es.map((e) => [e.path, e.linkname, e.data.toString()]),
      [
        [longName, '', 'content'],
        [`${longName}-link`, longLink, ''],
        ['after', '', ''],
      ],
    );
  });

  test('base-256 numeric fields', async () => {
    const b256 = (len: number, v: bigint) => {
      const b = Buffer.alloc(len);
      let x = v < 0n ? (1n << BigInt(8 * len)) + v : v;
      for (let i = len - 1; i >= 0; i--) {
        b[i] = Number(x & 0xffn);
        x >>= 8n;
      }
      b[0] = b[0]! | 0x80;
      return b;
    };
    const es = await read(
      Buffer.concat([
        entry({ name: 'big', raw: { uid: b256(8, 10_000_000n), gid: b256(8, 2n ** 32n), size: b256(12, 4n) } }, 'data'),
        entry({ name: 'old', raw: { mtime: b256(12, -1000n) } }, ''),
        END,
      ]),
    );
    assert.equal(es[0]!.uid, 10_000_000);
    assert.equal(es[0]!.gid, 2 ** 32);
    assert.equal(es[0]!.data.toString(), 'data');
    assert.equal(es[1]!.mtime, -1000);
  });

  test('any chunking of the input gives the same entries', async () => {
    const big = Buffer.alloc(70_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const archive = Buffer.concat([
      paxEntry([['path', 'x'.repeat(300)]]),
      entry({ name: 'ignored' }, big),
      entry({ name: 'small' }, 'tiny'),
      entry({ name: 'empty' }),
      END,
    ]);
    const want = await read(archive);
    assert.equal(want.length, 3);
    assert.deepEqual(want[0]!.data, big);
    for (const size of [1, 7, 511, 512, 513, 4096, 100_003]) {
      const got = await read(archive, size);
      assert.deepEqual(
        got.map((e) => [e.path, e.data]),
        want.map((e) => [e.path, e.data]),
        `chunk size ${size}`,
      );
    }
  });

  test('bodies are slices of the input, not copies', async () => {
    const archive = Buffer.concat([entry({ name: 'f' }, Buffer.alloc(10_000, 1)), END]);
    for await (const e of readTar(chunked(archive, archive.length))) {
      for await (const c of e.body) assert.equal(c.buffer, archive.buffer);
    }
  });

  test('undrained bodies are skipped; skip() discards; a stale body cannot be read', async () => {
    const archive = Buffer.concat([entry({ name: 'a' }, Buffer.alloc(3000, 1)), entry({ name: 'b' }, Buffer.alloc(2000, 2)), entry({ name: 'c' }, 'C'), END]);
    const it = readTar(chunked(archive, 100));
    const a = (await it.next()).value as TarEntry;
    assert.equal(a.path, 'a');
    const b = (await it.next()).value as TarEntry; // a's body never read
    assert.equal(b.path, 'b');
    await assert.rejects(async () => {
      for await (const _ of a.body) void _;
    }, /after moving on/);
    // Read part of b, then skip the rest.
    for await (const c of b.body) {
      assert.equal(c[0], 2);
      break;
    }
    await b.skip();
    const c = (await it.next()).value as TarEntry;
    assert.equal(c.path, 'c');
    const parts: Buffer[] = [];
    for await (const x of c.body) parts.push(x);
    assert.equal(Buffer.concat(parts).toString(), 'C');
    assert.equal((await it.next()).done, true);
  });

  test('header-only types carry no data whatever their size field says (as Go/Docker read them)', async () => {
    const es = await read(Buffer.concat([header({ name: 'd/', type: '5', size: 4096 }), header({ name: 'l', type: '2', linkname: 'x', size: 10 }), entry({ name: 'f' }, 'F'), END]));
    assert.deepEqual(
      es.map((e) => [e.path, e.size, e.data.toString()]),
      [
        ['d/', 0, ''],
        ['l', 0, ''],
        ['f', 1, 'F'],
      ],
    );
  });

  test('end of archive: stops at the zero blocks and reads no further', async () => {
    let pulled = 0;
    async function* src() {
      yield Buffer.concat([entry({ name: 'a' }, 'A'), END]);
      pulled++;
      yield Buffer.from('garbage after the end marker that is not a header'.padEnd(512, '!'));
      pulled++;
    }
    const es = await readAll(src());
    assert.deepEqual(
      es.map((e) => e.path),
      ['a'],
    );
    assert.equal(pulled, 0);
  });

  test('an archive that stops between entries without end blocks, or after one zero block, is accepted (as Go/Docker do)', async () => {
    for (const tail of [Buffer.alloc(0), Buffer.alloc(512)]) {
      const es = await read(Buffer.concat([entry({ name: 'a' }, 'A'), tail]));
      assert.deepEqual(
        es.map((e) => e.path),
        ['a'],
      );
    }
  });

  test('a lone zero block with entries hidden after it is refused (as Go/Docker do)', async () => {
    await rejectsLayer(read(Buffer.concat([entry({ name: 'a' }, 'A'), Buffer.alloc(512), entry({ name: 'hidden' }, 'H'), END])), /zero block followed by data/);
  });

  test('bad checksum', async () => {
    await rejectsLayer(read(Buffer.concat([entry({ name: 'a', badChecksum: true }, 'A'), END])), /checksum/);
    const garbage = Buffer.alloc(1024, 'x');
    await rejectsLayer(read(garbage), /checksum/);
  });

  test('truncated archives', async () => {
    const whole = Buffer.concat([entry({ name: 'a' }, Buffer.alloc(5000, 1)), END]);
    for (const cut of [100, 511, 600, 4000, 512 + 5000 + 10]) {
      await rejectsLayer(read(whole.subarray(0, cut)), /unexpected end of layer archive/);
    }
    // An extended header with nothing after it.
    await rejectsLayer(read(paxEntry([['path', 'x']])), /unexpected end of layer archive/);
    await rejectsLayer(read(entry({ name: '././@LongLink', type: 'L', format: 'gnu' }, 'name\0')), /unexpected end of layer archive/);
  });

  test('malformed numbers and pax records are refused', async () => {
    await rejectsLayer(read(Buffer.concat([entry({ name: 'a', raw: { size: Buffer.from('12x4\0') } }), END])), /invalid size/);
    await rejectsLayer(read(Buffer.concat([entry({ name: 'PaxHeader', type: 'x' }, '99 path=x\n'), entry({ name: 'a' }), END])), /malformed pax/);
    await rejectsLayer(read(Buffer.concat([entry({ name: 'PaxHeader', type: 'x' }, 'abc path=x\n'), entry({ name: 'a' }), END])), /malformed pax/);
    await rejectsLayer(read(Buffer.concat([paxEntry([['size', '-5']]), entry({ name: 'a' }), END])), /invalid size/);
    await rejectsLayer(read(Buffer.concat([paxEntry([['uid', '1e3']]), entry({ name: 'a' }), END])), /invalid uid/);
  });

  test('GNU sparse 1.0 (pax)', async () => {
    const map = Buffer.from('2\n4096\n3\n10000\n2\n');
    const archive = Buffer.concat([
      paxEntry([
        ['GNU.sparse.major', '1'],
        ['GNU.sparse.minor', '0'],
        ['GNU.sparse.name', 'sparse-file'],
        ['GNU.sparse.realsize', '20000'],
        ['path', './GNUSparseFile.123/sparse-file'],
      ]),
      header({ name: 'GNUSparseFile.123/sparse-file', size: 512 + 5 }),
      map,
      Buffer.alloc(512 - map.length),
      Buffer.from('abcde'),
      padTo512(5),
      END,
    ]);
    const [e] = await read(archive);
    assert.equal(e!.path, 'sparse-file');
    assert.equal(e!.type, 'file');
    assert.equal(e!.size, 5);
    assert.deepEqual(e!.sparse, {
      realSize: 20000,
      map: [
        { offset: 4096, size: 3 },
        { offset: 10000, size: 2 },
      ],
    });
    assert.equal(e!.data.toString(), 'abcde');
  });

  test('sparse maps that lie, and older sparse formats, are refused', async () => {
    const sparse = (map: string, data: string, realsize = '100', extra: [string, string][] = []) => {
      const m = Buffer.from(map);
      return Buffer.concat([
        paxEntry([['GNU.sparse.major', '1'], ['GNU.sparse.minor', '0'], ['GNU.sparse.realsize', realsize], ...extra]),
        header({ name: 's', size: 512 + data.length }),
        m,
        Buffer.alloc(512 - m.length),
        Buffer.from(data),
        padTo512(data.length),
        END,
      ]);
    };
    await rejectsLayer(read(sparse('1\n0\n5\n', 'abc')), /does not match/);
    await rejectsLayer(read(sparse('1\n98\n5\n', 'abcde')), /malformed sparse map/); // past the real size
    await rejectsLayer(read(sparse('2\n10\n5\n12\n1\n', 'abcdef')), /malformed sparse map/); // overlapping
    await rejectsLayer(read(sparse('x\n', '')), /malformed sparse map/);
    await rejectsLayer(read(Buffer.concat([paxEntry([['GNU.sparse.map', '0,5']]), entry({ name: 's' }, 'abcde'), END])), /unsupported sparse/);
    await rejectsLayer(read(Buffer.concat([entry({ name: 's', type: 'S', format: 'gnu' }, 'abcde'), END])), /unsupported tar entry type 'S'/);
  });
});

describe('readTar: archives from real writers', () => {
  test('node-tar: files, dirs, symlinks, long names', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsctr-tar-reader-'));
    try {
      const src = path.join(base, 'src');
      const long = path.join('deep', 'x'.repeat(80), 'y'.repeat(80), 'z'.repeat(120));
      fs.mkdirSync(path.join(src, path.dirname(long)), { recursive: true });
      fs.writeFileSync(path.join(src, long), 'long one');
      fs.writeFileSync(path.join(src, 'a.txt'), Buffer.alloc(100_000, 'a'));
      fs.symlinkSync('a.txt', path.join(src, 'link'));
      const file = path.join(base, 'out.tar');
      tar.c({ cwd: src, file, sync: true, portable: true }, ['.']);
      const es = await readAll(fs.createReadStream(file));
      const byPath = new Map(es.map((e) => [e.path.replace(/^\.\//, ''), e]));
      assert.equal(byPath.get(long)?.data.toString(), 'long one');
      assert.equal(byPath.get('a.txt')?.data.length, 100_000);
      assert.equal(byPath.get('link')?.type, 'symlink');
      assert.equal(byPath.get('link')?.linkname, 'a.txt');
      assert.equal(byPath.get('deep/')?.type, 'dir');
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  const gnuTar = spawnSync('tar', ['--version']).stdout?.toString().includes('GNU tar');
  test('GNU tar: gnu format long names, pax sparse 1.0', { skip: !gnuTar && 'GNU tar not installed' }, async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsctr-tar-reader-'));
    try {
      const src = path.join(base, 'src');
      fs.mkdirSync(src);
      const longName = 'n'.repeat(200);
      fs.writeFileSync(path.join(src, longName), 'gnu long');
      fs.symlinkSync('t'.repeat(150), path.join(src, 'longlink'));
      const sparse = path.join(src, 'sparse');
      const fd = fs.openSync(sparse, 'w');
      fs.writeSync(fd, 'start', 0, 'utf8');
      fs.writeSync(fd, 'middle', 5 * 1024 * 1024, 'utf8');
      fs.ftruncateSync(fd, 10 * 1024 * 1024);
      fs.closeSync(fd);
      const gnuFile = path.join(base, 'gnu.tar');
      const paxFile = path.join(base, 'pax.tar');
      assert.equal(spawnSync('tar', ['--format=gnu', '-C', src, '-cf', gnuFile, longName, 'longlink']).status, 0);
      assert.equal(spawnSync('tar', ['--format=pax', '--sparse', '--sparse-version=1.0', '-C', src, '-cf', paxFile, 'sparse']).status, 0);
      const gnu = await readAll(fs.createReadStream(gnuFile));
      assert.equal(gnu[0]!.path, longName);
      assert.equal(gnu[0]!.data.toString(), 'gnu long');
      assert.equal(gnu[1]!.linkname, 't'.repeat(150));
      const [s] = await readAll(fs.createReadStream(paxFile));
      assert.equal(s!.path, 'sparse');
      assert.equal(s!.sparse?.realSize, 10 * 1024 * 1024);
      assert.ok(s!.size < 1024 * 1024, `only the data segments are stored (${s!.size})`);
      // Reassemble and compare with the original.
      const rebuilt = Buffer.alloc(s!.sparse!.realSize);
      let off = 0;
      for (const seg of s!.sparse!.map) {
        s!.data.copy(rebuilt, seg.offset, off, off + seg.size);
        off += seg.size;
      }
      assert.deepEqual(rebuilt, fs.readFileSync(sparse));
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});

function entryData(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([b, padTo512(b.length)]);
}
