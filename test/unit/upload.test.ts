/**
 * The push protocol (src/registry/upload.ts) against a small in-process registry that can be made
 * to behave like the different registries out there: relative or absolute Location headers with
 * their own query, a body-size limit (as an nginx in front would impose), no PATCH at all, token
 * auth. The real registries are exercised by test/e2e/push.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { RegistryClient } from '../../src/registry/client.js';
import { blobExists, mountBlob, putManifest, uploadBlob, withQuery } from '../../src/registry/upload.js';

const digestOf = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

interface Behaviour {
  absoluteLocation?: boolean;
  /** PATCH bodies above this many bytes get 413. */
  maxBody?: number;
  noPatch?: boolean;
  minChunk?: number;
  /** Bearer auth with a token endpoint on the same server. */
  token?: boolean;
}

class FakeRegistry {
  blobs = new Map<string, Map<string, Buffer>>(); // repo -> digest -> bytes
  manifests = new Map<string, Buffer>();
  sessions = new Map<string, { repo: string; data: Buffer[]; offset: number }>();
  log: string[] = [];
  tokenScopes: string[][] = [];
  patches: number[] = [];
  server: http.Server;
  port = 0;

  constructor(readonly b: Behaviour = {}) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks)));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return `127.0.0.1:${this.port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  has(repo: string, digest: string): Buffer | undefined {
    return this.blobs.get(repo)?.get(digest);
  }

  put(repo: string, data: Buffer): string {
    const d = digestOf(data);
    if (!this.blobs.has(repo)) this.blobs.set(repo, new Map());
    this.blobs.get(repo)!.set(d, data);
    return d;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
    const url = new URL(req.url!, `http://${req.headers.host}`);
    this.log.push(`${req.method} ${url.pathname}${url.search}`);
    const send = (code: number, headers: Record<string, string> = {}, text = '') => {
      res.writeHead(code, { 'content-length': String(Buffer.byteLength(text)), ...headers });
      res.end(text);
    };
    if (url.pathname === '/token') {
      this.tokenScopes.push(url.searchParams.getAll('scope'));
      return send(200, { 'content-type': 'application/json' }, JSON.stringify({ token: 'tok' }));
    }
    if (this.b.token && req.headers.authorization !== 'Bearer tok') {
      return send(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${this.port}/token",service="fake"` });
    }
    const where = (id: string) => {
      const p = `/v2/upload/${id}?_state=a%2Bb%3D%3D&n=1`;
      return this.b.absoluteLocation ? `http://127.0.0.1:${this.port}${p}` : p;
    };
    let m = /^\/v2\/(.+)\/blobs\/uploads\/$/.exec(url.pathname);
    if (m && req.method === 'POST') {
      const repo = m[1]!;
      const mount = url.searchParams.get('mount');
      const from = url.searchParams.get('from');
      if (mount && from && this.has(from, mount)) {
        this.put(repo, this.has(from, mount)!);
        return send(201, { location: `/v2/${repo}/blobs/${mount}` });
      }
      const id = crypto.randomUUID();
      this.sessions.set(id, { repo, data: [], offset: 0 });
      const extra: Record<string, string> = this.b.minChunk ? { 'oci-chunk-min-length': String(this.b.minChunk) } : {};
      return send(202, { location: where(id), range: '0-0', ...extra });
    }
    m = /^\/v2\/upload\/([^/]+)$/.exec(url.pathname);
    if (m) {
      // The session's own query must come back untouched.
      if (url.searchParams.get('_state') !== 'a+b==' || !url.search.startsWith('?_state=a%2Bb%3D%3D&n=1')) return send(400, {}, 'state mangled');
      const s = this.sessions.get(m[1]!);
      if (!s) return send(404);
      if (req.method === 'DELETE') {
        this.sessions.delete(m[1]!);
        return send(204);
      }
      if (req.method === 'PATCH') {
        if (this.b.noPatch) return send(405);
        if (this.b.maxBody !== undefined && body.length > this.b.maxBody) return send(413);
        if (req.headers['content-type'] !== 'application/octet-stream') return send(400, {}, 'content-type');
        const range = req.headers['content-range'];
        if (range && range !== `${s.offset}-${s.offset + body.length - 1}`) return send(416);
        this.patches.push(body.length);
        s.data.push(body);
        s.offset += body.length;
        return send(202, { location: where(m[1]!), range: `0-${s.offset - 1}` });
      }
      if (req.method === 'PUT') {
        const all = Buffer.concat([...s.data, body]);
        if (digestOf(all) !== url.searchParams.get('digest')) return send(400, {}, '{"errors":[{"code":"DIGEST_INVALID","message":"digest did not match"}]}');
        this.put(s.repo, all);
        this.sessions.delete(m[1]!);
        return send(201, { 'docker-content-digest': digestOf(all) });
      }
    }
    m = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
    if (m && req.method === 'HEAD') return send(this.has(m[1]!, m[2]!) ? 200 : 404);
    m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (m && req.method === 'PUT') {
      this.manifests.set(`${m[1]}:${m[2]}`, body);
      return send(201, { 'docker-content-digest': digestOf(body) });
    }
    send(404);
  }
}

async function withRegistry(b: Behaviour, fn: (reg: FakeRegistry, client: RegistryClient) => Promise<void>, scopes?: string[]): Promise<void> {
  const reg = new FakeRegistry(b);
  const host = await reg.start();
  try {
    await fn(reg, new RegistryClient({ registry: host, repository: 'team/app', insecure: true, actions: 'pull,push', scopes }));
  } finally {
    await reg.stop();
  }
}

function blobFile(size: number): { file: string; data: Buffer; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsctr-upload-'));
  const file = path.join(dir, 'blob');
  const data = crypto.randomBytes(size);
  fs.writeFileSync(file, data);
  return { file, data, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

test('withQuery keeps the Location query as it is', () => {
  assert.equal(withQuery('http://r/u/1', 'digest', 'sha256:ab'), 'http://r/u/1?digest=sha256%3Aab');
  assert.equal(withQuery('http://r/u/1?_state=a%2Bb%3D', 'digest', 'sha256:ab'), 'http://r/u/1?_state=a%2Bb%3D&digest=sha256%3Aab');
  assert.equal(withQuery('http://r/u/1?', 'digest', 'x'), 'http://r/u/1?digest=x');
});

for (const absoluteLocation of [false, true]) {
  test(`a file blob goes up in one streamed PATCH, then PUT ?digest= (${absoluteLocation ? 'absolute' : 'relative'} Location)`, async () => {
    const { file, data, cleanup } = blobFile(300_000);
    try {
      await withRegistry({ absoluteLocation }, async (reg, client) => {
        const digest = digestOf(data);
        assert.equal(await blobExists(client, digest), false);
        let last = 0;
        await uploadBlob(client, digest, { file, size: data.length }, (n) => (last = n));
        assert.deepEqual(reg.has('team/app', digest), data);
        assert.deepEqual(reg.patches, [data.length]);
        assert.equal(last, data.length);
        assert.equal(await blobExists(client, digest), true);
      });
    } finally {
      cleanup();
    }
  });
}

test('a registry that refuses large bodies (413) gets chunks with Content-Range, at least its minimum chunk length', async () => {
  const { file, data, cleanup } = blobFile(2_000_000);
  try {
    await withRegistry({ maxBody: 600_000, minChunk: 300_000 }, async (reg, client) => {
      const digest = digestOf(data);
      await uploadBlob(client, digest, { file, size: data.length });
      assert.deepEqual(reg.has('team/app', digest), data);
      assert.ok(reg.patches.length >= 4, `chunks: ${reg.patches.join(',')}`);
      for (const n of reg.patches.slice(0, -1)) assert.ok(n >= 300_000 && n <= 600_000, `chunk of ${n}`);
    });
  } finally {
    cleanup();
  }
});

test('a registry without PATCH gets a monolithic PUT', async () => {
  const { file, data, cleanup } = blobFile(50_000);
  try {
    await withRegistry({ noPatch: true }, async (reg, client) => {
      const digest = digestOf(data);
      await uploadBlob(client, digest, { file, size: data.length });
      assert.deepEqual(reg.has('team/app', digest), data);
      assert.ok(reg.log.some((l) => l.startsWith('PUT /v2/upload/') && l.includes('digest=')));
    });
  } finally {
    cleanup();
  }
});

test('buffers, empty blobs, and a wrong digest refused with the registry message', async () => {
  await withRegistry({}, async (reg, client) => {
    const config = Buffer.from('{"architecture":"amd64"}');
    await uploadBlob(client, digestOf(config), { buffer: config });
    assert.deepEqual(reg.has('team/app', digestOf(config)), config);
    await uploadBlob(client, digestOf(Buffer.alloc(0)), { buffer: Buffer.alloc(0) });
    assert.ok(reg.has('team/app', digestOf(Buffer.alloc(0))));
    await assert.rejects(uploadBlob(client, digestOf(Buffer.from('other')), { buffer: config }), /digest invalid: digest did not match/);
  });
});

test('a cross-repository mount: 201 when the source has the blob, else the session it opened is cancelled', async () => {
  await withRegistry({}, async (reg, client) => {
    const d = reg.put('library/base', Buffer.from('layer bytes'));
    assert.equal(await mountBlob(client, d, 'library/base'), true);
    assert.ok(reg.has('team/app', d));
    assert.equal(await mountBlob(client, digestOf(Buffer.from('absent')), 'library/base'), false);
    assert.equal(reg.sessions.size, 0);
    assert.ok(reg.log.some((l) => l.startsWith('DELETE /v2/upload/')));
  });
});

test('the token asks for push on the repository and pull on mount sources; the manifest PUT returns its digest', async () => {
  await withRegistry(
    { token: true },
    async (reg, client) => {
      const body = Buffer.from('{"schemaVersion":2}');
      assert.equal(await putManifest(client, 'v1', 'application/vnd.docker.distribution.manifest.v2+json', body), digestOf(body));
      assert.deepEqual(reg.manifests.get('team/app:v1'), body);
      assert.deepEqual(reg.tokenScopes[0], ['repository:team/app:pull,push', 'repository:library/base:pull']);
    },
    ['repository:library/base:pull'],
  );
});
