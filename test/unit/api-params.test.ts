/** The API's query readers and small converters (src/api/http.ts, images.ts, containers.ts), without a server. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { boolParam, filtersParam, intParam } from '../../src/api/http.js';
import { pullReference } from '../../src/api/images.js';
import { frame } from '../../src/api/containers.js';
import { splitVersion, compile, match } from '../../src/api/router.js';
import { ApiError, apiErrorOf } from '../../src/api/errors.js';
import { ConflictError, NotFoundError, TsctrError } from '../../src/errors.js';

const q = (s: string) => new URLSearchParams(s);
const status = (n: number) => (e: unknown) => e instanceof ApiError && e.status === n;

describe('API parameters', () => {
  test('booleans: 1/true/True/yes and 0/false/False/no; absent or empty is the default; anything else a 400', () => {
    for (const v of ['1', 'true', 'True', 'TRUE', 'yes']) assert.equal(boolParam(q(`a=${v}`), 'a'), true, v);
    for (const v of ['0', 'false', 'False', 'no']) assert.equal(boolParam(q(`a=${v}`), 'a', true), false, v);
    assert.equal(boolParam(q(''), 'a', true), true);
    assert.equal(boolParam(q('a='), 'a'), false);
    assert.throws(() => boolParam(q('a=2'), 'a'), status(400));
  });

  test('integers and filters, in both of docker\'s filter encodings', () => {
    assert.equal(intParam(q('t=5'), 't'), 5);
    assert.equal(intParam(q('t='), 't'), undefined);
    assert.throws(() => intParam(q('t=5s'), 't'), status(400));
    const f = filtersParam(q(`filters=${encodeURIComponent(JSON.stringify({ label: { 'a=b': true, c: true, off: false }, status: ['exited'] }))}`));
    assert.deepEqual(f.get('label'), ['a=b', 'c']);
    assert.deepEqual(f.get('status'), ['exited']);
    assert.throws(() => filtersParam(q('filters=[1]')), status(400));
  });

  test('pull references: fromImage with tag, digest, or its own tag', () => {
    assert.equal(pullReference('busybox', 'latest'), 'busybox:latest');
    assert.equal(pullReference('busybox', null), 'busybox');
    assert.equal(pullReference('localhost:5000/x', '1'), 'localhost:5000/x:1');
    assert.equal(pullReference('busybox', 'sha256:abc'), 'busybox@sha256:abc');
    assert.equal(pullReference('busybox:1.36', 'latest'), 'busybox:1.36');
  });

  test("log frames: docker's 8-byte header (stream, 3 zeros, big-endian size)", () => {
    const f = frame('stderr', Buffer.from('hi\n'));
    assert.deepEqual([...f.subarray(0, 8)], [2, 0, 0, 0, 0, 0, 0, 3]);
    assert.equal(f.subarray(8).toString(), 'hi\n');
    assert.equal(frame('stdout', Buffer.alloc(70000))[0], 1);
    assert.equal(frame('stdout', Buffer.alloc(70000)).readUInt32BE(4), 70000);
  });

  test('routes: version prefixes, {name*} across slashes, HEAD falls back to GET, 404 and 405', () => {
    assert.deepEqual(splitVersion('/v1.41/images/json'), { version: '1.41', path: '/images/json' });
    assert.equal(splitVersion('/images/json').path, '/images/json');
    assert.throws(() => splitVersion('/v1.9/x'), status(400));
    const t = compile([
      { method: 'GET', pattern: '/images/json', handle: () => undefined },
      { method: 'GET', pattern: '/images/{name*}/json', handle: () => undefined },
      { method: 'DELETE', pattern: '/images/{name*}', handle: () => undefined },
    ]);
    assert.equal(match(t, 'GET', '/images/json').route.pattern, '/images/json');
    assert.deepEqual(match(t, 'GET', '/images/127.0.0.1:5000/library/busybox:1/json').params, { name: '127.0.0.1:5000/library/busybox:1' });
    assert.deepEqual(match(t, 'DELETE', '/images/a%2Fb').params, { name: 'a/b' });
    assert.equal(match(t, 'HEAD', '/images/json').route.method, 'GET');
    assert.throws(() => match(t, 'POST', '/images/json'), status(405));
    assert.throws(() => match(t, 'GET', '/nothing'), status(404));
  });

  test("the engine's typed errors become docker's status codes", () => {
    assert.equal(apiErrorOf(new NotFoundError('No such container: x')).status, 404);
    assert.equal(apiErrorOf(new ConflictError('in use')).status, 409);
    assert.equal(apiErrorOf(new TsctrError('invalid filter \'x\'')).status, 400);
    assert.equal(apiErrorOf(new TsctrError('network n not found')).status, 404);
    assert.equal(apiErrorOf(new Error('boom')).status, 500);
    assert.equal(apiErrorOf(new ApiError(413, 'big')).status, 413);
  });
});
