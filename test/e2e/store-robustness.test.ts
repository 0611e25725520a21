/**
 * The store under stress: tampered and malicious registry content, concurrent pulls, a pull killed
 * with SIGKILL, and a corrupt index file.
 */
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Sandbox, REGISTRY, mirrorConf } from '../support/harness.js';
import { entry, tarOf } from '../support/tar.js';

const sha = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

interface Evil {
  manifest: Buffer;
  config: Buffer;
  layer: Buffer;
}

function evilImage(tar: Buffer): Evil {
  const layer = zlib.gzipSync(tar);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [sha(tar)] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
    }),
  );
  return { manifest, config, layer };
}

/**
 * A man in the middle in front of the real registry: it passes everything through, except that it
 * swaps the content of busybox's layer blob, and it serves two hostile images of its own.
 */
function startProxy(): Promise<{ server: http.Server; host: string }> {
  const images: Record<string, Evil> = {
    'evil/traversal': evilImage(tarOf(entry({ name: 'ok.txt' }, 'fine'), entry({ name: '../../escaped.txt' }, 'pwned'))),
    'evil/symlink': evilImage(tarOf(entry({ name: 'link', type: '2', linkname: '/tmp' }), entry({ name: 'link/escaped-through-link.txt' }, 'pwned'))),
  };
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    const m = /^\/v2\/(evil\/[a-z]+)\/(manifests|blobs)\/(.+)$/.exec(url);
    if (m) {
      const img = images[m[1]!]!;
      const blob = m[2] === 'manifests' ? img.manifest : [img.config, img.layer].find((b) => sha(b) === m[3]);
      if (!blob) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': m[2] === 'manifests' ? 'application/vnd.oci.image.manifest.v1+json' : 'application/octet-stream', 'content-length': blob.length });
      return void res.end(blob);
    }
    const upstream = http.request({ host: REGISTRY.split(':')[0], port: Number(REGISTRY.split(':')[1]), path: url, method: req.method, headers: req.headers }, (up) => {
      const isLayer = /\/library\/busybox\/blobs\//.test(url) && Number(up.headers['content-length']) > 100_000;
      if (!isLayer) {
        res.writeHead(up.statusCode!, up.headers);
        return void up.pipe(res);
      }
      // Same length, different bytes: only the digest check can notice.
      const chunks: Buffer[] = [];
      up.on('data', (c) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.concat(chunks);
        body[Math.floor(body.length / 2)]! ^= 0xff;
        res.writeHead(up.statusCode!, up.headers);
        res.end(body);
      });
    });
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, host: `127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

function storeIsEmpty(sb: Sandbox): void {
  assert.deepEqual(fs.readdirSync(path.join(sb.root, 'layers')), [], 'no layer kept');
  assert.deepEqual(fs.readdirSync(path.join(sb.root, 'tmp')), [], 'no temporary files left');
  assert.equal(sb.ok(['images', '-q']), '');
}

describe('untrusted registry content', () => {
  let proxy: { server: http.Server; host: string };
  let sb: Sandbox;
  before(async () => {
    proxy = await startProxy();
    sb = new Sandbox('mitm', `[[registry]]\nlocation = "${proxy.host}"\ninsecure = true\n`);
  });
  after(() => {
    proxy.server.close();
    sb.cleanup();
  });

  // The proxy lives in this process: the pulls must not block its event loop (runAsync, not run).
  test('a tampered layer blob is rejected and nothing of it is kept', async () => {
    const r = await sb.runAsync(['pull', `${proxy.host}/library/busybox`]);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /^Error: .*(failed verification|invalid|incorrect|unexpected)/m);
    storeIsEmpty(sb);
  });

  test('a layer entry that climbs out of the layer with .. is refused', async () => {
    const r = await sb.runAsync(['pull', `${proxy.host}/evil/traversal`]);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /escapes the layer root/);
    assert.equal(fs.existsSync(path.join(sb.root, 'escaped.txt')), false);
    assert.equal(fs.existsSync(path.join(sb.dir, 'escaped.txt')), false);
    storeIsEmpty(sb);
  });

  test('a layer that writes through its own symlink is refused', async () => {
    const r = await sb.runAsync(['pull', `${proxy.host}/evil/symlink`]);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /goes through the symlink "link"/);
    assert.equal(fs.existsSync('/tmp/escaped-through-link.txt'), false);
    storeIsEmpty(sb);
  });
});

describe('concurrency and crashes', () => {
  const sb = new Sandbox('robust', mirrorConf());
  after(() => sb.cleanup());

  test('two concurrent pulls of the same image both succeed and store it once', async () => {
    const [a, b] = await Promise.all([sb.runAsync(['pull', '-q', 'busybox']), sb.runAsync(['pull', '-q', 'busybox'])]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(sb.ok(['images', '-q']).trim().split('\n').length, 1);
    assert.equal(fs.readdirSync(path.join(sb.root, 'layers')).length, 1);
    assert.deepEqual(fs.readdirSync(path.join(sb.root, 'tmp')), []);
  });

  test('a pull killed with SIGKILL leaves a valid store, and the next pull completes', async () => {
    const p = sb.runAsync(['pull', 'debian']);
    // Kill once the download is under way (a temporary layer directory exists).
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && fs.readdirSync(path.join(sb.root, 'tmp')).length === 0) await new Promise((r) => setTimeout(r, 20));
    p.kill('SIGKILL');
    await p;
    await new Promise((r) => setTimeout(r, 300));
    assert.doesNotMatch(sb.ok(['images']), /debian/);
    sb.ok(['pull', '-q', 'debian']);
    assert.match(sb.ok(['images']), /debian\s+latest/);
    assert.deepEqual(fs.readdirSync(path.join(sb.root, 'tmp')), [], 'leftovers of the killed pull were collected');
  });

  test('a corrupt index is a clear error, not a stack trace', () => {
    const file = path.join(sb.root, 'images.json');
    const good = fs.readFileSync(file);
    fs.writeFileSync(file, '{"schemaVersion": 1, "images": {');
    const r = sb.run(['images']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Error: store file .*images\.json is corrupt/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    fs.writeFileSync(file, good);
  });
});
