/**
 * `run`/`create` flags → ContainerSpec, without a disk: the command line goes through the real
 * parser (clipanion, with the options made from CREATE_FLAGS), then buildContainerSpec with a
 * made-up image configuration and host. Every flag of the table has a case below (the type says
 * so, and a test checks it at run time), with docker's override rules and each error message.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cli } from 'clipanion';
import { loadCommands } from '../../src/commands/index.js';
import { CREATE_FLAGS, defaultCreateOptions, type CreateFlags, type CreateOptions, type HostView } from '../../src/container/options.js';
import { buildContainerSpec, checkSpec, imageDefaults, recordOf, DEFAULT_PATH } from '../../src/container/container-spec.js';
import { unitRunArgs } from '../../src/generate/systemd.js';
import { GLOBAL_WITH_VALUE } from '../../src/global-options.js';
import type { ContainerRecord, ContainerSpec } from '../../src/container/types.js';
import type { ContainerConfig as ImageRunConfig } from '../../src/image/types.js';

const IMG: ImageRunConfig = {
  Entrypoint: ['/docker-entrypoint.sh'],
  Cmd: ['nginx', '-g', 'daemon off;'],
  Env: ['PATH=/opt/bin:/usr/bin', 'NGINX_VERSION=1.25', 'MODE=image'],
  WorkingDir: '/srv',
  User: 'www',
  Labels: { maintainer: 'someone', tier: 'image' },
  StopSignal: 'SIGQUIT',
  ExposedPorts: { '80/tcp': {}, '53/udp': {} },
};

const HOST: HostView = {
  cwd: '/home/u/project',
  env: { HOME: '/home/u', FROM_HOST: 'yes', MODE: 'host' },
  readFile: (f) => ({ '/home/u/a.env': '# comment\n  A=1\r\nMODE=file\n\nFROM_HOST\nUNSET_ONE\n', '/home/u/labels': '# labels\ntier=file\nteam=core\n\nbare\n' } as Record<string, string>)[f],
  exists: (f) => ['/home/u/project/data', '/etc/app', '/home/u/project'].includes(f),
  device: (f, write) => (f === '/dev/fuse' ? 'ok' : f === '/dev/kmsg' ? (write ? 'denied' : 'ok') : f === '/etc/app' ? 'not-a-device' : 'missing'),
};

// Their paths come from the command table.
const RUN = await loadCommands(['run']);
const CREATE = await loadCommands(['create']);

function parse(argv: string[], verb: 'run' | 'create' = 'run'): CreateOptions {
  const cli = new Cli({ binaryName: 'tsctr' });
  for (const Cls of [...RUN, ...CREATE]) cli.register(Cls);
  const cmd = cli.process([verb, ...argv]) as unknown as { createOptions(detach: boolean): CreateOptions; detach?: boolean };
  return cmd.createOptions(verb === 'create' ? true : !!cmd.detach);
}

const spec = (argv: string[], img: ImageRunConfig = IMG, verb: 'run' | 'create' = 'run') => buildContainerSpec(parse(argv, verb), img, HOST);
const fails = (argv: string[], message: string | RegExp, img: ImageRunConfig = IMG) =>
  assert.throws(() => spec(argv, img), (e: Error) => (typeof message === 'string' ? e.message === message : message.test(e.message)), argv.join(' '));

describe('options → spec', () => {
  test('a bare run takes everything from the image', () => {
    const s = spec(['nginx']);
    assert.deepEqual(s, { ...imageDefaults('nginx', IMG), env: ['PATH=/opt/bin:/usr/bin', 'NGINX_VERSION=1.25', 'MODE=image'] });
    assert.deepEqual([s.entrypoint, s.cmd, s.workingDir, s.user, s.stopSignal, s.stopTimeout], [['/docker-entrypoint.sh'], ['nginx', '-g', 'daemon off;'], '/srv', 'www', 'SIGQUIT', 10]);
    assert.deepEqual(s.exposedPorts, ['80/tcp', '53/udp']);
    assert.equal(s.network, 'default');
    assert.equal(s.name, undefined, 'a random name is the create step’s');
    assert.equal(s.hostname, undefined, 'the id’s prefix is the create step’s');
    const bare = spec(['busybox', 'true'], {});
    assert.deepEqual(bare.env, [DEFAULT_PATH], "docker's PATH when the image sets none");
    assert.deepEqual([bare.workingDir, bare.user, bare.stopSignal], ['/', '', 'SIGTERM']);
  });

  test('entrypoint and command: docker’s override rules', () => {
    // A trailing command replaces Cmd, keeps the Entrypoint.
    assert.deepEqual(pick(spec(['nginx', 'ls', '-l'])), [['/docker-entrypoint.sh'], ['ls', '-l']]);
    // --entrypoint replaces the Entrypoint and drops the image's Cmd...
    assert.deepEqual(pick(spec(['--entrypoint', '/bin/sh', 'nginx'])), [['/bin/sh'], null]);
    // ...and a trailing command becomes its arguments.
    assert.deepEqual(pick(spec(['--entrypoint', '/bin/sh', 'nginx', '-c', 'echo hi'])), [['/bin/sh'], ['-c', 'echo hi']]);
    // An empty --entrypoint clears it: the command alone runs.
    assert.deepEqual(pick(spec(['--entrypoint', '', 'nginx', 'echo'])), [null, ['echo']]);
    // Options after the image belong to the command.
    assert.deepEqual(pick(spec(['nginx', '-e', 'X=1'])), [['/docker-entrypoint.sh'], ['-e', 'X=1']]);
    fails(['--entrypoint', '', 'nginx'], 'no command specified');
    fails(['scratchy'], 'no command specified', {});
  });

  test('env: image, then --env-host, --env-file, -e; later wins, -e NAME copies the host’s', () => {
    assert.deepEqual(spec(['-e', 'MODE=flag', '-e', 'NEW=1', '--env', 'FROM_HOST', '-e', 'NOT_SET', 'nginx']).env, [
      'PATH=/opt/bin:/usr/bin', 'NGINX_VERSION=1.25', 'MODE=flag', 'NEW=1', 'FROM_HOST=yes',
    ]);
    assert.deepEqual(spec(['--env-file', '/home/u/a.env', 'nginx']).env, ['PATH=/opt/bin:/usr/bin', 'NGINX_VERSION=1.25', 'MODE=file', 'A=1', 'FROM_HOST=yes']);
    assert.deepEqual(spec(['--env-file', '/home/u/a.env', '-e', 'MODE=flag', 'nginx']).env.filter((e) => e.startsWith('MODE=')), ['MODE=flag']);
    fails(['--env-file', '/nope.env', 'nginx'], 'open /nope.env: no such file or directory');
  });

  test('--env-host: the whole host environment, over the image’s, under -e', () => {
    assert.deepEqual(spec(['--env-host', 'nginx']).env, ['PATH=/opt/bin:/usr/bin', 'NGINX_VERSION=1.25', 'MODE=host', 'HOME=/home/u', 'FROM_HOST=yes']);
    assert.deepEqual(spec(['--env-host', '-e', 'MODE=flag', 'nginx']).env.filter((e) => e.startsWith('MODE=')), ['MODE=flag']);
    assert.ok(!spec(['nginx']).env.some((e) => e.startsWith('HOME=')), 'nothing of the host without it');
  });

  test('name, hostname, workdir, user, labels, stop signal and timeout, tty, stdin, init, read-only', () => {
    const s = spec(['--name', 'web.1', '-h', 'box', '-w', '/app', '-u', '1000:1000', '-l', 'tier=web', '--label', 'flag', '--stop-signal', 'SIGINT',
      '--stop-timeout', '3', '-t', '-i', '--init', '--read-only', 'nginx']);
    assert.deepEqual(
      [s.name, s.hostname, s.workingDir, s.user, s.labels, s.stopSignal, s.stopTimeout, s.tty, s.openStdin, s.init, s.readOnly],
      ['web.1', 'box', '/app', '1000:1000', { maintainer: 'someone', tier: 'web', flag: '' }, 'SIGINT', 3, true, true, true, true],
    );
    assert.deepEqual([spec(['-it', 'nginx']).tty, spec(['-it', 'nginx']).openStdin], [true, true]);
    assert.equal(spec(['--stop-timeout=-1', 'nginx']).stopTimeout, -1);
    fails(['--name', 'a/b', 'nginx'], 'Invalid container name (a/b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
    fails(['-w', 'rel', 'nginx'], "the working directory 'rel' is invalid, it needs to be an absolute path");
    fails(['--stop-signal', 'SIGNOPE', 'nginx'], 'invalid signal: SIGNOPE');
    fails(['--stop-timeout', 'soon', 'nginx'], 'invalid --stop-timeout NaN');
    fails(['--stop-timeout=-2', 'nginx'], 'invalid --stop-timeout -2');
  });

  test('-v, --mount, --tmpfs: binds resolved against the host’s directory, anonymous volumes marked', () => {
    const s = spec(['-v', './data:/data:ro', '-v', 'cache:/cache', '-v', '/anon', '--mount', 'type=bind,src=/etc/app,dst=/cfg,readonly',
      '--mount', 'type=volume,target=/v2', '--tmpfs', '/run:size=1m', '--mount', 'type=tmpfs,dst=/t,tmpfs-size=1k', 'nginx']);
    assert.deepEqual(s.mounts, [
      { type: 'bind', source: '/home/u/project/data', destination: '/data', readOnly: true },
      { type: 'volume', source: 'cache', destination: '/cache', readOnly: false },
      { type: 'volume', source: '', destination: '/anon', readOnly: false, anonymous: true },
      { type: 'tmpfs', source: '', destination: '/run', readOnly: false, options: 'size=1m' },
      { type: 'bind', source: '/etc/app', destination: '/cfg', readOnly: true },
      { type: 'volume', source: '', destination: '/v2', readOnly: false, anonymous: true },
      { type: 'tmpfs', source: '', destination: '/t', readOnly: false, options: 'rw,nosuid,nodev,noexec,size=1024' },
    ]);
    fails(['-v', './missing:/m', 'nginx'], "invalid volume specification: './missing:/m': bind source path does not exist: /home/u/project/missing");
    fails(['-v', '/x:rel', 'nginx'], "invalid volume specification: '/x:rel': destination must be an absolute path");
    fails(['-v', 'cache:/c:bogus', 'nginx'], 'invalid mode: bogus');
    fails(['-v', 'bad name:/c', 'nginx'], 'invalid volume name "bad name": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
    fails(['-v', 'x:/proc', 'nginx'], "invalid mount specification 'x:/proc': /proc cannot be mounted over (it is the kernel's: /proc, /sys, /dev)");
    fails(['--mount', 'type=bind,src=/nope,dst=/n', 'nginx'], 'invalid mount config for type "bind": bind source path does not exist: /nope');
    fails(['--mount', 'type=bind,dst=/n', 'nginx'], 'invalid argument "type=bind,dst=/n" for "--mount" flag: source is required when specifying bind mounts');
    fails(['--mount', 'type=volume,src=v', 'nginx'], 'invalid argument "type=volume,src=v" for "--mount" flag: target is required');
    fails(['--mount', 'type=nfs,dst=/n', 'nginx'], 'invalid argument "type=nfs,dst=/n" for "--mount" flag: mount type "nfs" is not supported (bind, volume, tmpfs)');
    fails(['--mount', 'type=volume,dst=/n,color=red', 'nginx'], `invalid argument "type=volume,dst=/n,color=red" for "--mount" flag: unexpected key 'color' in 'color=red'`);
    fails(['--tmpfs', 'run', 'nginx'], 'invalid tmpfs specification "run": destination must be an absolute path');
    fails(['--tmpfs', '/run:bogus', 'nginx'], 'invalid tmpfs option "bogus" in "/run:bogus"');
    fails(['--tmpfs', '/sys/x', 'nginx'], /\/sys\/x cannot be mounted over/);
  });

  test('-p, -P: bindings, the image’s exposed ports on random host ports', () => {
    assert.deepEqual(spec(['-p', '8080:80', '-p', '127.0.0.1::53/udp', 'nginx']).portBindings, [
      { hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostIp: '127.0.0.1', hostPort: 0, containerPort: 53, protocol: 'udp' },
    ]);
    assert.deepEqual(spec(['-P', 'nginx']).portBindings, [
      { hostIp: '', hostPort: 0, containerPort: 80, protocol: 'tcp' },
      { hostIp: '', hostPort: 0, containerPort: 53, protocol: 'udp' },
    ]);
    assert.deepEqual(spec(['--publish-all', 'busybox', 'true'], {}).portBindings, []);
    fails(['-p', '8080:80/sctp', 'nginx'], 'invalid protocol "sctp" in publish spec "8080:80/sctp" (tcp or udp)');
    fails(['-p', '1000-1300:1000-1300', 'nginx'], 'too many published ports (301): tsctr publishes at most 256 per container (each on IPv4 and IPv6)');
  });

  test('--network, --pod: modes, and a pod’s network and label', () => {
    for (const [given, mode] of [[undefined, 'default'], ['bridge', 'default'], ['default', 'default'], ['pasta', 'pasta'], ['slirp4netns', 'slirp4netns'],
      ['none', 'none'], ['host', 'host'], ['container:db', 'container:db']] as const) {
      assert.equal(spec([...(given ? ['--network', given] : []), 'nginx']).network, mode, String(given));
    }
    assert.equal(spec(['--net', 'none', 'nginx']).network, 'none');
    // A user network by name: whether it exists is the create step's to check (it reads the network store).
    const u = spec(['--network', 'mynet', '--network', 'other', '--network-alias', 'db', 'nginx']);
    assert.deepEqual([u.network, u.endpointRequest], ['mynet', { networks: ['mynet', 'other'], aliases: ['db'] }]);
    fails(['--network', 'bad name!', 'nginx'], /^network bad name! not found/);
    fails(['--network', 'mynet', '--network', 'host', 'nginx'], /cannot attach both user-defined and non-user-defined network-modes/);
    fails(['--network-alias', 'db', 'nginx'], 'network-scoped aliases are only supported for user-defined networks');
    const p = spec(['--pod', 'web', '-l', 'a=b', 'nginx']);
    assert.deepEqual([p.pod, p.network, p.labels['io.tsctr.pod'], p.labels.a], ['web', 'container:web-infra', 'web', 'b']);
    assert.equal(spec(['--pod', 'web', '--network', 'container:web-infra', 'nginx']).network, 'container:web-infra');
    fails(['--pod', 'web', '-p', '80', 'nginx'], 'published ports belong to the pod: give them to pod create, not to the container');
    fails(['--pod', 'web', '-P', 'nginx'], 'published ports belong to the pod: give them to pod create, not to the container');
    fails(['--pod', 'web', '--network', 'host', 'nginx'], "a container of pod web uses the pod's network; --network host conflicts");
  });

  test('--memory, --cpus, --pids-limit, --ulimit', () => {
    const s = spec(['-m', '64m', '--cpus', '1.5', '--pids-limit', '100', '--ulimit', 'nofile=1024:4096', '--ulimit', 'core=0', 'nginx']);
    assert.deepEqual([s.memory, s.nanoCpus, s.pidsLimit], [64 * 1024 * 1024, 1.5e9, 100]);
    assert.deepEqual(s.ulimits, [{ name: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }, { name: 'RLIMIT_CORE', soft: 0, hard: 0 }]);
    assert.deepEqual([spec(['--memory', '1g', 'nginx']).memory], [1024 ** 3]);
    fails(['-m', '1m', 'nginx'], 'Minimum memory limit allowed is 6MB');
    fails(['--cpus', '0', 'nginx'], 'invalid argument "0" for "--cpus" flag');
    fails(['--pids-limit', 'many', 'nginx'], 'invalid argument "many" for "--pids-limit" flag');
    fails(['--ulimit', 'bogus=1', 'nginx'], 'invalid ulimit argument: bogus=1');
    fails(['--ulimit', 'nofile=9:1', 'nginx'], 'ulimit soft limit must be less than or equal to hard limit: 9 > 1');
  });

  test('--restart and --rm', () => {
    assert.deepEqual(spec(['--restart', 'on-failure:3', 'nginx']).restart, { name: 'on-failure', maxRetries: 3 });
    assert.deepEqual(spec(['--restart', 'always', 'nginx']).restart, { name: 'always', maxRetries: 0 });
    assert.deepEqual(spec(['nginx']).restart, { name: 'no', maxRetries: 0 });
    assert.equal(spec(['--rm', 'nginx']).autoRemove, true);
    assert.equal(spec(['--rm', 'nginx'], IMG, 'create').autoRemove, true);
    // docker refuses the pair for a detached container (create is one); an attached run ends with its --rm.
    fails(['-d', '--rm', '--restart', 'always', 'nginx'], 'Conflicting options: --restart and --rm');
    assert.throws(() => spec(['--rm', '--restart', 'always', 'nginx'], IMG, 'create'), /Conflicting options: --restart and --rm/);
    assert.equal(spec(['--rm', '--restart', 'always', 'nginx']).autoRemove, true);
    fails(['--restart', 'sometimes', 'nginx'], "invalid restart policy 'sometimes': use no, always, unless-stopped or on-failure[:N]");
    fails(['--restart', 'always:3', 'nginx'], "maximum retry count cannot be used with restart policy 'always'");
    fails(['--restart', 'on-failure:-1', 'nginx'], 'invalid restart policy: maximum retry count must be a positive integer');
  });

  test('--cap-add, --cap-drop, --security-opt, --log-opt', () => {
    const s = spec(['--cap-add', 'sys_admin', '--cap-drop', 'CAP_NET_RAW', '--security-opt', 'seccomp=unconfined', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=2', 'nginx']);
    assert.deepEqual([s.capAdd, s.capDrop, s.securityOpt], [['sys_admin'], ['CAP_NET_RAW'], ['seccomp=unconfined']]);
    assert.deepEqual(s.logConfig, { type: 'k8s-file', config: { 'max-size': '1m', 'max-file': '2' } });
    assert.equal(spec(['nginx']).logConfig, undefined, 'no options: the default cap, not stored');
    fails(['--cap-add', 'NOT_A_CAP', 'nginx'], 'invalid capability: NOT_A_CAP');
    fails(['--cap-drop', 'bogus', 'nginx'], 'invalid capability: bogus');
    fails(['--security-opt', 'apparmor=x', 'nginx'], '--security-opt apparmor=x: not supported by tsctr (supported: seccomp=unconfined, no-new-privileges)');
    fails(['--security-opt', 'seccomp=./p.json', 'nginx'], /seccomp profiles from a file are not supported/);
    fails(['--log-opt', 'colour=1', 'nginx'], "unknown log opt 'colour' for k8s-file log driver (tsctr knows max-size and max-file)");
    fails(['--log-opt', 'max-file=3', 'nginx'], 'max-file cannot be set without max-size');
    fails(['--log-opt', 'max-size', 'nginx'], "invalid log opt 'max-size': expected key=value");
  });

  test('--pull and --platform are the image’s business: in the options, not in the spec', () => {
    const o = parse(['--pull', 'never', '--platform', 'linux/arm64', 'nginx']);
    assert.deepEqual([o.pull, o.platform], ['never', 'linux/arm64']);
    assert.equal(parse(['nginx']).pull, 'missing');
    assert.deepEqual(buildContainerSpec(o, IMG, HOST), spec(['nginx']));
  });

  test('the same input gives the same spec: nothing from the clock, chance or the disk', () => {
    const argv = ['-v', '/anon', '-v', './data:/d', '--env-file', '/home/u/a.env', 'nginx'];
    assert.deepEqual(spec(argv), spec(argv));
  });
});

/** One case per flag of the table: a flag added without a test fails the type check and the test below. */
const FLAG_CASES: { [K in keyof CreateFlags]: [string[], (s: ContainerSpec, o: CreateOptions) => unknown, unknown] } = {
  name: [['--name', 'n1'], (s) => s.name, 'n1'],
  hostname: [['--hostname', 'h1'], (s) => s.hostname, 'h1'],
  env: [['-e', 'K=V'], (s) => s.env.at(-1), 'K=V'],
  envFile: [['--env-file', '/home/u/a.env'], (s) => s.env.includes('A=1'), true],
  envHost: [['--env-host'], (s) => s.env.includes('HOME=/home/u'), true],
  workdir: [['--workdir', '/w'], (s) => s.workingDir, '/w'],
  user: [['--user', 'nobody'], (s) => s.user, 'nobody'],
  entrypoint: [['--entrypoint', 'sh'], (s) => s.entrypoint, ['sh']],
  volume: [['--volume', 'vol:/v'], (s) => s.mounts[0]?.source, 'vol'],
  mount: [['--mount', 'type=tmpfs,dst=/m'], (s) => s.mounts[0]?.type, 'tmpfs'],
  tmpfs: [['--tmpfs', '/t'], (s) => s.mounts[0]?.options, 'rw,nosuid,nodev,noexec,size=65536k'],
  readOnly: [['--read-only'], (s) => s.readOnly, true],
  init: [['--init'], (s) => s.init, true],
  ulimit: [['--ulimit', 'nproc=5'], (s) => s.ulimits[0]?.name, 'RLIMIT_NPROC'],
  memory: [['--memory', '10m'], (s) => s.memory, 10 * 1024 * 1024],
  cpus: [['--cpus', '0.25'], (s) => s.nanoCpus, 2.5e8],
  pidsLimit: [['--pids-limit=-1'], (s) => s.pidsLimit, -1],
  restart: [['--restart', 'unless-stopped'], (s) => s.restart.name, 'unless-stopped'],
  stopSignal: [['--stop-signal', '9'], (s) => s.stopSignal, '9'],
  stopTimeout: [['--stop-timeout', '0'], (s) => s.stopTimeout, 0],
  label: [['--label', 'k=v'], (s) => s.labels.k, 'v'],
  pull: [['--pull', 'always'], (_s, o) => o.pull, 'always'],
  tty: [['--tty'], (s) => s.tty, true],
  interactive: [['--interactive'], (s) => s.openStdin, true],
  rm: [['--rm'], (s) => s.autoRemove, true],
  network: [['--network', 'pasta'], (s) => s.network, 'pasta'],
  networkAlias: [['--network', 'appnet', '--network-alias', 'db'], (s) => s.endpointRequest?.aliases, ['db']],
  ip: [['--network', 'appnet', '--ip', '10.89.1.7'], (s) => s.endpointRequest?.ip, '10.89.1.7'],
  macAddress: [['--network', 'appnet', '--mac-address', '02:42:0a:59:01:07'], (s) => s.endpointRequest?.mac, '02:42:0a:59:01:07'],
  dns: [['--dns', '10.0.0.53'], (s) => s.dnsConfig?.dns, ['10.0.0.53']],
  dnsSearch: [['--dns-search', 'example.com'], (s) => s.dnsConfig?.dnsSearch, ['example.com']],
  dnsOption: [['--dns-option', 'ndots:2'], (s) => s.dnsConfig?.dnsOptions, ['ndots:2']],
  addHost: [['--add-host', 'db:10.1.2.3'], (s) => s.dnsConfig?.extraHosts, ['db:10.1.2.3']],
  publish: [['--publish', '80'], (s) => s.portBindings.length, 1],
  pod: [['--pod', 'p'], (s) => s.network, 'container:p-infra'],
  publishAll: [['--publish-all'], (s) => s.portBindings.length, 2],
  platform: [['--platform', 'linux/amd64'], (_s, o) => o.platform, 'linux/amd64'],
  capAdd: [['--cap-add', 'NET_ADMIN'], (s) => s.capAdd, ['NET_ADMIN']],
  capDrop: [['--cap-drop', 'ALL'], (s) => s.capDrop, ['ALL']],
  logOpt: [['--log-opt', 'max-size=-1'], (s) => s.logConfig?.config['max-size'], '-1'],
  securityOpt: [['--security-opt', 'no-new-privileges=false'], (s) => s.securityOpt, ['no-new-privileges=false']],
  healthCmd: [['--health-cmd', 'true'], (s) => s.healthcheck?.Test, ['CMD-SHELL', 'true']],
  healthInterval: [['--health-cmd', 'true', '--health-interval', '2s'], (s) => s.healthcheck?.Interval, 2e9],
  healthTimeout: [['--health-cmd', 'true', '--health-timeout', '1s'], (s) => s.healthcheck?.Timeout, 1e9],
  healthRetries: [['--health-cmd', 'true', '--health-retries', '5'], (s) => s.healthcheck?.Retries, 5],
  healthStartPeriod: [['--health-cmd', 'true', '--health-start-period', '3s'], (s) => s.healthcheck?.StartPeriod, 3e9],
  healthStartInterval: [['--health-cmd', 'true', '--health-start-interval', '1s'], (s) => s.healthcheck?.StartInterval, 1e9],
  noHealthcheck: [['--no-healthcheck'], (s) => s.healthcheck, { Test: ['NONE'] }],
  replace: [['--replace', '--name', 'web'], (_s, o) => o.replace, true],
  userns: [['--userns', 'keep-id'], (s) => s.usernsMode, 'keep-id'],
  uidmap: [['--uidmap', '0:1:1000'], (s) => s.uidMap, ['0:1:1000']],
  gidmap: [['--gidmap', '0:1:1000'], (s) => s.gidMap, ['0:1:1000']],
  groupAdd: [['--group-add', 'audio'], (s) => s.groupAdd, ['audio']],
  device: [['--device', '/dev/fuse'], (s) => s.devices, [{ pathOnHost: '/dev/fuse', pathInContainer: '/dev/fuse', cgroupPermissions: 'rwm' }]],
  privileged: [['--privileged'], (s) => s.privileged, true],
  shmSize: [['--shm-size', '1g'], (s) => s.shmSize, 1024 ** 3],
  sysctl: [['--sysctl', 'net.ipv4.ip_forward=1'], (s) => s.sysctls, { 'net.ipv4.ip_forward': '1' }],
  cidfile: [['--cidfile', 'id.txt'], (s) => s.containerIdFile, '/home/u/project/id.txt'],
  labelFile: [['--label-file', '/home/u/labels'], (s) => s.labels.team, 'core'],
  pid: [['--pid', 'host'], (s) => s.pidMode, 'host'],
  ipc: [['--ipc', 'container:db'], (s) => s.ipcMode, 'container:db'],
  uts: [['--uts', 'host'], (s) => s.utsMode, 'host'],
  logDriver: [['--log-driver', 'none'], (s) => s.logConfig?.type, 'none'],
  oomScoreAdj: [['--oom-score-adj', '500'], (s) => s.oomScoreAdj, 500],
  memoryReservation: [['--memory-reservation', '32m'], (s) => s.memoryReservation, 32 * 1024 * 1024],
  memorySwap: [['--memory-swap=-1'], (s) => s.memorySwap, -1],
  cpuShares: [['--cpu-shares', '512'], (s) => s.cpuShares, 512],
  cpusetCpus: [['--cpuset-cpus', '0-1'], (s) => s.cpusetCpus, '0-1'],
  blkioWeight: [['--blkio-weight', '300'], (s) => s.blkioWeight, 300],
  // Default on: the host's proxy variables (HOST has none, so the flag's value is what reaches the builder).
  httpProxy: [['--http-proxy=false'], (_s, o) => o.httpProxy, 'false'],
  detachKeys: [['--detach-keys', 'ctrl-x,x'], (_s, o) => o.detachKeys, 'ctrl-x,x'],
};

test('the namespace, device, sysctl, resource and log flags: docker’s values and docker’s errors', () => {
  const s = spec(['--label-file', '/home/u/labels', '-l', 'tier=flag', '--device', '/dev/kmsg:/dev/k:r', '--device', '/dev/fuse:rw', '--sysctl', 'kernel.shmmax=1024',
    '--sysctl', 'fs.mqueue.msg_max=20', '--ipc', 'shareable', '--pid', 'private', '-m', '64m', '--memory-swap', '128m', '--memory-reservation', '16m', 'nginx']);
  assert.deepEqual([s.labels.tier, s.labels.team, s.labels.bare], ['flag', 'core', '']);
  assert.deepEqual(s.devices, [{ pathOnHost: '/dev/kmsg', pathInContainer: '/dev/k', cgroupPermissions: 'r' }, { pathOnHost: '/dev/fuse', pathInContainer: '/dev/fuse', cgroupPermissions: 'rw' }]);
  assert.deepEqual(s.sysctls, { 'kernel.shmmax': '1024', 'fs.mqueue.msg_max': '20' });
  assert.deepEqual([s.ipcMode, s.pidMode, s.memorySwap, s.memoryReservation], ['shareable', undefined, 128 * 1024 * 1024, 16 * 1024 * 1024]);
  assert.deepEqual([spec(['--memory-swap', '0', 'nginx']).memorySwap, spec(['--memory-swap=-1', '-m', '8m', 'nginx']).memorySwap], [undefined, -1]);
  assert.equal(spec(['--http-proxy', 'nginx']).env.length, spec(['nginx']).env.length);
  const proxyHost = { ...HOST, env: { ...HOST.env, https_proxy: 'http://proxy:3128', NO_PROXY: 'localhost' } };
  assert.deepEqual(buildContainerSpec(parse(['-e', 'NO_PROXY=x', 'nginx']), IMG, proxyHost).env.slice(3), ['https_proxy=http://proxy:3128', 'NO_PROXY=x'], '-e wins');
  assert.equal(buildContainerSpec(parse(['--http-proxy=false', 'nginx']), IMG, proxyHost).env.length, 3);
  assert.equal(spec(['--log-driver', 'json-file', '--log-opt', 'max-size=1m', 'nginx']).logConfig?.type, 'json-file');
  fails(['--device', '/dev/nope', 'nginx'], 'error gathering device information while adding custom device "/dev/nope": no such file or directory');
  fails(['--device', '/dev/kmsg', 'nginx'], /^error gathering device information while adding custom device "\/dev\/kmsg": permission denied: rootless/);
  fails(['--device', '/etc/app', 'nginx'], /not a device node/);
  fails(['--device', '/dev/fuse:/dev/f:rx', 'nginx'], 'invalid argument "/dev/fuse:/dev/f:rx" for "--device" flag: invalid device mode: rx');
  fails(['--sysctl', 'vm.swappiness=1', 'nginx'], /^invalid argument "vm.swappiness=1" for "--sysctl" flag: sysctl 'vm.swappiness=1' is not allowed/);
  fails(['--sysctl', 'kernel.pid_max=9', 'nginx'], /is not allowed: it is not namespaced/);
  fails(['--sysctl', 'net.ipv4.ip_forward=1', '--network', 'host', 'nginx'], /not allowed in the host's network namespace/);
  fails(['--sysctl', 'kernel.shmmax=1', '--ipc', 'host', 'nginx'], /not allowed in the host's IPC namespace/);
  fails(['--sysctl', 'noequals', 'nginx'], /is not in the form key=value/);
  fails(['--shm-size', 'lots', 'nginx'], /^invalid argument "lots" for "--shm-size" flag/);
  fails(['--userns', 'host', 'nginx'], /^--userns host: rootless, a container always has a user namespace of its own/);
  fails(['--userns', 'auto', 'nginx'], /invalid user namespace mode 'auto'/);
  fails(['--uidmap', '0:1', 'nginx'], /^invalid argument "0:1" for "--uidmap" flag: want CONTAINER:HOST:COUNT/);
  fails(['--userns', 'keep-id', '--uidmap', '0:1:5', 'nginx'], '--userns and --uidmap cannot be used together');
  fails(['--group-add', 'a b', 'nginx'], /invalid group name or id 'a b'/);
  fails(['--pid', 'bogus', 'nginx'], /^--pid: invalid PID mode 'bogus'/);
  fails(['--ipc', 'weird', 'nginx'], /^--ipc: invalid IPC mode 'weird'/);
  fails(['--uts', 'container:x', 'nginx'], /^--uts: invalid UTS mode 'container:x' \(host\)$/);
  fails(['--uts', 'host', '-h', 'box', 'nginx'], 'Conflicting options: hostname and the UTS mode');
  fails(['--log-driver', 'gelf', 'nginx'], 'error looking up logging plugin gelf: plugin "gelf" not found');
  fails(['--log-driver', 'journald', 'nginx'], /the journald log driver is not supported by tsctr/);
  fails(['--oom-score-adj', '1001', 'nginx'], 'Invalid value: 1001, range for oom score adj is [-1000, 1000]');
  fails(['--memory-reservation', '128m', '-m', '64m', 'nginx'], 'Minimum memory limit can not be less than memory reservation limit, see usage');
  fails(['--memory-swap', '1g', 'nginx'], 'You should always set the Memory limit when using Memoryswap limit, see usage');
  fails(['--memory-swap', '32m', '-m', '64m', 'nginx'], 'Minimum memoryswap limit should be larger than memory limit, see usage');
  fails(['--cpu-shares', 'half', 'nginx'], /^invalid argument "half" for "--cpu-shares" flag/);
  fails(['--cpuset-cpus', '3-1', 'nginx'], 'Invalid value 3-1 for cpuset cpus');
  fails(['--blkio-weight', '5', 'nginx'], 'Range of blkio weight is from 10 to 1000');
  fails(['--http-proxy=maybe', 'nginx'], /^invalid argument "maybe" for "--http-proxy" flag/);
  fails(['--detach-keys', 'ctrl-xx', 'nginx'], 'Invalid detach keys (ctrl-xx) provided');
  fails(['--label-file', '/nope', 'nginx'], 'open /nope: no such file or directory');
});

test('every flag of the table, by its long name, reaches the spec (or the options, for the image’s)', () => {
  assert.deepEqual(Object.keys(FLAG_CASES).sort(), Object.keys(CREATE_FLAGS).sort());
  for (const [key, [argv, get, want]] of Object.entries(FLAG_CASES)) {
    const o = parse([...argv, 'nginx']);
    assert.deepEqual(get(buildContainerSpec(o, IMG, HOST), o), want, key);
    assert.notDeepEqual(get(buildContainerSpec(defaultCreateOptions('nginx'), IMG, HOST), defaultCreateOptions('nginx')), want, `${key}: not the default`);
  }
});

test('checkSpec holds the engine’s typed callers to what the flags’ parsers check', () => {
  const base = imageDefaults('busybox', { Cmd: ['sh'] });
  checkSpec(base);
  checkSpec(imageDefaults('systemd', { Cmd: ['/sbin/init'], StopSignal: 'SIGRTMIN+3' })); // an image's signal is its own business
  const bad: [Partial<ContainerSpec>, RegExp][] = [
    [{ cmd: null }, /no command specified/],
    [{ workingDir: 'x' }, /needs to be an absolute path/],
    [{ name: 'a b' }, /Invalid container name/],
    [{ mounts: [{ type: 'volume', source: 'a b', destination: '/x', readOnly: false }] }, /invalid volume name/],
    [{ mounts: [{ type: 'bind', source: '/tmp', destination: '/proc', readOnly: false }] }, /cannot be mounted over/],
    [{ mounts: [{ type: 'bind', source: 'rel', destination: '/x', readOnly: false }] }, /must be an absolute path/],
    [{ memory: 1024 }, /Minimum memory limit/],
    [{ capAdd: ['NOPE'] }, /invalid capability/],
    [{ stopTimeout: 1.5 }, /invalid --stop-timeout/],
  ];
  for (const [change, message] of bad) assert.throws(() => checkSpec({ ...base, ...change }), message, JSON.stringify(change));
});

test('the record keeps docker’s Config/HostConfig split, the create command, and old field names', () => {
  const s = { ...spec(['-h', 'box', '-p', '80', '--name', 'n', 'nginx', 'ls']), createCommand: ['-h', 'box', '-p', '80', '--name', 'n', 'nginx', 'ls'] };
  const r = recordOf(s, { id: 'f'.repeat(64), name: 'n', imageId: 'sha256:1', created: 'T', storage: 'overlay' });
  assert.deepEqual([r.path, r.args, r.config.hostname, r.config.cmd, r.hostConfig.portBindings.length, r.createCommand], ['/docker-entrypoint.sh', ['ls'], 'box', ['ls'], 1, s.createCommand]);
  assert.ok(!('name' in r.hostConfig) && !('pod' in r.hostConfig) && !('createCommand' in r.hostConfig) && !('env' in r.hostConfig));
  assert.equal(recordOf(spec(['nginx']), { id: 'abcdef0123456789', name: 'x', imageId: 'i', created: 'T', storage: 'overlay' }).config.hostname, 'abcdef012345');
});

describe('generate systemd --new: the create command without what the unit decides', () => {
  const rec = (createCommand?: string[], extra: object = {}) => ({ name: 'web', createCommand, ...extra }) as unknown as ContainerRecord;
  test('detach, name, --rm, terminals, the pid file and global options go; the rest stays as typed', () => {
    assert.deepEqual(
      unitRunArgs(rec(['-d', '--name', 'web', '--rm', '-it', '-e', '-d', '--name=x', '--root', '/r', '--monitor-pidfile', '/p', '-p', '8080:80', '-dp', '9:9', '--env-host', 'nginx', '-d', '--rm']), GLOBAL_WITH_VALUE),
      ['-e', '-d', '-p', '8080:80', '-p', '9:9', '--env-host', 'nginx', '-d', '--rm'],
    );
    assert.deepEqual(unitRunArgs(rec(['--label=a=b', '-v', './x:/x', '--', 'busybox', 'sh']), GLOBAL_WITH_VALUE), ['--label=a=b', '-v', './x:/x', '--', 'busybox', 'sh']);
  });
  test('a container without a command line says why --new cannot recreate it', () => {
    assert.throws(() => unitRunArgs(rec(undefined), GLOBAL_WITH_VALUE), /^Error: container web was not created from a command line .*: --new cannot recreate it; generate the unit without --new$|container web was not created from a command line/);
    assert.throws(() => unitRunArgs(rec(undefined, { createOptions: { image: 'nginx' } }), GLOBAL_WITH_VALUE), /container web was created by an older tsctr that did not keep its command line: --new cannot recreate it/);
  });
});

function pick(s: ContainerSpec): [string[] | null, string[] | null] {
  return [s.entrypoint, s.cmd];
}
