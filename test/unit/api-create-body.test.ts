/**
 * `POST /containers/create` bodies → ContainerSpec (src/api/create-body.ts), without a disk: the
 * shapes docker's CLI and compose send, docker's Entrypoint/Cmd rules, and bad bodies refused with
 * a 400 before anything is made.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createOptionsOf, specFromBody, bodyImage } from '../../src/api/create-body.js';
import { ApiError } from '../../src/api/errors.js';
import type { HostView } from '../../src/container/options.js';
import type { ContainerConfig as ImageRunConfig } from '../../src/image/types.js';

const IMG: ImageRunConfig = {
  Entrypoint: ['/entry.sh'],
  Cmd: ['serve', '--port', '80'],
  Env: ['PATH=/usr/bin:/bin', 'MODE=image'],
  WorkingDir: '/srv',
  ExposedPorts: { '80/tcp': {} },
};
const BARE: ImageRunConfig = { Cmd: ['sh'], Env: ['PATH=/bin'] };
const HOST: HostView = { cwd: '/nowhere', env: { SECRET: 'host-only' }, readFile: () => undefined, exists: (f) => f === '/data' };

/** What docker CLI 20.10 sends for `docker run -d --name web -p 127.0.0.1:8080:80 -e A=1 -v /data:/d:ro --rm busybox sh -c 'exit 7'`. */
const CLI_BODY = {
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
  ExposedPorts: { '80/tcp': {} }, Tty: false, OpenStdin: false, StdinOnce: false,
  Env: ['A=1'], Cmd: ['sh', '-c', 'exit 7'], Image: 'busybox', Volumes: {}, WorkingDir: '', Entrypoint: null,
  OnBuild: null, Labels: { 'com.example': 'x' },
  HostConfig: {
    Binds: ['/data:/d:ro'], ContainerIDFile: '', LogConfig: { Type: '', Config: {} }, NetworkMode: 'default',
    PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] }, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: true, VolumeDriver: '', VolumesFrom: null, CapAdd: null, CapDrop: null, Dns: [], DnsOptions: [], DnsSearch: [],
    ExtraHosts: null, Privileged: false, PublishAllPorts: false, ReadonlyRootfs: false, SecurityOpt: null, Memory: 0, NanoCpus: 0,
    PidsLimit: null, Ulimits: null, Mounts: [{ Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 1048576 } }],
  },
  NetworkingConfig: { EndpointsConfig: {} },
};

const badRequest = (re: RegExp) => (e: unknown) => e instanceof ApiError && e.status === 400 && re.test(e.message);

describe('create body → spec', () => {
  test("docker CLI's body: command, env, labels, binds, ports, --rm, a tmpfs mount", () => {
    const s = specFromBody({ body: CLI_BODY, name: 'web' }, BARE, HOST);
    assert.equal(s.name, 'web');
    assert.equal(s.image, 'busybox');
    assert.equal(s.entrypoint, null);
    assert.deepEqual(s.cmd, ['sh', '-c', 'exit 7']);
    assert.ok(s.env.includes('A=1') && s.env.includes('PATH=/bin'));
    assert.equal(s.labels['com.example'], 'x');
    assert.equal(s.autoRemove, true);
    assert.deepEqual(s.portBindings, [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
    assert.deepEqual(s.mounts.map((m) => [m.type, m.source, m.destination, m.readOnly]), [['bind', '/data', '/d', true], ['tmpfs', '', '/scratch', false]]);
    assert.match(s.mounts[1]!.options ?? '', /size=1048576/);
    assert.deepEqual(s.exposedPorts, ['80/tcp']);
  });

  test("docker's Entrypoint/Cmd rules: none given keeps the image's; Cmd alone replaces Cmd; Entrypoint drops the image's Cmd", () => {
    const keep = specFromBody({ body: { Image: 'x' } }, IMG, HOST);
    assert.deepEqual([keep.entrypoint, keep.cmd], [['/entry.sh'], ['serve', '--port', '80']]);
    const cmd = specFromBody({ body: { Image: 'x', Cmd: ['other'] } }, IMG, HOST);
    assert.deepEqual([cmd.entrypoint, cmd.cmd], [['/entry.sh'], ['other']]);
    const ep = specFromBody({ body: { Image: 'x', Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo hi'] } }, IMG, HOST);
    assert.deepEqual([ep.entrypoint, ep.cmd], [['/bin/sh', '-c'], ['echo hi']]);
    const epOnly = specFromBody({ body: { Image: 'x', Entrypoint: ['/bin/true'] } }, IMG, HOST);
    assert.deepEqual([epOnly.entrypoint, epOnly.cmd], [['/bin/true'], null]);
    // A string is one word list (compose may send strings).
    const str = specFromBody({ body: { Image: 'x', Entrypoint: '/bin/true' } }, IMG, HOST);
    assert.deepEqual(str.entrypoint, ['/bin/true']);
  });

  test('compose-style networks, aliases, restart policy, resources, health check (exec form), env without "=" not copied from the server', () => {
    const s = specFromBody({
      body: {
        Image: 'x', Env: ['SECRET', 'B=2'],
        Healthcheck: { Test: ['CMD', 'wget', '-q', 'http://localhost/'], Interval: 2e9, Retries: 4 },
        HostConfig: { NetworkMode: 'proj_default', RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 }, Memory: 64 * 1024 * 1024, NanoCpus: 5e8, CapDrop: ['NET_RAW'] },
        NetworkingConfig: { EndpointsConfig: { proj_default: { Aliases: ['web', 'www'] } } },
      },
    }, IMG, HOST);
    assert.ok(!s.env.some((e) => e.startsWith('SECRET')), 'the server process environment leaked into the container');
    assert.ok(s.env.includes('B=2'));
    assert.deepEqual(s.endpointRequest?.networks, ['proj_default']);
    assert.deepEqual(s.endpointRequest?.aliases, ['web', 'www']);
    assert.deepEqual(s.restart, { name: 'on-failure', maxRetries: 3 });
    assert.equal(s.memory, 64 * 1024 * 1024);
    assert.equal(s.nanoCpus, 5e8);
    assert.deepEqual(s.capDrop, ['NET_RAW']);
    assert.deepEqual(s.healthcheck?.Test, ['CMD', 'wget', '-q', 'http://localhost/']);
    assert.equal(s.healthcheck?.Interval, 2e9);
    assert.equal(s.healthcheck?.Retries, 4);
  });

  test('published ports: no host port (random), all addresses, a range, udp; PublishAllPorts', () => {
    const o = createOptionsOf({ body: { Image: 'x', HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '' }], '53/udp': [{ HostPort: '5353' }], '9000-9001/tcp': [{ HostIp: '::1', HostPort: '19000-19001' }] }, PublishAllPorts: true } } });
    assert.deepEqual(o.publish, ['80/tcp', '5353:53/udp', '[::1]:19000-19001:9000-9001/tcp']);
    assert.equal(o.publishAll, true);
  });

  test('bad bodies are 400s: not an object, no image, wrong types, privileged, a bad port, a quote in a mount', () => {
    assert.throws(() => bodyImage([1, 2]), badRequest(/JSON object/));
    assert.throws(() => bodyImage({}), badRequest(/Image is required/));
    assert.throws(() => createOptionsOf({ body: { Image: 'x', Env: [1] } }), badRequest(/Env/));
    assert.throws(() => createOptionsOf({ body: { Image: 'x', Tty: 'yes' } }), badRequest(/Tty/));
    assert.throws(() => createOptionsOf({ body: { Image: 'x', HostConfig: [] } }), badRequest(/HostConfig/));
    assert.throws(() => createOptionsOf({ body: { Image: 'x', HostConfig: { Privileged: true } } }), badRequest(/privileged/));
    assert.throws(() => createOptionsOf({ body: { Image: 'x', HostConfig: { PortBindings: { 'eighty/tcp': [] } } } }), badRequest(/invalid port/));
    assert.throws(() => createOptionsOf({ body: { Image: 'x', HostConfig: { Mounts: [{ Type: 'bind', Source: '/a",target=/etc', Target: '/x' }] } } }), badRequest(/double quote/));
  });

  test("the CLI's own checks still apply: a bad name, a kernel path, no command", () => {
    assert.throws(() => specFromBody({ body: { Image: 'x' }, name: 'bad name' }, IMG, HOST), /Invalid container name/);
    assert.throws(() => specFromBody({ body: { Image: 'x', HostConfig: { Binds: ['/data:/proc'] } } }, IMG, HOST), /cannot be mounted over/);
    assert.throws(() => specFromBody({ body: { Image: 'x' } }, {}, HOST), /no command/);
  });
});
