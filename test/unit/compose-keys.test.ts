/**
 * Compose keys that map onto run flags (issue 18): a project tree normalised without a disk, turned
 * into runtime services and replica specs; what is still not applied stays in the warning list.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeProject } from '../../src/compose/normalize.js';
import { runtimeProject } from '../../src/compose/from-model.js';
import { replicaSpec } from '../../src/compose/service-spec.js';
import type { HostView } from '../../src/container/options.js';

const host: HostView = { cwd: '/', env: {}, readFile: () => undefined, exists: () => true, device: () => 'ok' };

function project(tree: Record<string, unknown>) {
  const model = normalizeProject(tree, { name: 'p', workingDir: '/proj', configFiles: ['/proj/compose.yaml'], environment: {}, profiles: [], warnings: [] });
  return runtimeProject(model).project;
}

describe('compose keys with a run-flag counterpart', () => {
  const p = project({
    services: {
      app: {
        image: 'alpine',
        privileged: true,
        sysctls: { 'net.ipv4.ip_forward': '1' },
        shm_size: '128m',
        pid: 'host',
        ipc: 'shareable',
        domainname: 'example.org',
        logging: { driver: 'json-file', options: { 'max-size': '1m', 'max-file': '2' } },
        group_add: ['audio', 100],
        oom_score_adj: 200,
        mem_reservation: '64m',
        memswap_limit: '256m',
        mem_limit: '128m',
        cpu_shares: 512,
        cpuset: '0',
        blkio_config: { weight: 300, device_read_bps: [{ path: '/dev/sda', rate: '1mb' }] },
        configs: ['cfg', { source: 'cfg', target: '/etc/app.conf' }],
        secrets: ['pw'],
      },
      side: { image: 'alpine', network_mode: 'service:app' },
      db: { image: 'alpine', sysctls: ['net.ipv4.tcp_syncookies=0'] },
      web: { image: 'alpine', links: ['db:database', 'app'] },
      none: { image: 'alpine', network_mode: 'none' },
    },
    configs: { cfg: { file: './app.conf' } },
    secrets: { pw: { file: '/proj/pw.txt' }, inline: { environment: 'PW' } },
  });

  test('privileged, sysctls (map and list), shm, namespaces, domainname, logging, groups, oom, cgroup extras', () => {
    const spec = replicaSpec(p, p.services.app!, { number: 1 }, { Cmd: ['sh'] }, host);
    assert.equal(spec.privileged, true);
    assert.deepEqual(spec.sysctls, { 'net.ipv4.ip_forward': '1', 'kernel.domainname': 'example.org' });
    assert.equal(spec.shmSize, 128 * 1024 * 1024);
    assert.equal(spec.pidMode, 'host');
    assert.equal(spec.ipcMode, 'shareable');
    assert.equal(spec.logConfig?.type, 'json-file');
    assert.deepEqual(spec.logConfig?.config, { 'max-size': '1m', 'max-file': '2' });
    assert.deepEqual(spec.groupAdd, ['audio', '100']);
    assert.equal(spec.oomScoreAdj, 200);
    assert.equal(spec.memoryReservation, 64 * 1024 * 1024);
    assert.equal(spec.memorySwap, 256 * 1024 * 1024);
    assert.equal(spec.cpuShares, 512);
    assert.equal(spec.cpusetCpus, '0');
    assert.equal(spec.blkioWeight, 300);
    const db = replicaSpec(p, p.services.db!, { number: 1 }, { Cmd: ['sh'] }, host);
    assert.deepEqual(db.sysctls, { 'net.ipv4.tcp_syncookies': '0' });
  });

  test('configs and secrets from files: read-only binds at /<name>, the target, /run/secrets/<name>', () => {
    const spec = replicaSpec(p, p.services.app!, { number: 1 }, { Cmd: ['sh'] }, host);
    assert.deepEqual(spec.mounts.map((m) => [m.type, m.source, m.destination, m.readOnly]), [
      ['bind', '/proj/app.conf', '/cfg', true],
      ['bind', '/proj/app.conf', '/etc/app.conf', true],
      ['bind', '/proj/pw.txt', '/run/secrets/pw', true],
    ]);
  });

  test('content: and environment: sources carry their content until up writes them out', () => {
    const m = normalizeProject({ services: { a: { image: 'x', configs: ['c'], secrets: ['s'] } }, configs: { c: { content: 'hello' } }, secrets: { s: { environment: 'TOKEN' } } },
      { name: 'm', workingDir: '/m', configFiles: [], environment: { TOKEN: 't0k' }, profiles: [], warnings: [] });
    const a = runtimeProject(m).project.services.a!;
    assert.deepEqual(a.files, [
      { content: 'hello', target: '/c', key: 'configs-c' },
      { content: 't0k', target: '/run/secrets/s', key: 'secrets-s' },
    ]);
    assert.throws(() => replicaSpec(runtimeProject(m).project, a, { number: 1 }, { Cmd: ['sh'] }, host), /configs-c is not written out yet/);
  });

  test('network_mode: service:NAME joins its first container (and starts after it), none as given', () => {
    assert.equal(p.services.side!.dependsOn.app, 'service_started');
    const side = replicaSpec(p, p.services.side!, { number: 1 }, { Cmd: ['sh'] }, host);
    assert.equal(side.network, 'container:p-app-1');
    assert.equal(side.endpointRequest, undefined);
    assert.equal(replicaSpec(p, p.services.none!, { number: 1 }, { Cmd: ['sh'] }, host).network, 'none');
  });

  test('links: the alias names the linked service on the default network', () => {
    const db = replicaSpec(p, p.services.db!, { number: 1 }, { Cmd: ['sh'] }, host);
    assert.deepEqual(db.endpointRequest?.aliases, ['db', 'database']);
    assert.deepEqual(replicaSpec(p, p.services.app!, { number: 1 }, { Cmd: ['sh'] }, host).endpointRequest?.aliases, ['app']);
  });

  test('what is still not applied is warned about by path', () => {
    const q = normalizeProject({ services: { a: { image: 'x', platform: 'linux/arm64', blkio_config: { weight: 10, device_read_bps: [{ path: '/dev/sda', rate: 1 }] } } }, secrets: { s: { environment: 'S' } } },
      { name: 'q', workingDir: '/q', configFiles: [], environment: {}, profiles: [], warnings: [] });
    q.services.a!.secrets.push({ source: 's', target: '/run/secrets/s', mode: 0o400 });
    // platform is applied and an unset variable refused at up (compose-keys2.test.ts).
    assert.deepEqual(runtimeProject(q).project.unsupported.sort(), ['services.a.blkio_config.device_read_bps']);
    assert.ok(!p.unsupported.some((u) => /privileged|sysctls|logging|shm_size|network_mode|links|cpu_shares|group_add/.test(u)), p.unsupported.join(' '));
  });
});
