import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWwwAuthenticate } from '../../src/registry/www-authenticate.js';

test('Docker Hub bearer challenge, comma inside the quoted scope', () => {
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull,push' } },
  ]);
});

test('basic challenge; scheme and parameter names lowercased, values kept', () => {
  assert.deepEqual(parseWwwAuthenticate('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  assert.deepEqual(parseWwwAuthenticate('BEARER Realm="X",SERVICE="Y"'), [{ scheme: 'bearer', params: { realm: 'X', service: 'Y' } }]);
  assert.deepEqual(parseWwwAuthenticate('Basic'), [{ scheme: 'basic', params: {} }]);
});

test('several challenges in one header', () => {
  const two = parseWwwAuthenticate('Basic realm="x", Bearer realm="y",service="z"');
  assert.deepEqual(two, [
    { scheme: 'basic', params: { realm: 'x' } },
    { scheme: 'bearer', params: { realm: 'y', service: 'z' } },
  ]);
  const three = parseWwwAuthenticate('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple", Bearer');
  assert.deepEqual(
    three.map((c) => c.scheme),
    ['newauth', 'basic', 'bearer'],
  );
  assert.deepEqual(three[0]!.params, { realm: 'apps', type: '1', title: 'Login to "apps"' });
  assert.deepEqual(parseWwwAuthenticate('Basic, Bearer realm="r"'), [
    { scheme: 'basic', params: {} },
    { scheme: 'bearer', params: { realm: 'r' } },
  ]);
});

test('quoted strings: escapes, commas, equals signs, spaces', () => {
  assert.equal(parseWwwAuthenticate('Basic realm="a \\"q\\" b"')[0]!.params.realm, 'a "q" b');
  assert.equal(parseWwwAuthenticate('Basic realm="back\\\\slash"')[0]!.params.realm, 'back\\slash');
  assert.equal(parseWwwAuthenticate('Bearer scope="a=b,c=d"')[0]!.params.scope, 'a=b,c=d');
  assert.equal(parseWwwAuthenticate('Bearer realm=""')[0]!.params.realm, '');
  // Unterminated: the rest of the header is the value rather than an exception.
  assert.equal(parseWwwAuthenticate('Bearer realm="open')[0]!.params.realm, 'open');
});

test('whitespace around = and commas, unquoted values', () => {
  assert.deepEqual(parseWwwAuthenticate('  Bearer   realm = "r" ,  service = reg.io  , scope="s"  '), [{ scheme: 'bearer', params: { realm: 'r', service: 'reg.io', scope: 's' } }]);
  // Not RFC tokens, but registries send them: an unquoted URL.
  assert.equal(parseWwwAuthenticate('Bearer realm=https://auth.example.com/token,service=x')[0]!.params.realm, 'https://auth.example.com/token');
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="r",,,service="s"')[0]!.params, { realm: 'r', service: 's' });
});

test('token68 challenges do not swallow their neighbours', () => {
  assert.deepEqual(parseWwwAuthenticate('Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXag=='), [{ scheme: 'negotiate', params: {}, token68: 'YIIBhgYGKwYBBQUCoIIBejCCAXag==' }]);
  const mixed = parseWwwAuthenticate('Negotiate abc==, Bearer realm="r"');
  assert.equal(mixed[0]!.token68, 'abc==');
  assert.deepEqual(mixed[1], { scheme: 'bearer', params: { realm: 'r' } });
});

test('empty and junk input', () => {
  assert.deepEqual(parseWwwAuthenticate(''), []);
  assert.deepEqual(parseWwwAuthenticate('   '), []);
  assert.deepEqual(parseWwwAuthenticate(', ,'), []);
  assert.deepEqual(parseWwwAuthenticate('"junk", Basic realm="x"'), [{ scheme: 'basic', params: { realm: 'x' } }]);
});
