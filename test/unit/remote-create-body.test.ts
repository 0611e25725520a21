/**
 * `run`/`create` flags → the API's create body (src/remote/create-body.ts), checked against the
 * server's reverse (src/api/create-body.ts): the body a remote `run` sends must make the container
 * the same flags make locally. Flags the body cannot carry are refused by name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBody, unsupportedFlags } from '../../src/remote/create-body.js';
import { specFromBody } from '../../src/api/create-body.js';
import { buildContainerSpec } from '../../src/container/container-spec.js';
import { defaultCreateOptions, type CreateOptions, type HostView } from '../../src/container/options.js';
import type { ContainerConfig as ImageRunConfig } from '../../src/image/types.js';
import { TsctrError } from '../../src/errors.js';

const IMG: ImageRunConfig = { Entrypoint: ['/entry.sh'], Cmd: ['serve'], Env: ['PATH=/usr/bin:/bin'], WorkingDir: '/srv', ExposedPorts: { '80/tcp': {} } };
const HOST: HostView = { cwd: '/nowhere', env: { FROM_CLIENT: 'c' }, readFile: (f) => (f === '/env.list' ? 'A=1\n# no\nB=2\n' : undefined), exists: () => true, device: () => 'missing' };

function opts(image: string, command: string[], set: Partial<CreateOptions>): CreateOptions {
  return { ...defaultCreateOptions(image, command), detach: true, ...set };
}

/** The spec a flag set makes locally, and the one the server makes of the body sent for it. */
function both(o: CreateOptions) {
  const local = buildContainerSpec(o, IMG, HOST);
  const c = createBody(o, HOST);
  const remote = specFromBody({ body: c.body, ...(c.name ? { name: c.name } : {}) }, IMG, { ...HOST, env: {} });
  return { local, remote, c };
}

const CASES: [string, CreateOptions][] = [
  ['plain', opts('busybox', [], {})],
  ['run -d --name -p -e --rm', opts('busybox', ['sh', '-c', 'exit 3'], { name: 'web', publish: ['127.0.0.1:8080:80', '9000-9001:9000-9001/udp', '53'], env: ['X=1', 'FROM_CLIENT'], rm: true })],
  ['mounts and limits', opts('busybox', [], { volume: ['/data:/d:ro', 'vol:/v'], tmpfs: ['/t:size=1m'], readOnly: true, memory: '64m', cpus: '1.5', pidsLimit: '100', ulimit: ['nofile=1024:2048'] })],
  ['process', opts('busybox', ['a', 'b c'], { entrypoint: '/bin/sh', user: '1000:1000', workdir: '/w', hostname: 'h', tty: true, stopSignal: 'SIGINT', stopTimeout: '3', init: true, label: ['a=b', 'c'] })],
  ['empty entrypoint', opts('busybox', ['ls'], { entrypoint: '' })],
  ['network', opts('busybox', [], { network: ['none'], dns: ['1.1.1.1'], dnsSearch: ['x'], dnsOption: ['ndots:1'], addHost: ['h:10.0.0.1'], capAdd: ['NET_ADMIN'], capDrop: ['CHOWN'], securityOpt: ['no-new-privileges'] })],
  ['health and restart', opts('busybox', [], { healthCmd: 'true', healthInterval: '2s', healthTimeout: '1s', healthRetries: '4', healthStartPeriod: '500ms', restart: 'on-failure:3', logOpt: ['max-size=1m'] })],
  ['-it', opts('busybox', ['sh'], { interactive: true, tty: true })],
  ['env file', opts('busybox', [], { envFile: ['/env.list'], env: ['B=3'] })],
];

for (const [name, o] of CASES) {
  test(`the body makes the container the flags make locally: ${name}`, () => {
    const { local, remote } = both(o);
    assert.deepEqual({ ...remote, createCommand: undefined }, { ...local, createCommand: undefined });
  });
}

test('-e NAME and --env-file are read on the client, as docker does', () => {
  const { c } = both(opts('busybox', [], { env: ['FROM_CLIENT', 'UNSET'], envFile: ['/env.list'] }));
  assert.deepEqual(c.body.Env, ['A=1', 'B=2', 'FROM_CLIENT=c']);
});

test('-p becomes PortBindings', () => {
  const { c } = both(opts('busybox', [], { publish: ['127.0.0.1:8080:80', '53/udp'] }));
  assert.deepEqual((c.body.HostConfig as Record<string, unknown>).PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '' }] });
});

test('flags the API body cannot carry are refused by name, never dropped', () => {
  assert.deepEqual(unsupportedFlags(opts('busybox', [], {})), []);
  const o = opts('busybox', [], { privileged: true, pod: 'p', cidfile: '/tmp/x', httpProxy: 'false' });
  assert.deepEqual(unsupportedFlags(o).sort(), ['--cidfile', '--http-proxy', '--pod', '--privileged']);
  assert.throws(() => createBody(o, HOST), (e: unknown) => e instanceof TsctrError && /^--pod, --privileged, --cidfile, --http-proxy are not supported with --url \(remote\)$/.test(e.message));
});
