import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidReferenceError } from '../../src/errors.js';
import { parseReference, formatReference, familiarString, familiarName, fullName, isFullyQualified, withDomain } from '../../src/image/reference.js';

const HEX = 'a'.repeat(64);
const D = `sha256:${HEX}`;

test('normalises like docker (ParseNormalizedNamed + TagNameOnly)', () => {
  const cases: [string, string][] = [
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.25', 'docker.io/library/nginx:1.25'],
    ['nginx:1.25-alpine3.19', 'docker.io/library/nginx:1.25-alpine3.19'],
    ['user/app', 'docker.io/user/app:latest'],
    ['user/team/app:v2', 'docker.io/user/team/app:v2'],
    ['docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['docker.io/library/nginx', 'docker.io/library/nginx:latest'],
    ['index.docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['index.docker.io/user/app', 'docker.io/user/app:latest'],
    ['host:5000/a/b:tag', 'host:5000/a/b:tag'],
    ['localhost/foo', 'localhost/foo:latest'],
    ['localhost:5000/foo', 'localhost:5000/foo:latest'],
    ['127.0.0.1:5000/library/busybox', '127.0.0.1:5000/library/busybox:latest'],
    ['[::1]:5000/img', '[::1]:5000/img:latest'],
    ['quay.io/podman/hello', 'quay.io/podman/hello:latest'],
    ['a.b/c_d/e-f.g__h', 'a.b/c_d/e-f.g__h:latest'],
    ['a.b/x--y---z', 'a.b/x--y---z:latest'],
    ['Registry.Example.COM/app', 'Registry.Example.COM/app:latest'],
    // An uppercase first element cannot be a namespace, so docker takes it for a registry.
    ['UPPER/case', 'UPPER/case:latest'],
    ['foo:5000', 'docker.io/library/foo:5000'],
    ['docker.io', 'docker.io/library/docker.io:latest'],
    [`name@${D}`, `docker.io/library/name@${D}`],
    [`name:tag@${D}`, `docker.io/library/name:tag@${D}`],
    [`quay.io/a/b@sha512:${'b'.repeat(128)}`, `quay.io/a/b@sha512:${'b'.repeat(128)}`],
    ['nginx:TAG_with.Upper-1', 'docker.io/library/nginx:TAG_with.Upper-1'],
  ];
  for (const [input, want] of cases) assert.equal(formatReference(parseReference(input)), want, input);
});

test('parsed fields', () => {
  assert.deepEqual(parseReference('nginx'), { domain: 'docker.io', path: 'library/nginx', tag: 'latest' });
  assert.deepEqual(parseReference('host:5000/a/b:tag'), { domain: 'host:5000', path: 'a/b', tag: 'tag' });
  assert.deepEqual(parseReference(`x@${D}`), { domain: 'docker.io', path: 'library/x', digest: D });
  assert.deepEqual(parseReference(`x:t@${D}`), { domain: 'docker.io', path: 'library/x', tag: 't', digest: D });
  assert.equal(fullName(parseReference('user/app:1')), 'docker.io/user/app');
});

test('defaultTag: false leaves a bare name untagged', () => {
  assert.deepEqual(parseReference('nginx', { defaultTag: false }), { domain: 'docker.io', path: 'library/nginx' });
  assert.equal(parseReference('nginx:1', { defaultTag: false }).tag, '1');
  assert.equal(formatReference(parseReference('quay.io/a', { defaultTag: false })), 'quay.io/a');
  assert.equal(parseReference(`x@${D}`).tag, undefined, 'a digest never gets a default tag');
});

test('familiar forms drop docker.io and library/ (FamiliarName)', () => {
  const cases: [string, string][] = [
    ['docker.io/library/nginx:latest', 'nginx:latest'],
    ['nginx', 'nginx:latest'],
    ['user/app:1', 'user/app:1'],
    ['docker.io/library/a/b', 'library/a/b:latest'],
    ['quay.io/library/x', 'quay.io/library/x:latest'],
    ['127.0.0.1:5000/a/b', '127.0.0.1:5000/a/b:latest'],
    ['localhost/foo', 'localhost/foo:latest'],
    [`nginx@${D}`, `nginx@${D}`],
    [`nginx:1@${D}`, `nginx:1@${D}`],
  ];
  for (const [input, want] of cases) assert.equal(familiarString(parseReference(input)), want, input);
  assert.equal(familiarName(parseReference('user/app')), 'user/app');
  assert.equal(familiarName(parseReference('nginx:1.25')), 'nginx');
  assert.equal(familiarName({ domain: 'docker.io', path: 'library/x' }), 'x');
});

test('invalid references are refused with docker wording', () => {
  const invalidFormat = [
    ':tag',
    'a//b',
    '/a',
    'a/',
    'nginx:',
    'nginx:-x',
    'nginx:.x',
    'nginx@',
    'a b',
    'nginx:a:b',
    '-nginx',
    'nginx-',
    'a..b/c/d-',
    'ab/c_.d',
    'a___b',
    'nginx@sha256:123',
    'nginx@sha256:' + 'g'.repeat(64),
    'nginx:' + 't'.repeat(129),
    'host:port/x',
    'my_host.com/x',
    'host-.com/x',
    '@' + D,
    'x\u00e9',
  ];
  for (const bad of invalidFormat) {
    assert.throws(
      () => parseReference(bad),
      (e: unknown) => e instanceof InvalidReferenceError && e.exitCode === 125 && e.message === 'invalid reference format',
      JSON.stringify(bad),
    );
  }
  assert.throws(() => parseReference(''), { message: 'invalid reference format' });
});

test('uppercase repository names: the message names what docker checked', () => {
  assert.throws(() => parseReference('Nginx'), { message: 'invalid reference format: repository name (library/Nginx) must be lowercase' });
  assert.throws(() => parseReference('Nginx:1.0'), { message: 'invalid reference format: repository name (library/Nginx) must be lowercase' });
  assert.throws(() => parseReference('user/App'), { message: 'invalid reference format: repository name (user/App) must be lowercase' });
  assert.throws(() => parseReference('quay.io/Org/app'), { message: 'invalid reference format: repository name (Org/app) must be lowercase' });
  assert.throws(() => parseReference('localhost:5000/Foo:tag'), /repository name \(Foo\) must be lowercase/);
  assert.throws(() => parseReference('Nginx'), InvalidReferenceError);
});

test('digest checks are go-digest\'s', () => {
  assert.throws(() => parseReference(`x@sha256:${'a'.repeat(63)}b0`), { message: 'invalid checksum digest length' });
  assert.throws(() => parseReference(`x@sha256:${'A'.repeat(64)}`), { message: 'invalid checksum digest format' });
  assert.throws(() => parseReference(`x@md5:${'a'.repeat(32)}`), { message: 'unsupported digest algorithm' });
  // Docker checks case up to the first colon, which here is inside the digest.
  assert.throws(() => parseReference(`x@SHA256:${'a'.repeat(64)}`), { message: 'invalid reference format: repository name (library/x@SHA256) must be lowercase' });
  assert.throws(() => parseReference(`quay.io/x@blake3:${'a'.repeat(64)}`), { message: 'unsupported digest algorithm' });
  assert.throws(() => parseReference(`x@sha512:${HEX}`), { message: 'invalid checksum digest length' });
  assert.doesNotThrow(() => parseReference(`x@sha384:${'c'.repeat(96)}`));
});

test('repository paths are limited to 255 characters', () => {
  const path255 = `a/${'b'.repeat(253)}`;
  assert.equal(parseReference(path255).path, path255);
  assert.throws(() => parseReference(`${path255}b`), { message: 'repository name must not be more than 255 characters' });
  // library/ counts: docker measures the normalised path.
  assert.throws(() => parseReference('x'.repeat(250)), /must not be more than 255 characters/);
  assert.doesNotThrow(() => parseReference('x'.repeat(247)));
});

test('isFullyQualified: did the user name a registry?', () => {
  const yes = ['quay.io/x', 'localhost/x', 'localhost:5000/x', 'host:5000/a/b', '127.0.0.1/x', 'docker.io/nginx', 'Registry/x', '[::1]:5000/x'];
  const no = ['nginx', 'nginx:1.25', 'user/app', 'user/app:tag', `nginx@${D}`, 'library/nginx', 'localhost', 'quay.io'];
  for (const s of yes) assert.equal(isFullyQualified(s), true, s);
  for (const s of no) assert.equal(isFullyQualified(s), false, s);
});

test('withDomain re-homes short names; library/ only belongs to docker.io', () => {
  const rehome = (input: string, domain: string) => formatReference(withDomain(parseReference(input), domain));
  assert.equal(rehome('nginx', 'quay.io'), 'quay.io/nginx:latest');
  assert.equal(rehome('nginx:1', 'registry.fedoraproject.org'), 'registry.fedoraproject.org/nginx:1');
  assert.equal(rehome('nginx', 'docker.io'), 'docker.io/library/nginx:latest');
  assert.equal(rehome('user/app', 'quay.io'), 'quay.io/user/app:latest');
  assert.equal(rehome('user/app', 'docker.io'), 'docker.io/user/app:latest');
  assert.equal(rehome('library/a/b', 'quay.io'), 'quay.io/library/a/b:latest');
  assert.equal(rehome(`x@${D}`, 'quay.io'), `quay.io/x@${D}`);
  assert.deepEqual(withDomain({ domain: 'quay.io', path: 'x' }, 'docker.io'), { domain: 'docker.io', path: 'library/x' });
  const ref = parseReference('nginx');
  withDomain(ref, 'quay.io');
  assert.equal(ref.domain, 'docker.io', 'the input is not modified');
});
