/**
 * The default seccomp filter and --security-opt, end to end: a static probe compiled now (gcc
 * -static) tries the syscalls in real containers and prints the errno of each.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Sandbox, inspectJson } from '../support/harness.js';
import { compileProbe } from '../support/probes.js';

describe('security', () => {
  const sb = new Sandbox('sec');
  const probeDir = path.join(sb.dir, 'probe');
  const probe = (...args: string[]) => ['-v', `${probeDir}:/probe:ro`, ...args];
  before(() => {
    fs.mkdirSync(probeDir);
    compileProbe('syscall-probe', probeDir);
    sb.ok(['pull', '-q', 'busybox']);
    sb.ok(['run', '-d', '--name', 'confined-probe', ...probe('busybox', 'sleep', '1000')]);
  });
  after(() => sb.dispose());

  const DENIED = ['keyctl', 'add_key', 'bpf', 'perf_event_open', 'userfaultfd', 'kcmp', 'clone-newuser', 'unshare-user', 'mount-tmpfs', 'swapoff', 'reboot', 'kexec_load', 'init_module', 'open_by_handle_at', 'personality-odd', 'x32-getpid'];

  test('by default the container runs under the filter: dangerous syscalls fail with EPERM, ordinary ones work', () => {
    const out = sb.ok(['run', '--rm', ...probe('busybox', 'sh', '-c', 'grep ^Seccomp: /proc/self/status; /probe/syscall-probe "$@"', 'sh', ...DENIED, 'fork', 'personality-query', 'chroot')]);
    assert.match(out, /^Seccomp:\t2$/m);
    for (const p of DENIED) assert.match(out, new RegExp(`^${p}=EPERM$`, 'm'), p);
    for (const p of ['fork', 'personality-query', 'chroot']) assert.match(out, new RegExp(`^${p}=OK$`, 'm'), p);
    // busybox's own tools meet the same wall.
    const sw = sb.run(['run', '--rm', 'busybox', 'sh', '-c', 'swapoff /nonexistent 2>&1; unshare -U true 2>&1']);
    assert.match(sw.stdout, /Operation not permitted/);
    const ins = inspectJson<{ HostConfig: { SecurityOpt: string[] | null } }>(sb, sb.ok(['create', 'busybox']).trim());
    assert.equal(ins.HostConfig.SecurityOpt, null, 'docker shows null when no option was given');
  });

  test('--security-opt seccomp=unconfined: no filter, what a user namespace allows works', () => {
    const out = sb.ok(['run', '--rm', '--security-opt', 'seccomp=unconfined', ...probe('busybox', 'sh', '-c',
      'grep ^Seccomp: /proc/self/status; /probe/syscall-probe keyctl add_key bpf perf_event_open clone-newuser unshare-user personality-odd')]);
    assert.equal(out, 'Seccomp:\t0\nkeyctl=OK\nadd_key=OK\nbpf=EINVAL\nperf_event_open=EFAULT\nclone-newuser=OK\nunshare-user=OK\npersonality-odd=OK\n');
    const id = sb.ok(['create', '--security-opt', 'seccomp=unconfined', '--security-opt', 'no-new-privileges', 'busybox']).trim();
    const ins = inspectJson<{ HostConfig: { SecurityOpt: string[] } }>(sb, id);
    assert.deepEqual(ins.HostConfig.SecurityOpt, ['seccomp=unconfined', 'no-new-privileges']);
  });

  test('capabilities open what docker ties to them: CAP_SYS_ADMIN allows mount and unshare, not keyctl', () => {
    const out = sb.ok(['run', '--rm', '--cap-add', 'SYS_ADMIN', ...probe('busybox', '/probe/syscall-probe', 'mount-tmpfs', 'unshare-user', 'keyctl')]);
    assert.equal(out, 'mount-tmpfs=OK\nunshare-user=OK\nkeyctl=EPERM\n');
  });

  test('exec processes get the container\'s filter', () => {
    sb.ok(['run', '-d', '--name', 'confined', ...probe('busybox', 'sleep', '1000')]);
    sb.ok(['run', '-d', '--name', 'free', '--security-opt', 'seccomp:unconfined', ...probe('busybox', 'sleep', '1000')]);
    assert.equal(sb.ok(['exec', 'confined', 'sh', '-c', 'grep ^Seccomp: /proc/self/status; /probe/syscall-probe keyctl fork']), 'Seccomp:\t2\nkeyctl=EPERM\nfork=OK\n');
    assert.equal(sb.ok(['exec', 'free', 'sh', '-c', 'grep ^Seccomp: /proc/self/status; /probe/syscall-probe keyctl']), 'Seccomp:\t0\nkeyctl=OK\n');
    sb.ok(['rm', '-f', 'confined', 'free']);
  });

  test('clone3 fails with ENOSYS (libc falls back to clone, which the filter sees), io_uring and AF_VSOCK sockets are denied; unconfined, none of them is', () => {
    const probes = ['clone3-newuser', 'io_uring_setup', 'socket-vsock', 'socket-inet'];
    const out = sb.ok(['run', '--rm', ...probe('busybox', '/probe/syscall-probe', ...probes)]);
    assert.equal(out, 'clone3-newuser=ENOSYS\nio_uring_setup=EPERM\nsocket-vsock=EPERM\nsocket-inet=OK\n');
    // The attack the gap allowed: a user namespace of one's own, with every capability in it.
    assert.equal(sb.ok(['exec', 'confined-probe', '/probe/syscall-probe', 'clone3-newuser']), 'clone3-newuser=ENOSYS\n');
    const free = sb.ok(['run', '--rm', '--security-opt', 'seccomp=unconfined', ...probe('busybox', '/probe/syscall-probe', ...probes)]);
    for (const p of probes) assert.doesNotMatch(free, new RegExp(`^${p}=(EPERM|ENOSYS)$`, 'm'), free);
    // As in docker, CAP_SYS_ADMIN opens clone3 along with clone's namespace flags.
    assert.equal(sb.ok(['run', '--rm', '--cap-add', 'SYS_ADMIN', ...probe('busybox', '/probe/syscall-probe', 'clone3-newuser')]), 'clone3-newuser=OK\n');
  });

  test('unsupported or malformed --security-opt: one Error line, 125, nothing created', () => {
    const before = sb.ok(['ps', '-aq']);
    for (const [opt, msg] of [
      ['apparmor=unconfined', /^Error: --security-opt apparmor=unconfined: not supported by tsctr/],
      ['label=disable', /^Error: --security-opt label=disable: not supported/],
      ['seccomp=/nonexistent/profile.json', /^Error: --security-opt seccomp=\/nonexistent\/profile.json: seccomp profiles from a file are not supported/],
      ['bogus', /^Error: Invalid --security-opt: "bogus"/],
      ['seccomp=', /^Error: Invalid --security-opt: "seccomp="/],
    ] as const) {
      for (const verb of ['run', 'create']) {
        const r = sb.run([verb, '--security-opt', opt, 'busybox', 'true']);
        assert.equal(r.code, 125, `${verb} ${opt}`);
        assert.match(r.stderr, msg, `${verb} ${opt}`);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      }
    }
    assert.equal(sb.ok(['ps', '-aq']), before);
    assert.equal(sb.ok(['run', '--rm', '--security-opt', 'no-new-privileges=true', '--security-opt', 'seccomp=builtin', 'busybox', 'sh', '-c', 'grep ^NoNewPrivs: /proc/self/status']), 'NoNewPrivs:\t1\n');
    // docker's spelling for off: no no_new_privs, and still the seccomp filter (installed while the
    // container's root still has CAP_SYS_ADMIN over its namespace).
    assert.equal(sb.ok(['run', '--rm', '--security-opt', 'no-new-privileges=false', 'busybox', 'sh', '-c', 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status']), 'NoNewPrivs:\t0\nSeccomp:\t2\n');
    // --memory=0 is no limit, as with docker.
    assert.equal(sb.run(['run', '--rm', '--memory', '0', 'busybox', 'true']).code, 0);
  });
});
