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
import { BIN, Sandbox } from '../support/harness.js';
import { dockerEnv } from '../support/docker.js';
import { haveSshd, startSshd, stopServices, type Sshd } from '../support/sshd.js';

const sb = new Sandbox('api-remote');
let sshd: Sshd | undefined;

before(async () => {
  if (!haveSshd) return;
  sb.ok(['pull', '-q', 'busybox']);
  // The remote side's `docker` is tsctr, in the sandbox's store.
  sshd = await startSshd(sb, { docker: BIN });
});

after(() => {
  sshd?.stop();
  // the service dial-stdio started exits after its idle time; end it now
  stopServices(sb);
  sb.dispose();
});

test('DOCKER_HOST=ssh://: docker run over SSH passes output and exit code; ps sees the remote store', { skip: !haveSshd && 'Debian openssh-server is not installed' }, () => {
  // docker runs `ssh` from PATH: the real one, with this test's config.
  const env = dockerEnv(sb, `ssh://${sshd!.login}:${sshd!.port}`, { PATH: `${sshd!.cbin}:${sb.env.PATH}` });
  const r = spawnSync('docker', ['run', '--name', 'remote1', 'busybox', 'sh', '-c', 'echo over-ssh; exit 4'], { env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 4, r.stderr);
  assert.equal(r.stdout, 'over-ssh\n');
  const ps = spawnSync('docker', ['ps', '-a', '--format', '{{.Names}}'], { env, encoding: 'utf8', timeout: 60_000 });
  assert.match(ps.stdout, /remote1/);
  assert.equal(sb.ok(['inspect', '-f', '{{.State.ExitCode}}', 'remote1']).trim(), '4', 'made in the store the remote side serves');
});
