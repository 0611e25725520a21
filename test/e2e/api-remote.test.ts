/**
 * Remote use of the API over SSH, as docker does it: `DOCKER_HOST=ssh://user@host` makes the docker
 * CLI run `ssh user@host docker system dial-stdio`, and tsctr (as `docker` on the remote PATH)
 * relays that to its service, starting one when none runs. The SSH server is Debian's sshd, run by
 * this test as the unprivileged user on a port of 127.0.0.1 with its own host key and config (no
 * system sshd involved); the client is the real ssh, given the test's config with -F.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, Sandbox, freePort } from '../support/harness.js';

const sb = new Sandbox('api-remote');
const dir = path.join(sb.dir, 'ssh');
let port = 0;
const haveSshd = fs.existsSync('/usr/sbin/sshd');

before(async () => {
  if (!haveSshd) return;
  sb.ok(['pull', '-q', 'busybox']);
  port = await freePort();
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true, mode: 0o700 });
  fs.mkdirSync(path.join(dir, 'cbin'), { recursive: true, mode: 0o700 });
  for (const k of ['host_key', 'client_key']) spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, k)]);
  fs.copyFileSync(path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys'));
  // The remote side's `docker` is tsctr, in the sandbox's store.
  fs.symlinkSync(BIN, path.join(dir, 'bin', 'docker'));
  const env = `PATH=${path.join(dir, 'bin')}:/usr/local/bin:/usr/bin:/bin XDG_RUNTIME_DIR=${sb.env.XDG_RUNTIME_DIR} XDG_CONFIG_HOME=${sb.env.XDG_CONFIG_HOME} TSCTR_ROOT=${sb.env.TSCTR_ROOT}`;
  fs.writeFileSync(
    path.join(dir, 'sshd_config'),
    `ListenAddress 127.0.0.1\nPort ${port}\nHostKey ${dir}/host_key\nAuthorizedKeysFile ${dir}/authorized_keys\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPidFile ${dir}/sshd.pid\nSetEnv ${env}\n`,
  );
  fs.writeFileSync(path.join(dir, 'ssh_config'), `Host *\n  IdentityFile ${dir}/client_key\n  UserKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n  Port ${port}\n  LogLevel ERROR\n`);
  // docker runs `ssh` from PATH: the real one, with this test's config.
  fs.writeFileSync(path.join(dir, 'cbin', 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F ${dir}/ssh_config "$@"\n`, { mode: 0o755 });
  const r = spawnSync('/usr/sbin/sshd', ['-f', path.join(dir, 'sshd_config'), '-E', path.join(dir, 'sshd.log')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

after(() => {
  if (haveSshd) {
    const pid = Number(fs.readFileSync(path.join(dir, 'sshd.pid'), 'utf8'));
    process.kill(pid, 'SIGTERM');
    // the service dial-stdio started exits after its idle time; end it now
    const svc = spawnSync('pgrep', ['-u', String(os.userInfo().uid), '-f', `${BIN} system service`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    for (const p of svc) {
      const envOf = fs.readFileSync(`/proc/${p}/environ`, 'latin1');
      if (envOf.includes(`TSCTR_ROOT=${sb.env.TSCTR_ROOT}\0`)) process.kill(Number(p), 'SIGTERM');
    }
  }
  const ids = sb.ok(['ps', '-aq']).trim().split('\n').filter(Boolean);
  if (ids.length) sb.run(['rm', '-f', ...ids]);
  sb.cleanup();
});

test('DOCKER_HOST=ssh://: docker run over SSH passes output and exit code; ps sees the remote store', { skip: !haveSshd && 'Debian openssh-server is not installed' }, () => {
  const env = { ...sb.env, PATH: `${path.join(dir, 'cbin')}:${sb.env.PATH}`, DOCKER_HOST: `ssh://${os.userInfo().username}@127.0.0.1:${port}`, DOCKER_CONFIG: path.join(sb.dir, 'docker-config') };
  const r = spawnSync('docker', ['run', '--name', 'remote1', 'busybox', 'sh', '-c', 'echo over-ssh; exit 4'], { env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 4, r.stderr);
  assert.equal(r.stdout, 'over-ssh\n');
  const ps = spawnSync('docker', ['ps', '-a', '--format', '{{.Names}}'], { env, encoding: 'utf8', timeout: 60_000 });
  assert.match(ps.stdout, /remote1/);
  assert.equal(sb.ok(['inspect', '-f', '{{.State.ExitCode}}', 'remote1']).trim(), '4', 'made in the store the remote side serves');
});
