/**
 * The API server itself on a real unix socket (src/api/server.ts): routing with version
 * prefixes, docker's error shape for every kind of bad request (never a crash: the server still
 * answers afterwards), the socket's mode, hijacking, and the idle exit.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsctr-api-unit-'));
process.env.TSCTR_ROOT = path.join(dir, 'root');
process.env.TSCTR_RUNROOT = path.join(dir, 'run');
const sock = path.join(dir, 'sock', 'api.sock');

const { serve } = await import('../../src/api/server.js');
const { sendJson } = await import('../../src/api/http.js');
type Service = Awaited<ReturnType<typeof serve>>;
let svc: Service;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(method: string, p: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method, path: p, headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers } }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Raw bytes in, the whole answer out (the server closes after a bad request). */
function raw(bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect(sock);
    let out = '';
    c.on('data', (d) => (out += d));
    c.on('close', () => resolve(out));
    c.on('error', () => resolve(out));
    c.end(bytes);
  });
}

const message = (r: Reply) => (JSON.parse(r.body) as { message: string }).message;

before(async () => {
  svc = await serve({
    socketPath: sock,
    idleMs: 0,
    routes: [
      {
        method: 'POST',
        pattern: '/test/echo',
        hijack: (ctx, hijack) => {
          if (ctx.query.get('fail')) return sendJson(ctx, 409, { message: 'refused before hijack' });
          const { input, output } = hijack();
          input.on('data', (d: Buffer) => output.write(Buffer.from(d.toString().toUpperCase())));
          input.on('end', () => output.end());
        },
      },
    ],
  });
});
after(() => {
  svc.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('API server', () => {
  test('the socket is 0600 in a 0700 directory', () => {
    assert.equal(fs.statSync(sock).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(sock)).mode & 0o777, 0o700);
  });

  test('_ping (GET and HEAD) with Api-Version, Docker-Experimental and OSType; version with and without a prefix', async () => {
    const g = await request('GET', '/_ping');
    assert.equal(g.status, 200);
    assert.equal(g.body, 'OK');
    const h = await request('HEAD', '/v1.41/_ping');
    assert.equal(h.status, 200);
    assert.equal(h.headers['api-version'], '1.41');
    assert.equal(h.headers['docker-experimental'], 'false');
    assert.equal(h.headers['ostype'], 'linux');
    for (const p of ['/version', '/v1.24/version', '/v1.43/version']) {
      const v = await request('GET', p);
      assert.equal(v.status, 200, p);
      assert.equal(JSON.parse(v.body).ApiVersion, '1.41');
    }
  });

  test('versions outside 1.24–1.43, unknown paths, wrong methods: 400, 404, 405 with {"message"}', async () => {
    const old = await request('GET', '/v1.12/version');
    assert.equal(old.status, 400);
    assert.match(message(old), /too old/);
    const neu = await request('GET', '/v1.44/version');
    assert.equal(neu.status, 400);
    assert.match(message(neu), /too new/);
    const unknown = await request('GET', '/v1.41/nothing/here');
    assert.equal(unknown.status, 404);
    assert.equal(message(unknown), 'page not found');
    const wrong = await request('DELETE', '/version');
    assert.equal(wrong.status, 405);
    assert.match(message(wrong), /not allowed/);
    assert.equal((await request('GET', '/v1.41/containers/%zz/json')).status, 400);
  });

  test('bad JSON is a 400, a body over the cap a 413 (declared or streamed), garbage query values 400s', async () => {
    const bad = await request('POST', '/v1.41/containers/create', '{"Image": "busybox",');
    assert.equal(bad.status, 400);
    assert.match(message(bad), /invalid JSON/);
    assert.equal((await request('POST', '/v1.41/containers/create', '[1,2]')).status, 400);
    assert.equal((await request('POST', '/v1.41/containers/create', '"busybox"')).status, 400);
    const huge = Buffer.alloc(5 * 1024 * 1024, 0x20);
    const big = await request('POST', '/v1.41/containers/create', huge);
    assert.equal(big.status, 413);
    const chunked = await raw(`POST /v1.41/networks/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${'500000\r\n' + ' '.repeat(0x500000) + '\r\n0\r\n\r\n'}`);
    assert.match(chunked, /^HTTP\/1.1 413/);
    const all = await request('GET', '/v1.41/containers/json?all=maybe');
    assert.equal(all.status, 400);
    assert.match(message(all), /invalid boolean/);
    assert.equal((await request('GET', '/v1.41/containers/json?filters=%7Bnot-json')).status, 400);
    assert.equal((await request('GET', '/v1.41/containers/json?filters=%7B%22label%22%3A5%7D')).status, 400);
    assert.equal((await request('GET', '/v1.41/containers/json?limit=ten')).status, 400);
  });

  test('booleans as docker reads them: 1, true, True, False, 0', async () => {
    for (const v of ['1', 'true', 'True', 'False', '0', 'false']) {
      assert.equal((await request('GET', `/v1.41/containers/json?all=${v}`)).status, 200, v);
    }
  });

  test('objects that are not there: containers, images, volumes, networks, plugins all 404 with a message', async () => {
    for (const p of ['/containers/nope/json', '/images/nope:1/json', '/volumes/nope', '/networks/nope', '/plugins/nope/json', '/exec/nope/json']) {
      const r = await request('GET', `/v1.41${p}`);
      assert.equal(r.status, 404, p);
      assert.ok(message(r).length > 0, p);
    }
    const create = await request('POST', '/v1.41/containers/create?name=x', JSON.stringify({ Image: 'not-pulled:1' }));
    assert.equal(create.status, 404);
    assert.match(message(create), /No such image: not-pulled:1/);
  });

  test('malformed HTTP gets a 400, and the server keeps serving', async () => {
    assert.match(await raw('THIS IS NOT HTTP\r\n\r\n'), /^HTTP\/1.1 400/);
    assert.match(await raw('GET /_ping HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n'), /^HTTP\/1.1 400/);
    assert.equal((await request('GET', '/_ping')).status, 200);
  });

  test('a hijack handler: answers normally before hijack(), owns the upgraded connection after', async () => {
    const refused = await request('POST', '/v1.41/test/echo?fail=1', undefined, { Connection: 'Upgrade', Upgrade: 'tcp' });
    assert.equal(refused.status, 409);
    const out = await raw('POST /v1.41/test/echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\nhello');
    assert.match(out, /^HTTP\/1.1 101 UPGRADED\r\n/);
    assert.match(out, /Content-Type: application\/vnd.docker.raw-stream/);
    assert.ok(out.endsWith('\r\n\r\nHELLO'), out);
  });

  test('idle timeout: a service with nothing to do exits and removes its socket; a second one on a live socket is refused', async () => {
    const p2 = path.join(dir, 'sock', 'idle.sock');
    const s2 = await serve({ socketPath: p2, idleMs: 300 });
    await assert.rejects(serve({ socketPath: p2, idleMs: 0 }), /already listening/);
    const t0 = Date.now();
    await s2.done;
    assert.ok(Date.now() - t0 >= 250);
    assert.equal(fs.existsSync(p2), false);
  });
});
