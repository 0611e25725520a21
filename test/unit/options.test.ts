import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePublish, formatBinding } from '../../src/net/ports.js';
import { effectiveCaps, mergeEnv, parseRestart, parseTmpfs, parseUlimit, parseVolume } from '../../src/container/options.js';
import { parseSubIds } from '../../src/rootless/subids.js';
import { parseWwwAuthenticate } from '../../src/registry/www-authenticate.js';
import { parseRegistriesConfWith, endpointsFor } from '../../src/registry/registries-conf.js';
import { parse as toml } from 'smol-toml';
import { parsePlatform, selectPlatform, hostPlatform } from '../../src/image/platform.js';

test('-p specs', () => {
  assert.deepEqual(parsePublish('8080:80'), [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
  assert.deepEqual(parsePublish('127.0.0.1:8080:80/udp'), [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'udp' }]);
  assert.deepEqual(parsePublish('80'), [{ hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' }]);
  assert.deepEqual(parsePublish('127.0.0.1::80'), [{ hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, protocol: 'tcp' }]);
  assert.equal(parsePublish('8000-8002:9000-9002').map(formatBinding).join(','), '0.0.0.0:8000->9000/tcp,0.0.0.0:8001->9001/tcp,0.0.0.0:8002->9002/tcp');
  assert.deepEqual(parsePublish('[::1]:8080:80')[0], { hostIp: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' });
  for (const bad of ['', 'x', '8080:80/sctp', '70000:80', '1-3:1-2', ':80', 'a.b:1:2', '1:2:3:4']) assert.throws(() => parsePublish(bad), /invalid|differ/, bad);
});

test('volumes, tmpfs, ulimits, restart, caps, env', () => {
  assert.deepEqual(parseVolume('/tmp:/data:ro'), { type: 'bind', source: '/tmp', destination: '/data', readOnly: true });
  assert.deepEqual(parseVolume('cache:/var/cache'), { type: 'volume', source: 'cache', destination: '/var/cache', readOnly: false });
  assert.deepEqual(parseVolume('/anon'), { type: 'volume', source: '', destination: '/anon', readOnly: false });
  assert.throws(() => parseVolume('/nonexistent-dir-xyz:/d'), /bind source path does not exist/);
  assert.throws(() => parseVolume('/tmp:relative'), /absolute/);
  assert.throws(() => parseVolume('/tmp:/d:bogus'), /invalid mode/);
  assert.equal(parseTmpfs('/run:size=1m').options, 'size=1m');
  assert.deepEqual(parseUlimit('nofile=1024:4096'), { name: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 });
  assert.throws(() => parseUlimit('nofile=9:1'), /soft limit/);
  assert.throws(() => parseUlimit('bogus=1'), /invalid ulimit/);
  assert.deepEqual(parseRestart('on-failure:3'), { name: 'on-failure', maxRetries: 3 });
  assert.throws(() => parseRestart('sometimes'), /invalid restart policy/);
  assert.ok(effectiveCaps([], []).includes('CAP_CHOWN'));
  assert.ok(!effectiveCaps([], ['chown']).includes('CAP_CHOWN'));
  assert.ok(effectiveCaps(['SYS_ADMIN'], []).includes('CAP_SYS_ADMIN'));
  assert.throws(() => effectiveCaps(['NOT_A_CAP'], []), /invalid capability/);
  assert.deepEqual(mergeEnv(['PATH=/bin', 'A=1'], ['A=2', 'B=3']), ['PATH=/bin', 'A=2', 'B=3']);
});

test('subordinate id ranges by name or uid', () => {
  const text = 'alice:100000:65536\n1001:200000:1000\n# comment\nbob:300000:65536\n';
  assert.deepEqual(parseSubIds(text, 'alice', 1000), [{ start: 100000, count: 65536 }]);
  assert.deepEqual(parseSubIds(text, 'carol', 1001), [{ start: 200000, count: 1000 }]);
  assert.deepEqual(parseSubIds(text, 'dave', 1002), []);
});

test('WWW-Authenticate challenges', () => {
  const c = parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push"');
  assert.deepEqual(c, [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull,push' } }]);
  const two = parseWwwAuthenticate('Basic realm="x", Bearer realm="y",service="z"');
  assert.deepEqual(two.map((x) => x.scheme), ['basic', 'bearer']);
  assert.equal(two[1]!.params.service, 'z');
  assert.equal(parseWwwAuthenticate('Basic realm="a \\"q\\" b"')[0]!.params.realm, 'a "q" b');
});

test('registries.conf: mirrors first, rewrites, blocked, loopback is insecure', () => {
  const conf = parseRegistriesConfWith(toml as never, `
unqualified-search-registries = ["docker.io"]
[[registry]]
prefix = "docker.io"
location = "docker.io"
[[registry.mirror]]
location = "mirror.local:5000"
insecure = true
[[registry]]
prefix = "example.com/team"
location = "internal.example.com/mirror/team"
[[registry]]
location = "evil.com"
blocked = true
`, 'test.conf');
  assert.deepEqual(endpointsFor(conf, 'docker.io', 'library/nginx'), [
    { registry: 'mirror.local:5000', repository: 'library/nginx', insecure: true, mirror: true },
    { registry: 'registry-1.docker.io', repository: 'library/nginx', insecure: false, mirror: false },
  ]);
  assert.deepEqual(endpointsFor(conf, 'example.com', 'team/app'), [{ registry: 'internal.example.com', repository: 'mirror/team/app', insecure: false, mirror: false }]);
  assert.throws(() => endpointsFor(conf, 'evil.com', 'x'), /blocked/);
  assert.equal(endpointsFor(conf, '127.0.0.1:5000', 'x')[0]!.insecure, true);
  assert.throws(() => parseRegistriesConfWith(toml as never, 'unqualified-search-registries = "x"', 'bad.conf'), /bad.conf: unqualified-search-registries must be a list/);
  assert.throws(() => parseRegistriesConfWith(toml as never, '[[registry', 'broken.conf'), /broken.conf:/);
});

test('platforms', () => {
  assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.throws(() => parsePlatform('linux'), /invalid platform/);
  const entries = [
    { platform: { os: 'unknown', architecture: 'unknown' }, id: 0 },
    { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, id: 1 },
    { platform: { os: 'linux', architecture: 'amd64' }, id: 2 },
  ];
  assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'arm64' })?.id, 1);
  assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'amd64' })?.id, 2);
  assert.equal(selectPlatform(entries, { os: 'linux', architecture: 's390x' }), undefined);
  assert.equal(hostPlatform().os, 'linux');
});

test('--security-opt: docker\'s forms, the last seccomp option wins, unsupported ones are errors', async () => {
  const { parseSecurityOpts, seccompMode } = await import('../../src/container/security.js');
  assert.deepEqual(parseSecurityOpts(['seccomp:unconfined', 'no-new-privileges', 'no-new-privileges=true']), ['seccomp:unconfined', 'no-new-privileges', 'no-new-privileges=true']);
  assert.equal(seccompMode(undefined), 'default');
  assert.equal(seccompMode(['seccomp=unconfined']), 'unconfined');
  assert.equal(seccompMode(['seccomp:unconfined']), 'unconfined');
  assert.equal(seccompMode(['seccomp=unconfined', 'seccomp=builtin']), 'default');
  for (const bad of ['seccomp=./profile.json', 'apparmor=x', 'label=disable', 'no-new-privileges=maybe', 'foo', 'seccomp=']) {
    assert.throws(() => parseSecurityOpts([bad]), /--security-opt/, bad);
  }
});

test('resource limits become cgroup v2 files as docker writes them', async () => {
  const { limitFiles } = await import('../../src/rootless/cgroups.js');
  const { parseResources } = await import('../../src/container/options.js');
  const files = (o: { memory?: string; cpus?: string; pidsLimit?: string }) =>
    Object.fromEntries(limitFiles({ ...parseResources(o) } as never).flatMap((l) => l.files));
  assert.deepEqual(files({ memory: '64m' }), { 'memory.max': '67108864', 'memory.swap.max': '67108864' });
  assert.deepEqual(files({ cpus: '0.5' }), { 'cpu.max': '50000 100000' });
  assert.deepEqual(files({ cpus: '2' }), { 'cpu.max': '200000 100000' });
  assert.deepEqual(files({ pidsLimit: '100' }), { 'pids.max': '100' });
  assert.deepEqual(files({ pidsLimit: '-1' }), { 'pids.max': 'max' });
  assert.deepEqual(files({}), {});
  assert.deepEqual(limitFiles({ ...parseResources({ memory: '1g', pidsLimit: '5' }) } as never).map((l) => [l.flag, l.controller]), [['--memory', 'memory'], ['--pids-limit', 'pids']]);
});
