import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReference, formatReference, familiarString, familiarName, isFullyQualified, withDomain } from '../../src/image/reference.js';

const D = 'sha256:' + 'a'.repeat(64);

test('docker normalisation', () => {
  const cases: [string, string][] = [
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.25', 'docker.io/library/nginx:1.25'],
    ['user/app', 'docker.io/user/app:latest'],
    ['index.docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['host:5000/a/b:tag', 'host:5000/a/b:tag'],
    ['localhost/foo', 'localhost/foo:latest'],
    ['127.0.0.1:5000/library/busybox', '127.0.0.1:5000/library/busybox:latest'],
    [`name@${D}`, `docker.io/library/name@${D}`],
    [`name:tag@${D}`, `docker.io/library/name:tag@${D}`],
    ['a.b/c_d/e-f.g__h', 'a.b/c_d/e-f.g__h:latest'],
  ];
  for (const [input, want] of cases) assert.equal(formatReference(parseReference(input)), want, input);
});

test('familiar forms drop docker.io and library/', () => {
  assert.equal(familiarString(parseReference('docker.io/library/nginx:latest')), 'nginx:latest');
  assert.equal(familiarName(parseReference('user/app')), 'user/app');
  assert.equal(familiarName(parseReference('quay.io/library/x')), 'quay.io/library/x');
});

test('invalid references are refused with docker wording', () => {
  for (const bad of ['', 'Nginx', 'nginx@sha256:123', 'a//b', 'nginx:-x', ':tag', 'user/App', 'a b', 'nginx:' + 't'.repeat(129)]) {
    assert.throws(() => parseReference(bad), /invalid reference format/, JSON.stringify(bad));
  }
  assert.throws(() => parseReference('x'.repeat(256)), /must not be more than 255 characters/);
  assert.throws(() => parseReference('Nginx'), /repository name \(library\/Nginx\) must be lowercase/);
  // docker takes a first component with capitals for a registry host (hostnames are case-insensitive).
  assert.equal(parseReference('UPPER/case').domain, 'UPPER');
});

test('qualification and re-homing', () => {
  assert.equal(isFullyQualified('nginx'), false);
  assert.equal(isFullyQualified('user/app'), false);
  assert.equal(isFullyQualified('quay.io/x'), true);
  assert.equal(isFullyQualified('localhost/x'), true);
  assert.equal(formatReference(withDomain(parseReference('nginx'), 'quay.io')), 'quay.io/nginx:latest');
  assert.equal(formatReference(withDomain(parseReference('nginx'), 'docker.io')), 'docker.io/library/nginx:latest');
});
