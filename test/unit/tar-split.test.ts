import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { extractLayer } from '../../src/overlay/extract.js';
import { TarSplitRecorder, reassembleTar, recordedTarSize, verifiedTar } from '../../src/overlay/tar-split.js';
import { chunked, entry, paxEntry, tarOf } from '../support/tar.js';

let base: string;
before(() => (base = fs.mkdtempSync('/var/tmp/tsctr-tarsplit-test-')));
after(() => {
  spawnSync('chmod', ['-R', 'u+rwX', base]);
  fs.rmSync(base, { recursive: true, force: true });
});

async function collect(src: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of src) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

async function roundTrip(name: string, tar: Buffer) {
  const dest = path.join(base, name);
  fs.mkdirSync(dest);
  const rec = new TarSplitRecorder();
  const stats = await extractLayer(chunked(tar, 777), dest, { chown: false }, rec);
  const record = rec.serialize();
  return { dest, stats, record, rebuild: () => collect(reassembleTar(record, dest)) };
}

test('a tar rebuilt from its extracted files and record is byte-identical', async () => {
  const big = crypto.randomBytes(300_000);
  const tar = Buffer.concat([
    tarOf(
      entry({ name: 'etc/', type: '5' }),
      entry({ name: 'etc/passwd' }, 'root:x:0:0::/root:/bin/sh\n'),
      paxEntry([['path', `long/${'x'.repeat(150)}`]]),
      entry({ name: 'long/placeholder' }, big),
      entry({ name: 'etc/link', type: '2', linkname: 'passwd', mode: 0o777 }),
      entry({ name: 'etc/hard', type: '1', linkname: 'etc/passwd' }),
      entry({ name: 'etc/.wh.gone' }),
      entry({ name: 'empty' }),
    ),
    Buffer.alloc(4096), // a writer's padding after the end marker
  ]);
  const { record, rebuild, stats } = await roundTrip('basic', tar);
  const rebuilt = await rebuild();
  assert.equal(stats.reproducible, true);
  assert.equal(recordedTarSize(record), tar.length);
  assert.ok(rebuilt.equals(tar), 'rebuilt tar differs');
  // The record holds headers, not file bodies.
  assert.ok(record.length < 10_000, `record is ${record.length} bytes`);
});

test('a changed layer file makes the rebuilt tar fail verification', async () => {
  const tar = tarOf(entry({ name: 'a' }, 'hello'), entry({ name: 'b' }, 'world'));
  const { dest, record } = await roundTrip('changed', tar);
  const diffId = `sha256:${crypto.createHash('sha256').update(tar).digest('hex')}`;
  assert.ok((await collect(verifiedTar(reassembleTar(record, dest), diffId))).equals(tar));
  fs.writeFileSync(path.join(dest, 'b'), 'WORLD');
  await assert.rejects(collect(verifiedTar(reassembleTar(record, dest), diffId)), /no longer matches its digest/);
  fs.writeFileSync(path.join(dest, 'b'), 'longer!');
  await assert.rejects(collect(reassembleTar(record, dest)), /changed since it was extracted/);
});

test('a file swapped for a symlink is not followed', async () => {
  const tar = tarOf(entry({ name: 'd/', type: '5' }), entry({ name: 'd/f' }, 'data'));
  const { dest, record } = await roundTrip('swap', tar);
  fs.writeFileSync(path.join(base, 'secret'), 'data');
  fs.rmSync(path.join(dest, 'd'), { recursive: true });
  fs.symlinkSync(base, path.join(dest, 'd'));
  fs.renameSync(path.join(base, 'secret'), path.join(base, 'f'));
  await assert.rejects(collect(reassembleTar(record, dest)), /symlink/);
});

test('a layer that overwrites its own file is marked unreproducible', async () => {
  const tar = tarOf(entry({ name: 'a' }, 'first'), entry({ name: 'a' }, 'second'));
  const { stats } = await roundTrip('rewrite', tar);
  assert.equal(stats.reproducible, false);
});
