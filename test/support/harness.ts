/**
 * Runs the real tsctr binary as the (unprivileged) user running the tests, against the fixture
 * registries, each test file with its own fresh store.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';

export const REPO = path.resolve(import.meta.dirname, '..', '..');
export const BIN = process.env.TSCTR_BIN || path.join(REPO, 'dist', 'tsctr');
export const REGISTRY = process.env.REGISTRY || '127.0.0.1:5000';
export const AUTH_REGISTRY = process.env.AUTH_REGISTRY || '127.0.0.1:5001';
export const TOKEN_REGISTRY = process.env.TOKEN_REGISTRY || '127.0.0.1:5002';
export const TOKEN_SERVER = process.env.TOKEN_SERVER || 'http://127.0.0.1:5003';
export const AUTH_USER = process.env.AUTH_USER || 'testuser';
export const AUTH_PASS = process.env.AUTH_PASS || 'testpass';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export class Sandbox {
  readonly dir: string;
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(name: string, registriesConf?: string) {
    // /var/tmp, not /tmp: a disk filesystem, as a real ~/.local/share would be.
    this.dir = fs.mkdtempSync(path.join(os.tmpdir() === '/tmp' ? '/var/tmp' : os.tmpdir(), `tsctr-${name}-`));
    this.root = path.join(this.dir, 'root');
    const conf = path.join(this.dir, 'registries.conf');
    fs.writeFileSync(conf, registriesConf ?? mirrorConf());
    this.env = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: process.env.HOME,
      USER: process.env.USER,
      XDG_RUNTIME_DIR: path.join(this.dir, 'run'),
      XDG_CONFIG_HOME: path.join(this.dir, 'config'),
      TSCTR_ROOT: this.root,
      TSCTR_REGISTRIES_CONF: conf,
      REGISTRY_AUTH_FILE: path.join(this.dir, 'auth.json'),
    };
    fs.mkdirSync(this.env.XDG_RUNTIME_DIR!, { mode: 0o700 });
  }

  run(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Result {
    const r: SpawnSyncReturns<string> = spawnSync(BIN, args, {
      env: { ...this.env, ...opts.env },
      input: opts.input,
      encoding: 'utf8',
      timeout: opts.timeout ?? 120_000,
    });
    if (r.error) throw r.error;
    return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
  }

  /** Like run, but asserts success and returns stdout. */
  ok(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): string {
    const r = this.run(args, opts);
    if (r.code !== 0) throw new Error(`tsctr ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  }

  runAsync(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Result> & { pid: number; kill: (sig: NodeJS.Signals) => void } {
    const child = spawn(BIN, args, { env: { ...this.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const p = new Promise<Result>((resolve) => child.on('close', (code, sig) => resolve({ code: code ?? (sig ? 137 : 128), stdout, stderr }))) as Promise<Result> & {
      pid: number;
      kill: (sig: NodeJS.Signals) => void;
    };
    p.pid = child.pid!;
    p.kill = (sig) => child.kill(sig);
    return p;
  }

  /** Removes every container of the store (their processes with them); nothing when no store was made. */
  removeContainers(): void {
    if (!fs.existsSync(this.root)) return;
    const ids = this.ok(['ps', '-aq']).trim().split('\n').filter(Boolean);
    if (ids.length) this.run(['rm', '-f', ...ids]);
  }

  /** The end of a test file: its containers removed, then the sandbox. */
  dispose(): void {
    this.removeContainers();
    this.cleanup();
  }

  /** Remove the sandbox; layer files belong to subordinate uids, so delete them from inside a userns. */
  cleanup(): void {
    if (process.getuid?.() === 0) {
      fs.rmSync(this.dir, { recursive: true, force: true });
      return;
    }
    spawnSync('unshare', ['--map-auto', '--map-root-user', 'rm', '-rf', this.dir]);
  }
}

export function mirrorConf(extra = ''): string {
  return `unqualified-search-registries = ["docker.io"]

[[registry]]
prefix = "docker.io"
location = "docker.io"

[[registry.mirror]]
location = "${REGISTRY}"
insecure = true

[[registry]]
location = "${AUTH_REGISTRY}"
insecure = true

[[registry]]
location = "${TOKEN_REGISTRY}"
insecure = true
${extra}`;
}

export function subordinateStart(kind: 'uid' | 'gid'): number {
  const name = os.userInfo().username;
  const uid = process.getuid?.() ?? 0;
  for (const line of fs.readFileSync(`/etc/sub${kind}`, 'utf8').split('\n')) {
    const [who, start] = line.split(':');
    if (who === name || who === String(uid)) return Number(start);
  }
  throw new Error(`no /etc/sub${kind} entry for ${name}`);
}

export function inspectJson<T = Record<string, unknown>>(sb: Sandbox, name: string): T {
  const arr = JSON.parse(sb.ok(['inspect', name])) as T[];
  return arr[0]!;
}

/** A TCP port nothing listens on now (on 127.0.0.1), for publishing in a test. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** n consecutive TCP ports nothing listens on now (on 0.0.0.0), for a published range. */
export async function freePortRange(n: number): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
    });
  for (let tries = 0; tries < 200; tries++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await free(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${n} consecutive free ports`);
}

