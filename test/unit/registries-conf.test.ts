import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { endpointsFor, loadRegistriesConf, parseRegistriesConf, type RegistriesConf } from '../../src/registry/registries-conf.js';

const parse = (text: string) => parseRegistriesConf(text, 'test.conf');
const configError = (message: string) => (e: unknown) => e instanceof ConfigError && e.exitCode === 125 && e.message === message;

test('v2 format: search registries, registries, mirrors, defaults', () => {
  const conf = parse(`
unqualified-search-registries = ["registry.fedoraproject.org", "quay.io", "docker.io"]

[[registry]]
prefix = "docker.io"
location = "docker.io"

[[registry.mirror]]
location = "mirror.local:5000"
insecure = true

[[registry.mirror]]
location = "mirror.gcr.io/"

[[registry]]
location = "internal.example.com:5000"
insecure = true

[[registry]]
location = "evil.com"
blocked = true
`);
  assert.deepEqual(conf, {
    unqualifiedSearch: ['registry.fedoraproject.org', 'quay.io', 'docker.io'],
    registries: [
      {
        prefix: 'docker.io',
        location: 'docker.io',
        insecure: false,
        blocked: false,
        mirrors: [
          { location: 'mirror.local:5000', insecure: true },
          { location: 'mirror.gcr.io', insecure: false },
        ],
      },
      { prefix: 'internal.example.com:5000', location: 'internal.example.com:5000', insecure: true, blocked: false, mirrors: [] },
      { prefix: 'evil.com', location: 'evil.com', insecure: false, blocked: true, mirrors: [] },
    ],
    sources: ['test.conf'],
  });
});

test('empty file, comments only, inline-table mirrors, per-mirror pull-from-mirror', () => {
  assert.deepEqual(parse(''), { unqualifiedSearch: [], registries: [], sources: ['test.conf'] });
  assert.deepEqual(parse('# nothing here\n').registries, []);
  const conf = parse(`
[[registry]]
prefix = "example.com"
location = "example.com"
mirror = [{ location = "m1.example.com", pull-from-mirror = "digest-only" }, { location = "m2.example.com", pull-from-mirror = "tag-only" }]
`);
  assert.deepEqual(conf.registries[0]!.mirrors, [
    { location: 'm1.example.com', insecure: false, pullFromMirror: 'digest-only' },
    { location: 'm2.example.com', insecure: false, pullFromMirror: 'tag-only' },
  ]);
});

test('v1 format: search, insecure, block', () => {
  const conf = parse(`
[registries.search]
registries = ["docker.io", "quay.io"]

[registries.insecure]
registries = ["localhost:5000", "both.example.com"]

[registries.block]
registries = ["evil.com", "both.example.com"]
`);
  assert.deepEqual(conf.unqualifiedSearch, ['docker.io', 'quay.io']);
  assert.deepEqual(conf.registries, [
    { prefix: 'localhost:5000', location: 'localhost:5000', insecure: true, blocked: false, mirrors: [] },
    { prefix: 'both.example.com', location: 'both.example.com', insecure: true, blocked: true, mirrors: [] },
    { prefix: 'evil.com', location: 'evil.com', insecure: false, blocked: true, mirrors: [] },
  ]);
});

test('errors name the file and what is wrong', () => {
  const cases: [string, string][] = [
    ['unqualified-search-registries = "x"', 'test.conf: unqualified-search-registries must be a list of strings'],
    ['unqualified-search-registries = [1]', 'test.conf: unqualified-search-registries must be a list of strings'],
    ['[registry]\nlocation = "x"', 'test.conf: registry must be an array of tables ([[registry]])'],
    ['[[registry]]\nlocation = 5', 'test.conf: registry.location must be a string'],
    ['[[registry]]\nlocation = "x"\ninsecure = "yes"', 'test.conf: registry.insecure must be true or false'],
    ['[[registry]]\nlocation = "x"\nblocked = 1', 'test.conf: registry.blocked must be true or false'],
    ['[[registry]]\ninsecure = true', 'test.conf: invalid condition: both location and prefix are unset'],
    ['[[registry]]\nprefix = "example.com"', 'test.conf: invalid condition: location is unset and prefix is not in the format: *.example.com'],
    ['[[registry]]\nlocation = "https://x.io"', "test.conf: invalid location 'https://x.io': URI schemes are not supported"],
    ['[[registry]]\nprefix = "*.example.com/ns"\nlocation = "x"', 'test.conf: Wildcarded prefix should be in the format: *.example.com. Current prefix "*.example.com/ns" is incorrectly formatted'],
    ['[[registry]]\nlocation = "x"\n[[registry.mirror]]\ninsecure = true', 'test.conf: invalid condition: mirror location is unset'],
    ['[[registry]]\nlocation = "x"\n[[registry.mirror]]\nlocation = "m"\npull-from-mirror = "sometimes"', 'test.conf: unsupported pull-from-mirror value "sometimes" for mirror "m"'],
    [
      '[[registry]]\nlocation = "x"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m"\npull-from-mirror = "all"',
      'test.conf: cannot set mirror usage mirror-by-digest-only for the registry ("x") and pull-from-mirror for per-mirror ("m") at the same time',
    ],
    ['[[registry]]\nlocation = "x"\nmirror = "m"', 'test.conf: registry.mirror must be an array of tables ([[registry.mirror]])'],
    ['[[registry]]\nlocation = "x"\n[[registry]]\nprefix = "x/ns"\nlocation = "x"\ninsecure = true', "test.conf: registry 'x' is defined multiple times with conflicting 'insecure' setting"],
    ['[[registry]]\nlocation = "x"\nblocked = true\n[[registry]]\nprefix = "x/ns"\nlocation = "x"', "test.conf: registry 'x' is defined multiple times with conflicting 'blocked' setting"],
    ['unqualified-search-registries = []\n[registries.search]\nregistries = []', 'test.conf: mixing sysregistry v1/v2 is not supported'],
    ['[registries.search]\nregistries = "docker.io"', 'test.conf: registries.search.registries must be a list of strings'],
    ['registries = 3', 'test.conf: registries must be a table'],
  ];
  for (const [text, message] of cases) assert.throws(() => parse(text), configError(message), text);
  assert.throws(() => parse('[[registry'), (e: unknown) => e instanceof ConfigError && /^test\.conf: \S/.test(e.message) && !e.message.includes('\n'));
  assert.throws(() => parse('a = "unterminated'), /^ConfigError: test\.conf: /);
});

const CONF: RegistriesConf = parse(`
[[registry]]
prefix = "docker.io"
location = "docker.io"
[[registry.mirror]]
location = "mirror.local:5000"
insecure = true
[[registry.mirror]]
location = "mirror.gcr.io"

[[registry]]
prefix = "example.com/team"
location = "internal.example.com/mirror/team"

[[registry]]
prefix = "example.com/team/special"
location = "special.example.com:8443"

[[registry]]
prefix = "*.corp.example"
location = "proxy.example.net/corp"

[[registry]]
prefix = "*.plain.example"

[[registry]]
location = "evil.com"
blocked = true

[[registry]]
location = "insecure.example.org"
insecure = true

[[registry]]
prefix = "quay.io/org"
location = "quay.io/org"
mirror-by-digest-only = true
[[registry.mirror]]
location = "quay-mirror.local"

[[registry]]
location = "ghcr.io"
[[registry.mirror]]
location = "ghcr-digests.local"
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "ghcr-tags.local"
pull-from-mirror = "tag-only"
`);

test('endpointsFor: mirrors first, in order, then the primary; docker.io is registry-1.docker.io', () => {
  assert.deepEqual(endpointsFor(CONF, 'docker.io', 'library/nginx'), [
    { registry: 'mirror.local:5000', repository: 'library/nginx', insecure: true, mirror: true },
    { registry: 'mirror.gcr.io', repository: 'library/nginx', insecure: false, mirror: true },
    { registry: 'registry-1.docker.io', repository: 'library/nginx', insecure: false, mirror: false },
  ]);
});

test('endpointsFor: no match is the domain itself', () => {
  assert.deepEqual(endpointsFor(CONF, 'quay.io', 'podman/hello'), [{ registry: 'quay.io', repository: 'podman/hello', insecure: false, mirror: false }]);
  const empty: RegistriesConf = { unqualifiedSearch: [], registries: [], sources: [] };
  assert.deepEqual(endpointsFor(empty, 'docker.io', 'library/x'), [{ registry: 'registry-1.docker.io', repository: 'library/x', insecure: false, mirror: false }]);
  assert.deepEqual(endpointsFor(empty, 'registry.example.com', ''), [{ registry: 'registry.example.com', repository: '', insecure: false, mirror: false }]);
});

test('endpointsFor: longest prefix wins, on component boundaries, and is rewritten', () => {
  assert.deepEqual(endpointsFor(CONF, 'example.com', 'team/app'), [{ registry: 'internal.example.com', repository: 'mirror/team/app', insecure: false, mirror: false }]);
  assert.deepEqual(endpointsFor(CONF, 'example.com', 'team'), [{ registry: 'internal.example.com', repository: 'mirror/team', insecure: false, mirror: false }]);
  assert.deepEqual(endpointsFor(CONF, 'example.com', 'team/special/x'), [{ registry: 'special.example.com:8443', repository: 'x', insecure: false, mirror: false }]);
  // "team2" is not under "team", and example.com itself has no entry.
  assert.deepEqual(endpointsFor(CONF, 'example.com', 'team2/app'), [{ registry: 'example.com', repository: 'team2/app', insecure: false, mirror: false }]);
  assert.deepEqual(endpointsFor(CONF, 'evil.community', 'x'), [{ registry: 'evil.community', repository: 'x', insecure: false, mirror: false }]);
  assert.equal(endpointsFor(CONF, 'insecure.example.org', 'a/b')[0]!.insecure, true);
});

test('endpointsFor: wildcard prefixes match subdomains only', () => {
  assert.deepEqual(endpointsFor(CONF, 'git.corp.example', 'a/b'), [{ registry: 'proxy.example.net', repository: 'corp/a/b', insecure: false, mirror: false }]);
  assert.deepEqual(endpointsFor(CONF, 'a.b.corp.example', 'x'), [{ registry: 'proxy.example.net', repository: 'corp/x', insecure: false, mirror: false }]);
  assert.deepEqual(endpointsFor(CONF, 'corp.example', 'x'), [{ registry: 'corp.example', repository: 'x', insecure: false, mirror: false }]);
  // The suffix must be in the host, not somewhere down the path.
  assert.deepEqual(endpointsFor(CONF, 'other.io', 'x.corp.example/y'), [{ registry: 'other.io', repository: 'x.corp.example/y', insecure: false, mirror: false }]);
  assert.deepEqual(endpointsFor(CONF, 'notcorp.example', 'x'), [{ registry: 'notcorp.example', repository: 'x', insecure: false, mirror: false }]);
  // A wildcard without a location keeps the name.
  assert.deepEqual(endpointsFor(CONF, 'x.plain.example', 'a'), [{ registry: 'x.plain.example', repository: 'a', insecure: false, mirror: false }]);
});

test('endpointsFor: blocked registries are refused', () => {
  assert.throws(() => endpointsFor(CONF, 'evil.com', 'x'), configError('registry evil.com is blocked in registries.conf'));
  assert.throws(() => endpointsFor(CONF, 'evil.com', ''), /blocked/);
});

test('endpointsFor: loopback registries allow plain HTTP', () => {
  const empty: RegistriesConf = { unqualifiedSearch: [], registries: [], sources: [] };
  for (const host of ['localhost', 'localhost:5000', '127.0.0.1', '127.0.0.1:5000', '127.1.2.3:80', '[::1]:5000']) {
    assert.equal(endpointsFor(empty, host, 'x')[0]!.insecure, true, host);
  }
  for (const host of ['example.com', '128.0.0.1:5000', 'localhost.example.com', '127.0.0.1.nip.io', '10.0.0.1:5000']) {
    assert.equal(endpointsFor(empty, host, 'x')[0]!.insecure, false, host);
  }
  const mirrored = parse('[[registry]]\nlocation = "example.com"\n[[registry.mirror]]\nlocation = "localhost:5001"');
  assert.deepEqual(
    endpointsFor(mirrored, 'example.com', 'x').map((e) => e.insecure),
    [true, false],
  );
});

test('endpointsFor: mirror-by-digest-only and pull-from-mirror', () => {
  const regs = (domain: string, p: string, digest?: boolean) => endpointsFor(CONF, domain, p, { digest }).map((e) => e.registry);
  assert.deepEqual(regs('quay.io', 'org/app'), ['quay.io']);
  assert.deepEqual(regs('quay.io', 'org/app', true), ['quay-mirror.local', 'quay.io']);
  assert.deepEqual(regs('ghcr.io', 'a/b'), ['ghcr-tags.local', 'ghcr.io']);
  assert.deepEqual(regs('ghcr.io', 'a/b', true), ['ghcr-digests.local', 'ghcr.io']);
});

/** A scratch tree standing in for $HOME and /etc. */
function sandbox(files: Record<string, string>): { dir: string; env: NodeJS.ProcessEnv; system: { file: string; dir: string } } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsctr-regconf-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return { dir, env: { HOME: path.join(dir, 'home') }, system: { file: path.join(dir, 'etc/registries.conf'), dir: path.join(dir, 'etc/registries.conf.d') } };
}

test('loadRegistriesConf: nothing anywhere is an empty configuration', (t) => {
  const s = sandbox({});
  t.after(() => fs.rmSync(s.dir, { recursive: true, force: true }));
  assert.deepEqual(loadRegistriesConf(s.env, s.system), { unqualifiedSearch: [], registries: [], sources: [] });
});

test('loadRegistriesConf: the first user file wins alone', (t) => {
  const s = sandbox({
    'explicit.conf': 'unqualified-search-registries = ["explicit.io"]',
    'xdg/tsctr/registries.conf': 'unqualified-search-registries = ["xdg.io"]',
    'home/.config/tsctr/registries.conf': 'unqualified-search-registries = ["home-tsctr.io"]',
    'home/.config/containers/registries.conf': 'unqualified-search-registries = ["containers.io"]',
    'etc/registries.conf': 'unqualified-search-registries = ["system.io"]',
    'etc/registries.conf.d/10-x.conf': '[[registry]]\nlocation = "dropin.io"',
  });
  t.after(() => fs.rmSync(s.dir, { recursive: true, force: true }));
  const load = (env: NodeJS.ProcessEnv) => loadRegistriesConf({ ...s.env, ...env }, s.system);
  const explicit = path.join(s.dir, 'explicit.conf');
  assert.deepEqual(load({ TSCTR_REGISTRIES_CONF: explicit, XDG_CONFIG_HOME: path.join(s.dir, 'xdg') }), {
    unqualifiedSearch: ['explicit.io'],
    registries: [],
    sources: [explicit],
  });
  assert.deepEqual(load({ CONTAINERS_REGISTRIES_CONF: explicit }).sources, [explicit]);
  assert.deepEqual(load({ TSCTR_REGISTRIES_CONF: path.join(s.dir, 'missing.conf'), XDG_CONFIG_HOME: path.join(s.dir, 'xdg') }).unqualifiedSearch, ['xdg.io']);
  assert.deepEqual(load({}).unqualifiedSearch, ['home-tsctr.io'], 'XDG_CONFIG_HOME defaults to ~/.config');
  fs.rmSync(path.join(s.dir, 'home/.config/tsctr'), { recursive: true });
  const containers = load({});
  assert.deepEqual(containers.unqualifiedSearch, ['containers.io']);
  assert.deepEqual(containers.registries, [], 'no system drop-ins with a user file');
});

test('loadRegistriesConf: system file plus drop-ins, later files override per prefix', (t) => {
  const s = sandbox({
    'etc/registries.conf': `
unqualified-search-registries = ["system.io"]
[[registry]]
location = "a.io"
[[registry]]
location = "b.io"
`,
    'etc/registries.conf.d/20-override.conf': '[[registry]]\nlocation = "a.io"\ninsecure = true',
    'etc/registries.conf.d/10-search.conf': 'unqualified-search-registries = ["dropin.io", "docker.io"]',
    'etc/registries.conf.d/30-keep.conf': '[[registry]]\nlocation = "c.io"\nblocked = true',
    'etc/registries.conf.d/ignored.txt': 'not toml at all [[[',
  });
  t.after(() => fs.rmSync(s.dir, { recursive: true, force: true }));
  const conf = loadRegistriesConf(s.env, s.system);
  assert.deepEqual(conf.unqualifiedSearch, ['dropin.io', 'docker.io'], 'a later file without the key keeps the list');
  assert.deepEqual(
    conf.registries.map((r) => [r.prefix, r.insecure, r.blocked]),
    [
      ['b.io', false, false],
      ['a.io', true, false],
      ['c.io', false, true],
    ],
  );
  assert.deepEqual(conf.sources, [s.system.file, ...['10-search.conf', '20-override.conf', '30-keep.conf'].map((f) => path.join(s.system.dir, f))]);
  // An explicitly empty list in a later drop-in clears the search list (containers/image does too).
  fs.writeFileSync(path.join(s.system.dir, '40-clear.conf'), 'unqualified-search-registries = []');
  assert.deepEqual(loadRegistriesConf(s.env, s.system).unqualifiedSearch, []);
});

test('loadRegistriesConf: drop-ins apply even without the main system file; errors name the file', (t) => {
  const s = sandbox({ 'etc/registries.conf.d/00-only.conf': 'unqualified-search-registries = ["only.io"]' });
  t.after(() => fs.rmSync(s.dir, { recursive: true, force: true }));
  assert.deepEqual(loadRegistriesConf(s.env, s.system).unqualifiedSearch, ['only.io']);
  const bad = path.join(s.system.dir, '50-bad.conf');
  fs.writeFileSync(bad, 'unqualified-search-registries = 5');
  assert.throws(() => loadRegistriesConf(s.env, s.system), configError(`${bad}: unqualified-search-registries must be a list of strings`));
});
