/**
 * The compose runtime's pure parts: dependency order, the project options hoisted before the verb,
 * and a service replica's container spec (names, labels, ports behind a balancer, aliases, health
 * check, stop settings), from a project loaded by the real loader.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startOrder, withDependencies } from '../../src/compose/order.js';
import { hoistProjectOptions } from '../../src/commands/compose-argv.js';
import { loadProject } from '../../src/compose/load.js';
import { runtimeProject } from '../../src/compose/from-model.js';
import { replicaSpec } from '../../src/compose/service-spec.js';
import type { HostView } from '../../src/container/options.js';

describe('dependency order', () => {
  test('dependencies first, stable by name; a cycle and an unknown service are errors naming them', () => {
    assert.deepEqual(startOrder({ web: ['redis', 'db'], redis: [], db: [], worker: ['redis'] }), ['db', 'redis', 'web', 'worker']);
    assert.throws(() => startOrder({ a: ['b'], b: ['a'] }), /dependency cycle detected: a -> b -> a/);
    assert.throws(() => startOrder({ a: ['nope'] }), /service "a" depends on undefined service "nope"/);
    assert.deepEqual([...withDependencies({ web: ['redis'], redis: ['disk'], disk: [], other: [] }, ['web'])].sort(), ['disk', 'redis', 'web']);
  });
});

describe('compose argv', () => {
  test('project options before the verb move after it, by their long names', () => {
    assert.deepEqual(hoistProjectOptions(['compose', '-f', 'a.yaml', '-p', 'x', 'logs', '-f', 'web']), ['compose', 'logs', '--file', 'a.yaml', '--project-name', 'x', '-f', 'web']);
    assert.deepEqual(hoistProjectOptions(['--root', '/r', 'compose', '--file=a.yaml', 'up', '-d']), ['--root', '/r', 'compose', 'up', '--file', 'a.yaml', '-d']);
    assert.deepEqual(hoistProjectOptions(['compose', 'up', '-d']), ['compose', 'up', '-d']);
    assert.deepEqual(hoistProjectOptions(['run', 'compose']), ['run', 'compose']);
  });
});

const host: HostView = { cwd: '/', env: {}, readFile: () => undefined, exists: () => true, device: () => 'missing' };

describe('a replica as a container spec', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-unit-'));
  fs.writeFileSync(
    path.join(dir, 'compose.yaml'),
    `name: shop
services:
  web:
    image: nginx
    ports: ["8080:80"]
    networks:
      front:
        aliases: [www]
    stop_signal: SIGQUIT
    stop_grace_period: 1m30s
    deploy: { replicas: 2 }
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost/"]
      interval: 2s
      retries: 4
    volumes: ["data:/srv", "./conf:/etc/conf:ro"]
networks:
  front: {}
volumes:
  data: {}
`,
  );
  const model = await loadProject({ files: [path.join(dir, 'compose.yaml')], cwd: dir, env: {} });
  const { project } = runtimeProject(model);
  const web = project.services.web!;
  fs.rmSync(dir, { recursive: true });

  test('name, labels, networks with the service name as an alias, volumes by project name', () => {
    const spec = replicaSpec(project, web, { number: 2 }, { Cmd: ['nginx'] }, host);
    assert.equal(spec.name, 'shop-web-2');
    assert.equal(spec.labels['com.docker.compose.project'], 'shop');
    assert.equal(spec.labels['com.docker.compose.service'], 'web');
    assert.equal(spec.labels['com.docker.compose.container-number'], '2');
    assert.equal(spec.labels['com.docker.compose.oneoff'], 'False');
    assert.equal(spec.labels['com.docker.compose.config-hash'], web.hash);
    assert.deepEqual(spec.endpointRequest?.networks, ['shop_front']);
    assert.deepEqual(spec.endpointRequest?.aliases, ['web', 'www']);
    assert.deepEqual(spec.mounts.map((m) => [m.type, m.source, m.destination, m.readOnly]), [
      ['volume', 'shop_data', '/srv', false],
      ['bind', path.join(dir, 'conf'), '/etc/conf', true],
    ]);
    assert.equal(web.replicas, 2);
  });

  test('stop signal and grace period, the CMD health check in nanoseconds', () => {
    const spec = replicaSpec(project, web, { number: 1 }, { Cmd: ['nginx'] }, host);
    assert.equal(spec.stopSignal, 'SIGQUIT');
    assert.equal(spec.stopTimeout, 90);
    assert.deepEqual(spec.healthcheck, { Test: ['CMD', 'curl', '-f', 'http://localhost/'], Interval: 2e9, Retries: 4 });
  });

  test('published as given; behind a balancer each replica on a random 127.0.0.1 port', () => {
    const own = replicaSpec(project, web, { number: 1 }, { Cmd: ['nginx'] }, host);
    assert.deepEqual(own.portBindings.map((b) => [b.hostPort, b.containerPort, b.protocol]), [[8080, 80, 'tcp']]);
    assert.notEqual(own.portBindings[0]!.hostIp, '127.0.0.1');
    const balanced = replicaSpec(project, web, { number: 1, balanced: true }, { Cmd: ['nginx'] }, host);
    assert.deepEqual(balanced.portBindings.map((b) => [b.hostIp, b.hostPort, b.containerPort]), [['127.0.0.1', 0, 80]]);
  });
});
