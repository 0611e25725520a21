/**
 * push end to end, against the fixture registries (plain, basic auth, token auth), as the
 * unprivileged test user: what is skipped, mounted and uploaded, the manifest the registry ends
 * up with, and that what was pushed pulls into a clean store and runs. Every run pushes under a
 * fresh pushtest-<random> namespace, so runs never see each other's blobs.
 */
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import zlib from 'node:zlib';
import { entry as tarEntry, tarOf } from '../support/tar.js';
import { Sandbox, inspectJson, mirrorConf, REGISTRY, AUTH_REGISTRY, AUTH_USER, AUTH_PASS, TOKEN_REGISTRY } from '../support/harness.js';

const NS = `pushtest-${crypto.randomBytes(4).toString('hex')}`;
const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

interface Manifest {
  mediaType?: string;
  config: { digest: string; size: number };
  layers: { digest: string; size: number; mediaType: string }[];
  manifests?: { digest: string; platform?: { architecture: string } }[];
}

const sha256 = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

/** A manifest straight from the plain registry, with the digest of its bytes. */
async function registryManifest(repo: string, ref: string): Promise<{ digest: string; size: number; manifest: Manifest; mediaType: string }> {
  const res = await fetch(`http://${REGISTRY}/v2/${repo}/manifests/${ref}`, { headers: { accept: MANIFEST_ACCEPT } });
  assert.equal(res.status, 200, `GET manifest ${repo}:${ref}`);
  const body = Buffer.from(await res.arrayBuffer());
  return { digest: sha256(body), size: body.length, manifest: JSON.parse(body.toString('utf8')) as Manifest, mediaType: res.headers.get('content-type') ?? '' };
}

function pushed(out: string, tag: string): { digest: string; size: number } {
  const m = new RegExp(`^${tag.replace(/\./g, '\\.')}: digest: (sha256:[a-f0-9]{64}) size: (\\d+)$`, 'm').exec(out);
  assert.ok(m, `no digest line for ${tag} in:\n${out}`);
  return { digest: m[1]!, size: Number(m[2]) };
}

const count = (out: string, re: RegExp) => out.split('\n').filter((l) => re.test(l)).length;
const short = (diffId: string) => diffId.slice(7, 19);

/** Pulls `image` into a store of its own and runs `cmd` in it. */
function pullAndRun(name: string, image: string, cmd: string[], setup?: (sb: Sandbox) => void): string {
  const sb = new Sandbox(name);
  try {
    setup?.(sb);
    sb.ok(['pull', '-q', image]);
    return sb.ok(['run', '--rm', image, ...cmd]);
  } finally {
    sb.cleanup();
  }
}

describe('push', () => {
  const sb = new Sandbox('push');
  after(() => sb.cleanup());

  test('an unknown image, a bad destination, a digest destination: one Error line, exit 125', () => {
    const cases: [string[], RegExp][] = [
      [['push', 'nosuch', `${REGISTRY}/${NS}/x`], /^Error: No such image: nosuch$/],
      [['push', 'busybox', `${REGISTRY}/${NS}/Bad`], /^Error: invalid reference format: repository name \(.*Bad\) must be lowercase$/],
    ];
    for (const [args, re] of cases) {
      const r = sb.run(args);
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr.trim(), re);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
    sb.ok(['pull', '-q', 'multi']);
    const digest = sb.run(['push', 'multi', `${REGISTRY}/${NS}/x@sha256:${'0'.repeat(64)}`]);
    assert.equal(digest.code, 125);
    assert.match(digest.stderr, /^Error: cannot push to a digest reference/);
    const byId = sb.run(['push', inspectJson<{ Id: string }>(sb, 'multi').Id.slice(7, 19)]);
    assert.equal(byId.code, 125);
    assert.match(byId.stderr, /does not name a tag of the image: say where to push it/);
  });

  test('multi to the plain registry: its blobs are mounted from the mirror repository, its own manifest kept', async () => {
    const out = sb.ok(['push', 'multi', `${REGISTRY}/${NS}/multi:v1`]);
    assert.match(out, new RegExp(`^The push refers to repository \\[${REGISTRY}/${NS}/multi\\]$`, 'm'));
    const layers = inspectJson<{ RootFS: { Layers: string[] } }>(sb, 'multi').RootFS.Layers;
    for (const l of layers) assert.match(out, new RegExp(`^${short(l)}: Mounted from library/multi$`, 'm'));
    const { digest, size } = pushed(out, 'v1');

    // The amd64 manifest of multi's index, byte for byte: pushing did not change the image's digest.
    const index = await registryManifest('library/multi', 'latest');
    const amd64 = index.manifest.manifests!.find((m) => m.platform?.architecture === 'amd64')!;
    assert.equal(digest, amd64.digest);
    const there = await registryManifest(`${NS}/multi`, 'v1');
    assert.equal(there.digest, digest);
    assert.equal(there.size, size);
    const repoDigests = inspectJson<{ RepoDigests: string[] }>(sb, 'multi').RepoDigests;
    assert.ok(repoDigests.includes(`${REGISTRY}/${NS}/multi@${digest}`), repoDigests.join(' '));
  });

  test('pushing the same image again: every layer already exists, the same digest', () => {
    const first = pushed(sb.ok(['push', 'multi', `${REGISTRY}/${NS}/multi:v1`]), 'v1');
    const out = sb.ok(['push', 'multi', `${REGISTRY}/${NS}/multi:v1`]);
    assert.match(out, /: Layer already exists$/m);
    assert.doesNotMatch(out, /Pushed|Mounted/);
    assert.equal(pushed(out, 'v1').digest, first.digest);
    assert.equal(sb.ok(['push', '-q', 'multi', `${REGISTRY}/${NS}/multi:v1`]).trim(), `${REGISTRY}/${NS}/multi:v1`);
  });

  test('what was pushed pulls into a clean store and runs', () => {
    const out = pullAndRun('push-pull', `${REGISTRY}/${NS}/multi:v1`, ['sh', '-c', 'echo pushed-and-pulled; cat /etc/passwd | head -1']);
    assert.equal(out, 'pushed-and-pulled\nroot:x:0:0:root:/root:/bin/sh\n');
  });

  test('basic-auth registry: refused without login; after login the layers are compressed here and uploaded; it pulls back and runs', () => {
    const dest = `${AUTH_REGISTRY}/${NS}/multi:v1`;
    const denied = sb.run(['push', 'multi', dest]);
    assert.equal(denied.code, 125, denied.stderr);
    assert.match(denied.stderr, new RegExp(`^Error: .*access denied \\(401\\).*tsctr login ${AUTH_REGISTRY}`));
    assert.equal(denied.stderr.trim().split('\n').length, 1);

    sb.ok(['login', '-u', AUTH_USER, '--password-stdin', AUTH_REGISTRY], { input: `${AUTH_PASS}\n` });
    const out = sb.ok(['push', 'multi', dest]);
    assert.match(out, /: Pushed$/m);
    const { digest } = pushed(out, 'v1');
    const run = pullAndRun('push-basic', dest, ['echo', 'from-basic-auth'], (clean) =>
      clean.ok(['login', '-u', AUTH_USER, '--password-stdin', AUTH_REGISTRY], { input: `${AUTH_PASS}\n` }),
    );
    assert.equal(run, 'from-basic-auth\n');

    // Compressed the same way every time, and remembered: another repository gets the blobs by mount, same digest.
    const again = sb.ok(['push', 'multi', `${AUTH_REGISTRY}/${NS}/copy:v1`]);
    assert.match(again, new RegExp(`: Mounted from ${NS}/multi$`, 'm'));
    assert.equal(pushed(again, 'v1').digest, digest);
  });

  test('token registry: anonymous and wrong-password pushes fail clearly; after login it pushes and pulls back', () => {
    const dest = `${TOKEN_REGISTRY}/${NS}/multi:v1`;
    const anon = sb.run(['push', 'multi', dest]);
    assert.equal(anon.code, 125, anon.stderr);
    assert.match(anon.stderr, new RegExp(`^Error: .*access denied.*tsctr login ${TOKEN_REGISTRY}`));
    assert.equal(anon.stderr.trim().split('\n').length, 1);

    const authFile = sb.env.REGISTRY_AUTH_FILE!;
    fs.writeFileSync(authFile, JSON.stringify({ auths: { [TOKEN_REGISTRY]: { auth: Buffer.from(`${AUTH_USER}:wrong`).toString('base64') } } }));
    const wrong = sb.run(['push', 'multi', dest]);
    assert.equal(wrong.code, 125, wrong.stderr);
    assert.match(wrong.stderr, /^Error: unable to get a token from .*: invalid username\/password$/m);
    assert.equal(wrong.stderr.trim().split('\n').length, 1);
    fs.rmSync(authFile);

    sb.ok(['login', '-u', AUTH_USER, '-p', AUTH_PASS, TOKEN_REGISTRY]);
    pushed(sb.ok(['push', 'multi', dest]), 'v1');
    const run = pullAndRun('push-token', dest, ['echo', 'from-token-auth'], (clean) => clean.ok(['login', '-u', AUTH_USER, '-p', AUTH_PASS, TOKEN_REGISTRY]));
    assert.equal(run, 'from-token-auth\n');
  });
});

/**
 * Strips what a pulled image knows about its compressed blobs, leaving it as `commit` or `build`
 * make images: no manifest, no repo digests, layers without compressed digests.
 */
function forgetCompressedBlobs(sb: Sandbox, image: string): void {
  const id = inspectJson<{ Id: string }>(sb, image).Id;
  const file = path.join(sb.root, 'images.json');
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    images: Record<string, { manifestDigest: string; repoDigests: string[]; layers: string[] }>;
    layers: Record<string, Record<string, unknown>>;
  };
  const img = doc.images[id]!;
  img.manifestDigest = '';
  img.repoDigests = [];
  for (const d of img.layers) {
    for (const k of ['compressedDigest', 'compressedSize', 'compressedMediaType', 'gzipDigest', 'gzipSize']) delete doc.layers[d]![k];
  }
  fs.writeFileSync(file, JSON.stringify(doc));
}

describe('push of an image with no compressed blobs known (made locally)', () => {
  const sb = new Sandbox('push-local');
  after(() => sb.cleanup());

  test('its layers are rebuilt, compressed and uploaded as a new docker schema2 image that pulls back and runs', async () => {
    sb.ok(['pull', '-q', 'busybox']);
    forgetCompressedBlobs(sb, 'busybox');
    const out = sb.ok(['push', 'busybox', `${REGISTRY}/${NS}/local:v1`]);
    assert.match(out, /: Pushed$/m);
    const { digest } = pushed(out, 'v1');
    const there = await registryManifest(`${NS}/local`, 'v1');
    assert.equal(there.digest, digest);
    assert.equal(there.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.deepEqual(
      there.manifest.layers.map((l) => l.mediaType),
      ['application/vnd.docker.image.rootfs.diff.tar.gzip'],
    );
    assert.equal(there.manifest.config.digest, inspectJson<{ Id: string }>(sb, 'busybox').Id);
    assert.equal(pullAndRun('push-local-pull', `${REGISTRY}/${NS}/local:v1`, ['echo', 'local-ok']), 'local-ok\n');
  });

  test('the compressed digest is remembered: the next push mounts it from where it went, without compressing again', () => {
    const out = sb.ok(['push', 'busybox', `${REGISTRY}/${NS}/local2:v1`]);
    assert.match(out, new RegExp(`: Mounted from ${NS}/local$`, 'm'));
  });

  test('another store compresses the same layer to the same blob (fixed gzip settings)', () => {
    const other = new Sandbox('push-local-2');
    try {
      other.ok(['pull', '-q', 'busybox']);
      forgetCompressedBlobs(other, 'busybox');
      const a = pushed(sb.ok(['push', 'busybox', `${REGISTRY}/${NS}/local:v1`]), 'v1');
      const out = other.ok(['push', 'busybox', `${REGISTRY}/${NS}/local3:v1`]);
      assert.match(out, /: Pushed$/m);
      assert.equal(pushed(out, 'v1').digest, a.digest);
    } finally {
      other.cleanup();
    }
  });
});

/** A TCP proxy to the plain registry that counts what clients send: the bytes a push uploads. */
async function countingProxy(): Promise<{ port: number; sent: () => number; reset: () => void; close: () => Promise<void> }> {
  const [host, port] = [REGISTRY.slice(0, REGISTRY.lastIndexOf(':')), Number(REGISTRY.slice(REGISTRY.lastIndexOf(':') + 1))];
  let bytes = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    sockets.add(client).add(upstream);
    client.on('data', (d: Buffer) => (bytes += d.length));
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    sent: () => bytes,
    reset: () => (bytes = 0),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

function tool(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.error ?? ''}`);
}

/**
 * In an OCI layout, tags `to` as `from` plus one gzip layer holding `files` (under /v11): a new
 * config (one more diff_id and history entry) and manifest; the old layers' blobs stay as they are.
 */
function addLayer(layout: string, from: string, to: string, files: Record<string, Buffer>): void {
  const blob = (d: string) => path.join(layout, 'blobs', 'sha256', d.slice(7));
  const put = (data: Buffer) => {
    const d = sha256(data);
    fs.writeFileSync(blob(d), data);
    return { digest: d, size: data.length };
  };
  const indexFile = path.join(layout, 'index.json');
  const index = JSON.parse(fs.readFileSync(indexFile, 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === from)!;
  const manifest = JSON.parse(fs.readFileSync(blob(entry.digest), 'utf8')) as Manifest & { config: { mediaType: string } };
  const config = JSON.parse(fs.readFileSync(blob(manifest.config.digest), 'utf8')) as { rootfs: { diff_ids: string[] }; history?: object[] };

  const tar = tarOf(tarEntry({ name: 'v11/', type: '5' }), ...Object.entries(files).map(([name, data]) => tarEntry({ name: `v11/${name}` }, data)));
  const layer = put(zlib.gzipSync(tar));
  config.rootfs.diff_ids.push(sha256(tar));
  config.history?.push({ created: new Date().toISOString(), created_by: 'tsctr push test: v1.1' });
  const cfg = put(Buffer.from(JSON.stringify(config)));
  manifest.config = { ...manifest.config, ...cfg };
  manifest.layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer });
  const m = put(Buffer.from(JSON.stringify(manifest)));
  index.manifests.push({ ...entry, ...m, annotations: { 'org.opencontainers.image.ref.name': to } });
  fs.writeFileSync(indexFile, JSON.stringify(index));
}

describe('pushing v1.1 = v1 + one layer uploads only the new layer', () => {
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let sb: Sandbox;
  let work: string;
  const base = `${REGISTRY}/${NS}/base:v1.1`;
  const NEW_LAYER_BYTES = 150_000;

  before(async () => {
    proxy = await countingProxy();
    sb = new Sandbox('push-count', mirrorConf(`\n[[registry]]\nlocation = "127.0.0.1:${proxy.port}"\ninsecure = true\n`));
    // v1 is the whiteout fixture (three layers); v1.1 adds one layer of incompressible bytes. tsctr
    // has no commit yet, so v1.1 is made in an OCI layout copied out by skopeo (umoci 0.4.7 writes
    // layer tars without their end marker) and put on the registry under base:v1.1.
    work = fs.mkdtempSync(path.join(sb.dir, 'oci-'));
    tool('skopeo', ['--insecure-policy', 'copy', '-q', '--src-tls-verify=false', `docker://${REGISTRY}/library/whiteout:latest`, 'oci:layout:v1'], work);
    addLayer(path.join(work, 'layout'), 'v1', 'v1.1', { version: Buffer.from('v1.1\n'), noise: crypto.randomBytes(NEW_LAYER_BYTES) });
    tool('skopeo', ['--insecure-policy', 'copy', '-q', '--dest-tls-verify=false', 'oci:layout:v1.1', `docker://${base}`], work);
  });
  after(async () => {
    await proxy?.close();
    sb?.cleanup();
  });

  test('v1 goes up whole; v1.1 sends little more than its new layer, its three others already exist', async (t) => {
    sb.ok(['pull', '-q', 'whiteout']);
    sb.ok(['pull', '-q', base]);
    const v1Layers = inspectJson<{ RootFS: { Layers: string[] } }>(sb, 'whiteout').RootFS.Layers;
    const v11Layers = inspectJson<{ RootFS: { Layers: string[] } }>(sb, base).RootFS.Layers;
    assert.equal(v1Layers.length, 3);
    assert.deepEqual(v11Layers.slice(0, 3), v1Layers);
    const dest = `127.0.0.1:${proxy.port}/${NS}/app`;

    // The proxy lives in this process: the pushes must not block its event loop (no spawnSync).
    proxy.reset();
    const first = await sb.runAsync(['push', 'whiteout', `${dest}:v1`]);
    assert.equal(first.code, 0, first.stderr);
    const firstBytes = proxy.sent();
    const v1 = await registryManifest(`${NS}/app`, 'v1');
    const v1Size = v1.manifest.layers.reduce((n, l) => n + l.size, 0);
    assert.ok(firstBytes > v1Size, `first push sent ${firstBytes} bytes for ${v1Size} bytes of layers`);

    proxy.reset();
    const second = await sb.runAsync(['push', base, `${dest}:v1.1`]);
    assert.equal(second.code, 0, second.stderr);
    const secondBytes = proxy.sent();
    for (const l of v1Layers) assert.match(second.stdout, new RegExp(`^${short(l)}: Layer already exists$`, 'm'));
    assert.match(second.stdout, new RegExp(`^${short(v11Layers[3]!)}: Pushed$`, 'm'));
    assert.equal(count(second.stdout, /: Pushed$/), 1);

    const v11 = await registryManifest(`${NS}/app`, 'v1.1');
    assert.equal(pushed(second.stdout, 'v1.1').digest, v11.digest);
    const newLayer = v11.manifest.layers[3]!.size;
    t.diagnostic(`v1: ${firstBytes} bytes sent for ${v1Size} bytes of layers; v1.1: ${secondBytes} bytes sent, new layer ${newLayer}`);
    assert.ok(newLayer > NEW_LAYER_BYTES, `new layer ${newLayer}`);
    // The new layer, the config and the manifest, plus HTTP requests' headers.
    assert.ok(secondBytes > newLayer, `second push sent ${secondBytes} bytes, less than its new layer (${newLayer})`);
    assert.ok(secondBytes < newLayer + 24 * 1024, `second push sent ${secondBytes} bytes for a ${newLayer}-byte new layer`);
    assert.ok(secondBytes < firstBytes / 4, `second push ${secondBytes} bytes, first ${firstBytes}`);

    const run = pullAndRun('push-count-pull', `${REGISTRY}/${NS}/app:v1.1`, ['sh', '-c', 'cat /v11/version; cat /keep/k; ls /opq']);
    assert.equal(run, 'v1.1\nk\nc\n');
  });
});
