/**
 * The pure parts of the API's remaining verbs and of `-p` host port ranges: a range for one
 * container port is one binding (its first port and last), the same through the remote client's
 * create body and the server's conversion; commit's repo/tag; ConsoleSize's shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBinding, hostPortText, parsePublish } from '../../src/net/ports.js';
import { buildContainerSpec } from '../../src/container/container-spec.js';
import { defaultCreateOptions, type HostView } from '../../src/container/options.js';
import { createBody } from '../../src/remote/create-body.js';
import { specFromBody } from '../../src/api/create-body.js';
import { commitReference } from '../../src/api/container-image.js';
import { consoleSize } from '../../src/api/http.js';
import { ApiError } from '../../src/api/errors.js';
import type { ContainerConfig as ImageRunConfig } from '../../src/image/types.js';

const IMG: ImageRunConfig = { Cmd: ['sh'], Env: ['PATH=/bin'] };
const HOST: HostView = { cwd: '/nowhere', env: {}, readFile: () => undefined, exists: () => true, device: () => 'missing' };

test('-p HOSTSTART-HOSTEND:PORT is one binding that may take any port of the range', () => {
  assert.deepEqual(parsePublish('8000-8002:80'), [{ hostIp: '', hostPort: 8000, hostPortEnd: 8002, containerPort: 80, protocol: 'tcp' }]);
  assert.deepEqual(parsePublish('127.0.0.1:8000-8002:53/udp'), [{ hostIp: '127.0.0.1', hostPort: 8000, hostPortEnd: 8002, containerPort: 53, protocol: 'udp' }]);
  // equal sizes stay a one-to-one mapping; other unequal sizes are still refused
  assert.equal(parsePublish('8000-8001:80-81').length, 2);
  assert.equal(parsePublish('8000-8001:80-81')[0]!.hostPortEnd, undefined);
  assert.throws(() => parsePublish('8000-8002:80-81'), /differ in size/);
  assert.throws(() => parsePublish('8002-8000:80'), /invalid host port range/);
  assert.equal(hostPortText(parsePublish('8000-8002:80')[0]!), '8000-8002');
  assert.equal(hostPortText(parsePublish('8000:80')[0]!), '8000');
  assert.equal(hostPortText(parsePublish('80')[0]!), '');
  assert.equal(formatBinding(parsePublish('8000-8002:80')[0]!), '0.0.0.0:8000-8002->80/tcp');
});

test('run -p with a host range: the spec, and the same through a remote create body', () => {
  const o = { ...defaultCreateOptions('busybox', []), detach: true, publish: ['8000-8002:80'] };
  const local = buildContainerSpec(o, IMG, HOST);
  assert.deepEqual(local.portBindings, [{ hostIp: '', hostPort: 8000, hostPortEnd: 8002, containerPort: 80, protocol: 'tcp' }]);
  const c = createBody(o, HOST);
  assert.deepEqual((c.body.HostConfig as { PortBindings: unknown }).PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8000-8002' }] });
  const remote = specFromBody({ body: c.body }, IMG, HOST);
  assert.deepEqual(remote.portBindings, local.portBindings);
});

test('HostConfig.ConsoleSize on create sets the tty size the container starts with', () => {
  const spec = specFromBody({ body: { Image: 'busybox', Tty: true, HostConfig: { ConsoleSize: [33, 101] } } }, IMG, HOST);
  assert.deepEqual(spec.consoleSize, { rows: 33, cols: 101 });
  // docker's CLI sends [0, 0] without a terminal: no size
  assert.equal(specFromBody({ body: { Image: 'busybox', HostConfig: { ConsoleSize: [0, 0] } } }, IMG, HOST).consoleSize, undefined);
  for (const bad of [[1], 'x', [1, -1], [1.5, 2], [70000, 1]]) {
    assert.throws(() => consoleSize(bad), (e: unknown) => e instanceof ApiError && e.status === 400, JSON.stringify(bad));
  }
});

test('commit: repo and tag make the reference tsctr commit takes', () => {
  assert.equal(commitReference('myimg', 'v2'), 'myimg:v2');
  assert.equal(commitReference('localhost:5000/a/b', ''), 'localhost:5000/a/b');
  assert.equal(commitReference(null, null), undefined);
  assert.equal(commitReference('', ''), undefined);
  assert.throws(() => commitReference('', 'v1'), (e: unknown) => e instanceof ApiError && e.status === 400);
});
