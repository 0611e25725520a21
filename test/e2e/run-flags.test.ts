/**
 * docker's remaining run/create flags, as the unprivileged user, in real containers: what each
 * changes inside (namespaces shared with the host or another container, /dev/shm, sysctls,
 * capabilities and seccomp of --privileged, devices, groups, the OOM score, the log driver, the
 * id file, proxies, the user namespace), what inspect shows in HostConfig, and that bad values
 * are one `Error:` line, exit 125, nothing created.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspectJson, subordinateStart } from '../support/harness.js';
import { useSandbox } from '../support/hooks.js';

const sb = useSandbox('runflags', { pull: ['busybox'] });

const count = () => sb.ok(['ps', '-aq']).trim().split('\n').filter(Boolean).length;
const sh = (flags: string[], script: string) => sb.ok(['run', '--rm', ...flags, 'busybox', 'sh', '-c', script]).trim();

/** Bad input: one Error line, exit 125, no container left behind. */
function refused(args: string[], message: RegExp): void {
  const before = count();
  const r = sb.run(args);
  assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
  assert.match(r.stderr, /^Error: .*\n$/, args.join(' '));
  assert.match(r.stderr, message, args.join(' '));
  assert.equal(count(), before, `${args.join(' ')} left a container`);
}

describe('run/create flags', () => {
  test('inspect shows each flag in HostConfig with docker’s names; --cidfile and --label-file', () => {
    const cid = path.join(sb.dir, 'cid');
    const labels = path.join(sb.dir, 'labels');
    fs.writeFileSync(labels, '# team labels\nteam=core\ntier=file\n');
    sb.ok(['create', '--name', 'shown', '--cidfile', cid, '--label-file', labels, '-l', 'tier=flag', '--shm-size', '16m', '--sysctl', 'net.ipv4.ip_forward=1',
      '--group-add', '123', '--device', '/dev/fuse:/dev/f:rw', '--privileged', '--pid', 'host', '--ipc', 'shareable', '--uts', 'host', '--log-driver', 'json-file',
      '--oom-score-adj', '300', '--memory', '64m', '--memory-reservation', '32m', '--memory-swap=-1', '--cpu-shares', '512', '--cpuset-cpus', '0',
      '--blkio-weight', '300', '--userns', 'keep-id', '--detach-keys', 'ctrl-a,x', 'busybox', 'true']);
    const c = inspectJson<{ Id: string; Config: { Labels: Record<string, string> }; HostConfig: Record<string, unknown> }>(sb, 'shown');
    assert.equal(fs.readFileSync(cid, 'utf8'), c.Id);
    assert.deepEqual([c.Config.Labels.team, c.Config.Labels.tier], ['core', 'flag']);
    const h = c.HostConfig;
    assert.deepEqual(
      [h.ShmSize, h.Sysctls, h.GroupAdd, h.Devices, h.Privileged, h.PidMode, h.IpcMode, h.UTSMode, (h.LogConfig as { Type: string }).Type, h.OomScoreAdj,
        h.MemoryReservation, h.MemorySwap, h.CpuShares, h.CpusetCpus, h.BlkioWeight, h.UsernsMode, h.ContainerIDFile],
      [16 * 1024 * 1024, { 'net.ipv4.ip_forward': '1' }, ['123'], [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/f', CgroupPermissions: 'rw' }], true, 'host', 'shareable', 'host',
        'json-file', 300, 32 * 1024 * 1024, -1, 512, '0', 300, 'keep-id', cid],
    );
    const plain = inspectJson<{ HostConfig: Record<string, unknown> }>(sb, sb.ok(['create', 'busybox', 'true']).trim()).HostConfig;
    assert.deepEqual([plain.ShmSize, plain.Privileged, plain.IpcMode, plain.PidMode, plain.MemorySwap], [64 * 1024 * 1024, false, 'private', '', 0]);
    // The id file is claimed: a second container with it is refused before it exists.
    refused(['create', '--cidfile', cid, 'busybox', 'true'], /Container ID file found, make sure the other container isn't running or delete /);
  });

  test('bad values: docker’s wording, exit 125, nothing created', () => {
    refused(['run', '--sysctl', 'vm.swappiness=10', 'busybox', 'true'], /sysctl 'vm.swappiness=10' is not allowed/);
    refused(['run', '--device', '/dev/kvm', 'busybox', 'true'], /error gathering device information while adding custom device "\/dev\/kvm": permission denied/);
    refused(['run', '--device', '/dev/nope', 'busybox', 'true'], /no such file or directory/);
    refused(['run', '--userns', 'host', 'busybox', 'true'], /--userns host: rootless/);
    refused(['run', '--uidmap', '0:0:70000', 'busybox', 'true'], /--uidmap 0:0:70000: outside your subordinate range/);
    refused(['run', '--shm-size', 'huge', 'busybox', 'true'], /invalid argument "huge" for "--shm-size" flag/);
    refused(['run', '--pid', 'neighbour', 'busybox', 'true'], /--pid: invalid PID mode/);
    refused(['run', '--log-driver', 'gelf', 'busybox', 'true'], /error looking up logging plugin gelf/);
    refused(['run', '--oom-score-adj', '2000', 'busybox', 'true'], /range for oom score adj is \[-1000, 1000\]/);
    refused(['run', '--blkio-weight', '1', 'busybox', 'true'], /Range of blkio weight is from 10 to 1000/);
    refused(['run', '--group-add', 'nosuchgroup', 'busybox', 'true'], /unable to find group nosuchgroup/);
    refused(['run', '--memory-swap', '1g', 'busybox', 'true'], /You should always set the Memory limit when using Memoryswap limit/);
  });

  test('--shm-size, --sysctl: in the container’s own namespaces', () => {
    assert.match(sh(['--shm-size', '16m'], 'grep " /dev/shm " /proc/mounts'), /size=16384k/);
    assert.match(sh([], 'grep " /dev/shm " /proc/mounts'), /size=65536k/);
    assert.equal(sh(['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmni=1234'], 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni'), '1\n1234');
    assert.notEqual(fs.readFileSync('/proc/sys/kernel/shmmni', 'utf8').trim(), '1234', 'the host is untouched');
  });

  test('--privileged: every capability of its namespace, no seccomp, no masked paths; the default has all three', () => {
    const status = (flags: string[]) => sh(flags, 'grep -E "^(CapEff|Seccomp):" /proc/self/status; grep -c " /proc/sys " /proc/mounts || true; grep -c " /proc/keys " /proc/mounts || true');
    const [capP, secP, sysP, keysP] = status(['--privileged']).split('\n');
    const [capD, secD, sysD, keysD] = status([]).split('\n');
    assert.match(capP!, /^CapEff:\s+000001ffffffffff$/);
    assert.match(secP!, /^Seccomp:\s+0$/);
    assert.deepEqual([sysP, keysP], ['0', '0']);
    assert.doesNotMatch(capD!, /ffffffffff$/);
    assert.match(secD!, /^Seccomp:\s+2$/);
    assert.deepEqual([sysD, keysD], ['1', '1']);
  });

  test('--group-add, --device, --oom-score-adj', () => {
    assert.match(sh(['--group-add', '123', '--group-add', 'www-data'], 'grep ^Groups: /proc/self/status'), /^Groups:.*\b33\b.*\b123\b|^Groups:.*\b123\b.*\b33\b/);
    assert.equal(sh(['-u', 'nobody', '--group-add', 'www-data'], 'id -Gn'), 'nogroup www-data');
    sb.ok(['run', '-d', '--name', 'grouped', '--group-add', '123', 'busybox', 'sleep', '60']);
    assert.match(sb.ok(['exec', 'grouped', 'id', '-G']), /\b123\b/, 'exec keeps the added groups');
    sb.ok(['rm', '-f', 'grouped']);
    // /dev/fuse (crw-rw-rw- on the host) bound at another name; the default /dev has no such node.
    assert.match(sh(['--device', '/dev/fuse:/dev/myfuse'], 'ls -l /dev/myfuse'), /^crw-rw-rw-\s.*\b10,\s+229\b/);
    assert.equal(sb.run(['run', '--rm', 'busybox', 'ls', '/dev/fuse']).code, 1);
    assert.equal(sh(['--oom-score-adj', '500'], 'cat /proc/self/oom_score_adj'), '500');
    // Lowering it below the floor a privileged ancestor set needs a privilege on the host: then
    // the start fails saying so; above that floor it applies (which one depends on the session).
    const low = sb.run(['run', '--rm', '--oom-score-adj', '-500', 'busybox', 'cat', '/proc/self/oom_score_adj']);
    if (low.code === 0) assert.equal(low.stdout, '-500\n');
    else {
      assert.equal(low.code, 125);
      assert.match(low.stderr, /--oom-score-adj -500: rootless, it can only be raised from your own/);
    }
  });

  test('--uts host, --ipc host, --pid host: the host’s namespaces', () => {
    assert.equal(sh(['--uts', 'host'], 'hostname'), os.hostname());
    const marker = `tsctr-ipc-${process.pid}`;
    fs.writeFileSync(`/dev/shm/${marker}`, 'x');
    try {
      assert.equal(sh(['--ipc', 'host'], `ls /dev/shm/${marker}`), `/dev/shm/${marker}`);
      assert.equal(sb.run(['run', '--rm', 'busybox', 'ls', `/dev/shm/${marker}`]).code, 1);
    } finally {
      fs.rmSync(`/dev/shm/${marker}`, { force: true });
    }
    assert.equal(sh(['--pid', 'host'], `test -d /proc/${process.pid} && echo seen`), 'seen');
    assert.equal(sh([], `readlink /proc/self/ns/pid`) === sh(['--pid', 'host'], 'readlink /proc/self/ns/pid'), false);
    assert.equal(sh(['--pid', 'host'], 'readlink /proc/self/ns/pid'), fs.readlinkSync('/proc/self/ns/pid'));
  });

  test('--pid and --ipc container:NAME share a running container’s namespaces; pause refuses a shared pid namespace', () => {
    sb.ok(['run', '-d', '--name', 'donor', 'busybox', 'sleep', '600']);
    const ns = (kind: string) => sb.ok(['exec', 'donor', 'readlink', `/proc/self/ns/${kind}`]).trim();
    assert.equal(sh(['--ipc', 'container:donor'], 'readlink /proc/self/ns/ipc'), ns('ipc'));
    assert.equal(sh(['--pid', 'container:donor'], 'readlink /proc/self/ns/pid'), ns('pid'));
    assert.match(sh(['--pid', 'container:donor'], 'cat /proc/1/cmdline | tr "\\0" " "'), /^sleep 600/);
    sb.ok(['run', '-d', '--name', 'guest', '--pid', 'container:donor', 'busybox', 'sleep', '600']);
    const p = sb.run(['pause', 'guest']);
    assert.notEqual(p.code, 0);
    assert.match(p.stderr, /^Error: cannot pause container guest: it shares the pid namespace of donor/);
    refused(['run', '--ipc', 'container:nosuch', 'busybox', 'true'], /no such container|No such container/);
    sb.ok(['rm', '-f', 'guest', 'donor']);
  });

  test('--log-driver none keeps no log (logs says so); json-file is the usual log', () => {
    sb.ok(['run', '--name', 'quiet', '--log-driver', 'none', 'busybox', 'echo', 'hello']);
    const r = sb.run(['logs', 'quiet']);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr, 'Error: configured logging driver does not support reading\n');
    const id = sb.ok(['inspect', '--format', '{{.Id}}', 'quiet']).trim();
    assert.ok(!fs.existsSync(path.join(sb.root, 'containers', id, 'ctr.log')));
    sb.ok(['run', '--name', 'chatty', '--log-driver', 'json-file', 'busybox', 'echo', 'hello']);
    assert.equal(sb.ok(['logs', 'chatty']), 'hello\n');
    sb.ok(['rm', 'quiet', 'chatty']);
  });

  test('--http-proxy (default on) passes the host’s proxy variables; --http-proxy=false does not', () => {
    const env = { http_proxy: 'http://proxy.example:3128', NO_PROXY: 'localhost' };
    const out = sb.ok(['run', '--rm', 'busybox', 'env'], { env });
    assert.match(out, /^http_proxy=http:\/\/proxy.example:3128$/m);
    assert.match(out, /^NO_PROXY=localhost$/m);
    assert.doesNotMatch(sb.ok(['run', '--rm', '--http-proxy=false', 'busybox', 'env'], { env }), /proxy/i);
    assert.match(sb.ok(['run', '--rm', '-e', 'http_proxy=mine', 'busybox', 'env'], { env }), /^http_proxy=mine$/m);
  });

  test('resource flags: each value in its cgroup file where the controller is delegated, named in a warning where not; never a failure', () => {
    const r = sb.run(['run', '-d', '--name', 'finer', '--memory', '64m', '--memory-swap', '128m', '--memory-reservation', '32m', '--cpu-shares', '512', '--cpuset-cpus', '0',
      '--blkio-weight', '300', 'busybox', 'sleep', '60']);
    assert.equal(r.code, 0, r.stderr);
    for (const line of r.stderr.split('\n').filter(Boolean)) assert.match(line, /^WARNING: /);
    const pid = sb.ok(['inspect', '-f', '{{.State.Pid}}', 'finer']).trim();
    const mount = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' - ')).find(([, t]) => t?.startsWith('cgroup2 '))?.[0]?.split(' ')[4];
    const cgroup = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))!.slice(3);
    if (mount && cgroup.endsWith(`/tsctr/${sb.ok(['inspect', '-f', '{{.Id}}', 'finer']).trim()}`)) {
      // Delegated: the container has its cgroup; each limit is there or named as ignored.
      const usable = fs.readFileSync(path.join(mount, path.dirname(cgroup), 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/);
      const expect: [string, string, string, string][] = [
        ['--memory-reservation', 'memory', 'memory.low', String(32 * 1024 * 1024)],
        ['--cpu-shares', 'cpu', 'cpu.weight', '20'],
        ['--cpuset-cpus', 'cpuset', 'cpuset.cpus', '0'],
        ['--blkio-weight', 'io', 'io.weight', 'default 2930'],
      ];
      for (const [flag, controller, file, value] of expect) {
        if (usable.includes(controller)) assert.equal(sb.ok(['exec', 'finer', 'cat', `/sys/fs/cgroup/${file}`]).trim(), value, file);
        else assert.match(r.stderr, new RegExp(`WARNING: [^\\n]*${flag}[^\\n]* ignored`), `${flag}: ${r.stderr}`);
      }
    } else {
      assert.match(r.stderr, /^WARNING: --memory, --memory-swap, --memory-reservation, --cpu-shares, --cpuset-cpus, --blkio-weight ignored: /m);
    }
    assert.equal(sb.ok(['exec', 'finer', 'echo', 'ran']), 'ran\n');
    sb.ok(['rm', '-f', 'finer']);
  });

  test('--userns keep-id: your uid and gid inside, the image’s files still root’s; --uidmap over your range', () => {
    const uid = process.getuid!();
    const gid = process.getgid!();
    const out = sh(['--userns', 'keep-id'], 'id -u; id -g; stat -c %u:%g /bin /etc/passwd; cat /proc/self/uid_map');
    const [u, g, binOwner, passwdOwner, ...map] = out.split('\n');
    assert.deepEqual([u, g, binOwner, passwdOwner], [String(uid), String(gid), '0:0', '0:0']);
    assert.match(map.join('\n'), new RegExp(`^\\s*${uid}\\s+${uid}\\s+1$`, 'm'));
    // As podman: your name and home in the container's /etc/passwd.
    assert.equal(sh(['--userns', 'keep-id'], 'whoami; echo $HOME'), `${os.userInfo().username}\n${os.userInfo().homedir}`);
    // exec runs as you too, as podman's keep-id; --detach-keys is accepted.
    sb.ok(['run', '-d', '--name', 'kid', '--userns', 'keep-id', '--detach-keys', 'ctrl-x', 'busybox', 'sleep', '60']);
    assert.equal(sb.ok(['exec', 'kid', 'id', '-u']).trim(), String(uid));
    assert.equal(inspectJson<{ GraphDriver: { Name: string } }>(sb, 'kid').GraphDriver.Name, 'fuse-overlayfs');
    sb.ok(['rm', '-f', 'kid']);
    // Your files in a bind mount are yours inside.
    fs.chmodSync(sb.dir, 0o755);
    assert.equal(sh(['--userns', 'keep-id', '-v', `${sb.dir}:/mnt`], 'stat -c %u /mnt'), String(uid));
    const sub = subordinateStart('uid');
    const mapped = sh(['--uidmap', '0:1:1000', '--uidmap', '1000:0:1', '--gidmap', '0:1:1000', '--gidmap', '1000:0:1'], 'cat /proc/self/uid_map; stat -c %u:%g /bin');
    assert.match(mapped, new RegExp(`^\\s*0\\s+${sub}\\s+1000\\n\\s*1000\\s+${uid}\\s+1\\n0:0$`));
    refused(['run', '--uidmap', '0:1:1000', 'busybox', 'true'], /your own uid \(HOST 0\) must be mapped into the container/);
  });
});
