/**
 * The compose keys of the second round (issue 18), file side: platform, mode/uid/gid of config and
 * secret references, external ones refused, the config hash's inputs outside the service,
 * build.dockerfile_inline, published port ranges.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { normalizeProject } from '../../src/compose/normalize.js';
import { runtimeProject } from '../../src/compose/from-model.js';
import { replicaSpec } from '../../src/compose/service-spec.js';
import { checkServices } from '../../src/compose/up.js';
import { hostIdOf } from '../../src/compose/inline-files.js';
import { amd64Level, checkBuildPlatform, hostRuns, satisfies } from '../../src/compose/platform.js';
import { parsePlatform } from '../../src/image/platform.js';
import type { HostView } from '../../src/container/options.js';

const host: HostView = { cwd: '/', env: {}, readFile: () => undefined, exists: () => true, device: () => 'ok' };

function model(tree: Record<string, unknown>, environment: Record<string, string> = {}, name = 'p') {
  return normalizeProject(tree, { name, workingDir: '/proj', configFiles: ['/proj/compose.yaml'], environment, profiles: [], warnings: [] });
}
const project = (tree: Record<string, unknown>, environment: Record<string, string> = {}) => runtimeProject(model(tree, environment)).project;
const publish = (tree: Record<string, unknown>, service: string, n: number) =>
  replicaSpec(project(tree), project(tree).services[service]!, { number: n }, { Cmd: ['sh'] }, host).portBindings.map((b) => `${b.hostIp}:${b.hostPort}->${b.containerPort}/${b.protocol}`);

describe('published port ranges', () => {
  const tree = {
    services: {
      web: { image: 'x', ports: ['8000-8002:80'], deploy: { replicas: 3 } },
      local: { image: 'x', ports: ['127.0.0.1:9000-9001:80'] },
      pair: { image: 'x', ports: ['8100-8101:80-81'] },
      long: { image: 'x', ports: [{ target: 80, published: '8200-8201' }] },
    },
  };

  test('a host range for one container port: replica N publishes the Nth port of it, never behind a balancer', () => {
    const p = project(tree);
    assert.deepEqual(p.services.web!.ports, [{ target: 80, protocol: 'tcp', range: [8000, 8002] }]);
    assert.deepEqual(publish(tree, 'web', 1), [':8000->80/tcp']);
    assert.deepEqual(publish(tree, 'web', 3), [':8002->80/tcp']);
    assert.deepEqual(publish(tree, 'local', 2), ['127.0.0.1:9001->80/tcp']);
    assert.deepEqual(publish(tree, 'long', 2), [':8201->80/tcp']);
    const balanced = replicaSpec(p, p.services.web!, { number: 2, balanced: true }, { Cmd: ['sh'] }, host);
    assert.deepEqual(balanced.portBindings.map((b) => [b.hostIp, b.hostPort]), [['', 8001]]);
  });

  test('range to range: one port each, as docker run -p 8100-8101:80-81', () => {
    assert.deepEqual(project(tree).services.pair!.ports.map((x) => [x.published, x.target]), [[8100, 80], [8101, 81]]);
    assert.deepEqual(publish(tree, 'pair', 1), [':8100->80/tcp', ':8101->81/tcp']);
  });

  test('a range with fewer ports than replicas is refused before anything is created', () => {
    const p = project(tree);
    assert.doesNotThrow(() => checkServices(p, ['web'], {}));
    assert.throws(() => checkServices(p, ['web'], { web: 4 }), /service "web": the published port range 8000-8002 for 80\/tcp has 3 ports, too few for 4 replicas/);
    assert.throws(() => replicaSpec(p, p.services.web!, { number: 4 }, { Cmd: ['sh'] }, host), /too few for 4 replicas/);
  });
});

describe('config and secret references: mode, uid, gid; external refused', () => {
  const tree = {
    services: {
      a: {
        image: 'x',
        configs: [{ source: 'f', target: '/etc/f.conf', mode: 0o440, uid: '1000', gid: '1001' }, 'f', { source: 'c', mode: 0o400 }],
        secrets: ['s'],
      },
      ext: { image: 'x', secrets: ['outside'] },
      unset: { image: 'x', configs: ['fromenv'] },
      badid: { image: 'x', configs: [{ source: 'c', uid: 'www-data' }] },
    },
    configs: { f: { file: './f.conf' }, c: { content: 'inline' }, fromenv: { environment: 'NOPE' }, cext: { external: true } },
    secrets: { s: { content: 'pw' }, outside: { external: true, name: 'vault_pw' } },
  };

  test('a file source with mode/uid/gid is copied, without them bound as it is; defaults left to the writer (0444, 0:0)', () => {
    const a = project(tree).services.a!;
    assert.deepEqual(a.files, [
      { target: '/etc/f.conf', key: 'configs-f', mode: 0o440, uid: 1000, gid: 1001, copy: '/proj/f.conf' },
      { target: '/f', key: 'configs-f', source: '/proj/f.conf' },
      { target: '/c', key: 'configs-c', mode: 0o400, content: 'inline' },
      { target: '/run/secrets/s', key: 'secrets-s', content: 'pw' },
    ]);
  });

  test("external and unset sources: docker compose's message at up, for that service only", () => {
    const p = project(tree);
    assert.throws(() => checkServices(p, ['ext'], {}), /^TsctrError: service "ext": unsupported external secret vault_pw$/);
    assert.throws(() => checkServices(p, ['unset'], {}), /service "unset": environment variable "NOPE" required by config "p_fromenv" is not set/);
    assert.throws(() => checkServices(p, ['badid'], {}), /service "badid": config "c": uid\/gid "www-data" is not a numeric id/);
    assert.doesNotThrow(() => checkServices(p, ['a'], {}));
    assert.deepEqual(p.unsupported, []);
  });

  test('container ids map to host ids through the container user namespace maps', () => {
    const maps = ['0 1000 1', '1 100000 65536'];
    assert.equal(hostIdOf(maps, 0), 1000);
    assert.equal(hostIdOf(maps, 1), 100000);
    assert.equal(hostIdOf(maps, 70), 100069);
    assert.equal(hostIdOf(maps, 65537), undefined);
    // keep-id: the user's own id is the user inside too.
    const keep = ['0 100000 1000', '1000 1000 1', '1001 101000 64536'];
    assert.equal(hostIdOf(keep, 1000), 1000);
    assert.equal(hostIdOf(keep, 0), 100000);
  });
});

describe('the config hash: every input of the container', () => {
  const base = () => ({
    services: {
      web: { image: 'x', configs: ['site'], secrets: ['key'] },
      db: { image: 'x' },
      other: { image: 'x', environment: { A: '1' } },
    },
    configs: { site: { content: 'v1' } },
    secrets: { key: { environment: 'KEY' } },
  });
  const hashes = (tree: Record<string, unknown>, env: Record<string, string> = { KEY: 'k1' }) =>
    Object.fromEntries(Object.values(project(tree, env).services).map((s) => [s.name, s.hash]));

  test('a content:, environment: or file: source that changes changes the hash of the services that mount it, only', () => {
    const h0 = hashes(base());
    const t1 = base();
    t1.configs.site.content = 'v2';
    const h1 = hashes(t1);
    assert.notEqual(h1.web, h0.web);
    assert.equal(h1.db, h0.db);
    assert.equal(h1.other, h0.other);
    assert.notEqual(hashes(base(), { KEY: 'k2' }).web, h0.web);
    assert.equal(hashes(base()).web, h0.web, 'stable');

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckeys2-'));
    try {
      const file = path.join(dir, 'site.conf');
      fs.writeFileSync(file, 'one');
      const t = { ...base(), configs: { site: { file } } };
      const f0 = hashes(t).web;
      fs.writeFileSync(file, 'two');
      assert.notEqual(hashes(t).web, f0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('mode/uid/gid of a reference, links to a service (its aliases), network and volume names', () => {
    const h0 = hashes(base());
    const moded = base();
    (moded.services.web as Record<string, unknown>).configs = [{ source: 'site', mode: 0o400 }];
    assert.notEqual(hashes(moded).web, h0.web);
    const linked = base();
    (linked.services.web as Record<string, unknown>).links = ['db:database'];
    const hl = hashes(linked);
    assert.notEqual(hl.db, h0.db, 'the linked service gets the alias: its containers must be recreated');
    assert.equal(hl.other, h0.other);
    const named = { ...base(), networks: { default: { name: 'elsewhere' } } };
    assert.notEqual(hashes(named).db, h0.db);
    const vol = (name?: string) => ({ services: { db: { image: 'x', volumes: ['data:/d'] } }, volumes: { data: name ? { name } : {} } });
    assert.notEqual(hashes(vol('one')).db, hashes(vol('two')).db);
  });
});

describe('platform', () => {
  test('validated and written in one spelling; an invalid one names the service', () => {
    assert.equal(project({ services: { a: { image: 'x', platform: 'linux/x86_64' } } }).services.a!.platform, 'linux/amd64');
    assert.equal(project({ services: { a: { image: 'x', platform: 'linux/amd64/v2' } } }).services.a!.platform, 'linux/amd64/v2');
    assert.throws(() => project({ services: { a: { image: 'x', platform: 'amd64' } } }), /service "a": invalid platform "amd64"/);
  });

  test('amd64 levels: an image of a lower level runs where a higher one is asked; the host runs up to its CPU level', () => {
    const P = parsePlatform;
    assert.ok(satisfies(P('linux/amd64/v2'), P('linux/amd64')));
    assert.ok(!satisfies(P('linux/amd64'), P('linux/amd64/v3')));
    assert.ok(!satisfies(P('linux/arm64'), P('linux/amd64')));
    assert.ok(satisfies(P('linux/arm64'), P('linux/arm64/v8')));
    assert.ok(satisfies(P('linux/arm/v7'), P('linux/arm/v6')));
    const amd = { os: 'linux', architecture: 'amd64' };
    assert.ok(hostRuns(P('linux/amd64/v3'), amd, () => 3));
    assert.ok(!hostRuns(P('linux/amd64/v4'), amd, () => 3));
    assert.ok(!hostRuns(P('linux/arm64'), amd, () => 4));
    assert.equal(amd64Level('flags\t: fpu cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3 avx\n'), 2);
    assert.equal(amd64Level('flags : fpu\n'), 1);
  });

  test('a build for a platform the host does not run is refused, naming the service', () => {
    const p = project({ services: { b: { build: '.', platform: 'linux/s390x' }, n: { build: '.', platform: 'linux/amd64' } } });
    assert.throws(() => checkBuildPlatform(p.services.b!), /service "b": platform linux\/s390x: tsctr builds images for this host's platform/);
    if (process.arch === 'x64') assert.doesNotThrow(() => checkBuildPlatform(p.services.n!));
  });
});

describe('build.dockerfile_inline', () => {
  test('carried to the build (the context still from context:), no longer refused', () => {
    const p = project({ services: { b: { build: { context: './app', dockerfile_inline: 'FROM scratch\nLABEL a=b\n' } } } });
    assert.deepEqual(p.services.b!.build, { context: '/proj/app', dockerfile: undefined, args: {}, target: undefined, dockerfileInline: 'FROM scratch\nLABEL a=b\n' });
  });
});
