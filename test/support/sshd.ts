/**
 * An SSH server for remote-use tests: Debian's sshd, run by the test's (unprivileged) user on a free
 * port of 127.0.0.1 with its own host key, client key and config; no system sshd is involved. The
 * remote side's PATH has `bin/` first, where a test links what it wants to be found there (tsctr
 * as `tsctr` or `docker`), and its environment points at the sandbox's store. The client is the
 * real ssh, reached through `cbin/ssh` (put cbin first on a client's PATH), which adds the config.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, freePort, type Sandbox } from './harness.js';

export const haveSshd = fs.existsSync('/usr/sbin/sshd');

export interface Sshd {
  port: number;
  /** The remote PATH's first directory. */
  bin: string;
  /** Holds `ssh`, the real one with this server's client config. */
  cbin: string;
  /** user@127.0.0.1 */
  login: string;
  stop(): void;
}

/** `links`: names on the remote PATH → what they point to; `env`: more of the remote sessions' environment. */
export async function startSshd(sb: Sandbox, links: Record<string, string> = { tsctr: BIN }, env: Record<string, string> = {}): Promise<Sshd> {
  const dir = path.join(sb.dir, 'ssh');
  const port = await freePort();
  const bin = path.join(dir, 'bin');
  const cbin = path.join(dir, 'cbin');
  fs.mkdirSync(bin, { recursive: true, mode: 0o700 });
  fs.mkdirSync(cbin, { recursive: true, mode: 0o700 });
  for (const k of ['host_key', 'client_key']) spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, k)]);
  fs.copyFileSync(path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys'));
  for (const [name, target] of Object.entries(links)) fs.symlinkSync(target, path.join(bin, name));
  const envVars = ['XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'TSCTR_ROOT', 'TSCTR_REGISTRIES_CONF', 'REGISTRY_AUTH_FILE'].filter((k) => sb.env[k]).map((k) => `${k}=${sb.env[k]}`).concat(Object.entries(env).map(([k, v]) => `${k}=${v}`));
  fs.writeFileSync(
    path.join(dir, 'sshd_config'),
    `ListenAddress 127.0.0.1\nPort ${port}\nHostKey ${dir}/host_key\nAuthorizedKeysFile ${dir}/authorized_keys\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPidFile ${dir}/sshd.pid\nSetEnv PATH=${bin}:/usr/local/bin:/usr/bin:/bin ${envVars.join(' ')}\n`,
  );
  fs.writeFileSync(path.join(dir, 'ssh_config'), `Host *\n  IdentityFile ${dir}/client_key\n  UserKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n  LogLevel ERROR\n`);
  fs.writeFileSync(path.join(cbin, 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F ${dir}/ssh_config "$@"\n`, { mode: 0o755 });
  const r = spawnSync('/usr/sbin/sshd', ['-f', path.join(dir, 'sshd_config'), '-E', path.join(dir, 'sshd.log')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sshd: ${r.stderr}`);
  return {
    port,
    bin,
    cbin,
    login: `${os.userInfo().username}@127.0.0.1`,
    stop: () => {
      try {
        process.kill(Number(fs.readFileSync(path.join(dir, 'sshd.pid'), 'utf8')), 'SIGTERM');
      } catch {
        /* not started, or gone */
      }
    },
  };
}

/** Ends the `system service` processes of this sandbox's store (dial-stdio starts one, with an idle timeout). */
export function stopServices(sb: Sandbox): void {
  const pids = spawnSync('pgrep', ['-u', String(os.userInfo().uid), '-f', `${BIN} system service`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const p of pids) {
    try {
      if (fs.readFileSync(`/proc/${p}/environ`, 'latin1').includes(`TSCTR_ROOT=${sb.env.TSCTR_ROOT}\0`)) process.kill(Number(p), 'SIGTERM');
    } catch {
      /* gone */
    }
  }
}
