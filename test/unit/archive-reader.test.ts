import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { ArchiveReader } from '../../src/image/archive-reader.js';
import { planDockerArchive, planOciArchive } from '../../src/image/archive-plan.js';
import { decompressed, sniffCompression } from '../../src/util/compression.js';
import { ArchiveError } from '../../src/errors.js';
import { chunked, entry, tarOf } from '../support/tar.js';

let base: string;
let n = 0;
before(() => (base = fs.mkdtempSync('/var/tmp/tsctr-archive-reader-test-')));
after(() => fs.rmSync(base, { recursive: true, force: true }));

function file(data: Buffer): string {
  const f = path.join(base, `a${n++}.tar`);
  fs.writeFileSync(f, data);
  return f;
}
const open = (data: Buffer) => ArchiveReader.open(file(data), 'test.tar');
const hex = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');

async function collect(src: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of src) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

test('compression is told by the first bytes; gzip is undone, xz refused with advice', async () => {
  assert.equal(sniffCompression(Buffer.from([0x1f, 0x8b, 8])), 'gzip');
  assert.equal(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(sniffCompression(Buffer.from('ustar')), 'none');
  const data = crypto.randomBytes(20_000);
  assert.ok((await collect(decompressed(chunked(zlib.gzipSync(data), 3), 'x'))).equals(data));
  assert.ok((await collect(decompressed(chunked(data, 2), 'x'))).equals(data));
  assert.ok((await collect(decompressed(chunked(Buffer.alloc(0)), 'x'))).equals(Buffer.alloc(0)));
  await assert.rejects(collect(decompressed(chunked(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0, 1])), 'x')), /compressed with xz/);
  const corrupt = zlib.gzipSync(data);
  corrupt[corrupt.length >> 1]! ^= 0xff;
  await assert.rejects(collect(decompressed(chunked(corrupt), 'blob')), (e: Error) => e instanceof ArchiveError && /blob: its gzip data is corrupt/.test(e.message));
});

test('members are found through symlinks and hard links, which never leave the archive', async () => {
  const arc = await open(
    tarOf(
      entry({ name: './data/real.tar' }, 'layer bytes'),
      entry({ name: 'l1/layer.tar', type: '2', linkname: '../data/real.tar' }),
      entry({ name: 'l2', type: '2', linkname: '/l1' }),
      entry({ name: 'hard', type: '1', linkname: 'data/real.tar' }),
      entry({ name: 'out', type: '2', linkname: '../../../../etc/passwd' }),
      entry({ name: 'loop', type: '2', linkname: 'loop' }),
    ),
  );
  for (const name of ['data/real.tar', 'l1/layer.tar', 'l2/layer.tar', 'hard', 'data/../data/real.tar']) {
    assert.equal(arc.find(name)?.name, 'data/real.tar', name);
  }
  // `..` and absolute targets stop at the archive's root: this is etc/passwd of the archive, which it lacks.
  assert.equal(arc.find('out'), undefined);
  assert.throws(() => arc.find('loop'), /too many levels/);
  assert.throws(() => arc.member('nothing'), /test.tar has no nothing/);
});

test('a member named outside the archive makes it unreadable', async () => {
  await assert.rejects(open(tarOf(entry({ name: '../evil' }, 'x'))), /points outside the archive/);
  await assert.rejects(open(tarOf(entry({ name: 'a', type: '1', linkname: '../../x' }))), /points outside the archive/);
});

test('only small JSON-looking members are kept in memory; others are streamed in the second pass', async () => {
  const big = crypto.randomBytes(5 * 1024 * 1024);
  const arc = await open(
    tarOf(
      entry({ name: 'manifest.json' }, ' [1, 2]'),
      entry({ name: 'blobs/sha256/aa' }, '{"a":1}'),
      entry({ name: 'layer.tar' }, 'not json'),
      entry({ name: 'big.tar' }, big),
    ),
  );
  assert.deepEqual(arc.json('manifest.json'), [1, 2]);
  assert.deepEqual(arc.json('blobs/sha256/aa'), { a: 1 });
  assert.throws(() => arc.bytes('layer.tar'), /not a metadata document/);
  const got = new Map<string, Buffer>();
  const consume = async (body: AsyncIterable<Buffer>, m: { name: string }) => void got.set(m.name, await collect(body));
  await arc.stream(new Map([[arc.member('big.tar').index, consume], [arc.member('layer.tar').index, consume]]));
  assert.ok(got.get('big.tar')!.equals(big));
  assert.equal(got.get('layer.tar')!.toString(), 'not json');
});

test('a gzip-compressed archive reads the same; a truncated or empty one is refused', async () => {
  const tar = tarOf(entry({ name: 'manifest.json' }, '[]'), entry({ name: 'x' }, 'y'.repeat(3000)));
  assert.deepEqual((await open(zlib.gzipSync(tar))).json('manifest.json'), []);
  await assert.rejects(open(tar.subarray(0, 1500)), /test.tar is not a valid archive: unexpected end of archive/);
  await assert.rejects(open(Buffer.alloc(1024)), /test.tar is empty/);
});

/** A docker-archive of one image, one layer. */
function dockerArchive(o: { layer?: Buffer; config?: object; configName?: string; manifest?: unknown } = {}) {
  const layer = o.layer ?? tarOf(entry({ name: 'hello' }, 'world'));
  const config = JSON.stringify(o.config ?? { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${hex(layer)}`] } });
  const configName = o.configName ?? `${hex(config)}.json`;
  const manifest = o.manifest ?? [{ Config: configName, RepoTags: ['busybox:latest'], Layers: ['l/layer.tar'] }];
  return tarOf(entry({ name: 'manifest.json' }, JSON.stringify(manifest)), entry({ name: configName }, config), entry({ name: 'l/layer.tar' }, layer));
}

test('a docker-archive is planned with full tag names, its config checked against its name', async () => {
  const [img] = planDockerArchive(await open(dockerArchive()));
  assert.deepEqual(img!.tags, ['docker.io/library/busybox:latest']);
  assert.equal(img!.layers[0]!.member.name, 'l/layer.tar');
  assert.equal(img!.id, `sha256:${hex(img!.configBlob)}`);
  const wrongName = await open(dockerArchive({ configName: `${'0'.repeat(64)}.json` }));
  assert.throws(() => planDockerArchive(wrongName), /failed verification/);
});

test('digests that could be paths, mismatched layer counts and bad names are refused', async () => {
  const cases: [Parameters<typeof dockerArchive>[0], RegExp][] = [
    [{ config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['sha256:../../../etc'] } } }, /invalid or unsupported digest/],
    [{ config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${'a'.repeat(64)}`, `sha256:${'b'.repeat(64)}`] } } }, /1 layers but its config lists 2/],
    [{ manifest: [{ Config: 'c.json', RepoTags: ['Not/Valid'], Layers: [] }], configName: 'c.json', config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } } }, /names an image "Not\/Valid"/],
    [{ config: { hello: 1 } }, /not an image config/],
    [{ manifest: {} }, /lists no images/],
    [{ manifest: [{ Config: 'missing.json', Layers: [] }] }, /test.tar has no missing.json/],
  ];
  for (const [o, want] of cases) {
    const arc = await open(dockerArchive(o));
    assert.throws(() => planDockerArchive(arc), (e: Error) => e instanceof ArchiveError && want.test(e.message), String(want));
  }
});

test('an OCI layout is planned from index.json, every blob checked; bare ref.names are only tags', async () => {
  const layer = zlib.gzipSync(tarOf(entry({ name: 'f' }, 'x')));
  const diffId = `sha256:${hex(zlib.gunzipSync(layer))}`;
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${hex(config)}`, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${hex(layer)}`, size: layer.length }],
  });
  const desc = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${hex(manifest)}`, size: manifest.length };
  const layout = (index: object, m = manifest) =>
    tarOf(
      entry({ name: 'oci-layout' }, '{"imageLayoutVersion":"1.0.0"}'),
      entry({ name: 'index.json' }, JSON.stringify(index)),
      entry({ name: `blobs/sha256/${hex(manifest)}` }, m),
      entry({ name: `blobs/sha256/${hex(config)}` }, config),
      entry({ name: `blobs/sha256/${hex(layer)}` }, layer),
    );
  const named = (ref: string) => ({ schemaVersion: 2, manifests: [{ ...desc, annotations: { 'org.opencontainers.image.ref.name': ref } }] });
  const [img] = planOciArchive(await open(layout(named('127.0.0.1:5000/app:v1'))));
  assert.deepEqual(img!.tags, ['127.0.0.1:5000/app:v1']);
  assert.equal(img!.layers[0]!.blobDigest, `sha256:${hex(layer)}`);
  assert.equal(img!.layers[0]!.diffId, diffId);
  assert.deepEqual(planOciArchive(await open(layout(named('latest'))))[0]!.tags, []);
  // Two tags of one image are one image.
  const twice = { schemaVersion: 2, manifests: [named('a:1').manifests[0], named('b:2').manifests[0]] };
  const merged = planOciArchive(await open(layout(twice)));
  assert.equal(merged.length, 1);
  assert.deepEqual(merged[0]!.tags, ['docker.io/library/a:1', 'docker.io/library/b:2']);
  // A manifest that is not what its digest says.
  const tampered = await open(layout(named('a:1'), manifest.replace('"schemaVersion":2', '"schemaVersion":3')));
  assert.throws(() => planOciArchive(tampered), /manifest sha256:[a-f0-9]{64} failed verification/);
});

test('docker 25 archives (an OCI layout with a manifest.json) are read through manifest.json, as docker does', async () => {
  const layer = tarOf(entry({ name: 'f' }, 'x'));
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${hex(layer)}`] } });
  const arc = await open(
    tarOf(
      entry({ name: `blobs/sha256/${hex(layer)}` }, layer),
      entry({ name: `blobs/sha256/${hex(config)}` }, config),
      entry({ name: 'index.json' }, '{"schemaVersion":2,"manifests":[]}'),
      entry({ name: 'manifest.json' }, JSON.stringify([{ Config: `blobs/sha256/${hex(config)}`, RepoTags: ['app:v1'], Layers: [`blobs/sha256/${hex(layer)}`] }])),
      entry({ name: 'oci-layout' }, '{"imageLayoutVersion":"1.0.0"}'),
    ),
  );
  const [img] = planDockerArchive(arc);
  assert.deepEqual(img!.tags, ['docker.io/library/app:v1']);
  assert.equal(img!.id, `sha256:${hex(config)}`);
  assert.equal(img!.layers[0]!.member.name, `blobs/sha256/${hex(layer)}`);
});
