/**
 * Entering a user namespace. Node cannot unshare(CLONE_NEWUSER) itself (it is multi-threaded), so
 * the work that must own files as other uids (layer extraction, deleting layers) runs in a child
 * started through util-linux `unshare --map-auto --map-root-user`, which maps 0 → the user and
 * 1.. → the /etc/subuid range via the setuid newuidmap/newgidmap, as podman does.
 */
import fs from 'node:fs';
import os from 'node:os';
import { TsctrError } from '../errors.js';
import { requireSubIds } from './subids.js';
import { isSea } from '../runtime/assets.js';
import { globals } from '../paths.js';

const MARK = 'TSCTR_USERNS';
/** Loaded when a child is started: `run -d` never loads it (launch.ts spawns the shim itself). */
const childProcess = () => process.getBuiltinModule('node:child_process') as typeof import('node:child_process');

/** True when this process may chown to image uids: real root, or already inside our namespace. */
/** Are we the re-run of a command inside the user namespace (reexecInUserNamespace)? */
export function isNamespaceChild(): boolean {
  return process.env[MARK] === '1';
}

export function canOwnImageFiles(): boolean {
  return process.getuid?.() === 0;
}

/**
 * How to start this same program again — the SEA binary alone, or node + its flags + the script —
 * with the global options in force, so the child uses the same store.
 */
export function selfCommand(): string[] {
  return [
    ...selfExecutable(),
    ...(globals.root ? ['--root', globals.root] : []),
    ...(globals.runroot ? ['--runroot', globals.runroot] : []),
    ...(globals.storageDriver ? ['--storage-driver', globals.storageDriver] : []),
  ];
}

function selfExecutable(): string[] {
  return isSea() ? [process.execPath] : [process.execPath, ...process.execArgv, process.argv[1]!];
}



export function findTool(name: string): string | undefined {
  for (const dir of (process.env.PATH || '/usr/local/bin:/usr/bin:/bin').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    const p = `${dir}/${name}`;
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

function unshareArgv(): string[] {
  requireSubIds();
  for (const tool of ['newuidmap', 'newgidmap']) {
    if (!findTool(tool)) {
      throw new TsctrError(`${tool} not found: install the 'uidmap' package (Debian/Ubuntu: apt-get install uidmap)`);
    }
  }
  const unshare = findTool('unshare');
  if (!unshare) throw new TsctrError(`unshare not found: install the 'util-linux' package`);
  return [unshare, '--map-auto', '--map-root-user'];
}

/**
 * Signals a parent that writes files through its child passes on instead of dying of them, so
 * that the child (which would otherwise be killed with it, see bindLifetimeToParent) can remove
 * what it has half written.
 */
export const CLEANUP_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/**
 * Re-run this very command inside the user namespace, with the same stdio, and return its exit
 * code. Signals from the terminal reach both processes (same process group), so Ctrl-C works;
 * those in `forward` are also passed on, and this process waits for the child instead of dying.
 */
export function reexecInUserNamespace(args: string[], forward: NodeJS.Signals[] = ['SIGTERM']): Promise<number> {
  // `args` is this process's own command line, global options included.
  const argv = [...unshareArgv(), ...selfExecutable(), ...args];
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn(argv[0]!, argv.slice(1), {
      stdio: 'inherit',
      env: { ...process.env, [MARK]: '1', TSCTR_PARENT_PID: String(process.pid) },
    });
    const pass = (sig: NodeJS.Signals) => child.kill(sig);
    for (const sig of forward) process.on(sig, pass);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      for (const sig of forward) process.off(sig, pass);
      resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0));
    });
  });
}

/**
 * Runs a tsctr command (usually `internal ...`) as root in the user namespace and returns its
 * stdout; its stderr is ours, and a failure is reported with its own message.
 */
export function runInUserNamespace(args: string[]): Promise<string> {
  const argv = canOwnImageFiles() ? [...selfCommand(), ...args] : [...unshareArgv(), ...selfCommand(), ...args];
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, [MARK]: '1', TSCTR_PARENT_PID: String(process.pid) },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = err.trimEnd().split('\n').filter(Boolean);
      const last = code === 0 ? undefined : lines.pop();
      if (lines.length) process.stderr.write(`${lines.join('\n')}\n`);
      if (code === 0) return resolve(out);
      reject(new TsctrError(last?.replace(/^Error: /, '') || `exit ${code}`, code || 125));
    });
  });
}

/**
 * Starts a tsctr command as root in the user namespace with its stdio as pipes, for a caller that
 * streams them elsewhere (the API server's save, load and push).
 */
export function spawnInUserNamespace(args: string[]): import('node:child_process').ChildProcess {
  const argv = canOwnImageFiles() ? [...selfCommand(), ...args] : [...unshareArgv(), ...selfCommand(), ...args];
  return childProcess().spawn(argv[0]!, argv.slice(1), {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, [MARK]: '1', TSCTR_PARENT_PID: String(process.pid) },
  });
}

/**
 * Delete trees that may hold files of subordinate uids. Most containers only ever write as their
 * root (= us), so a plain delete is tried first; whatever it cannot remove is deleted by root in
 * the namespace.
 */
export function removeTreesAsNamespaceRoot(paths: string[]): void {
  paths = paths.filter((p) => {
    try {
      fs.rmSync(p, { recursive: true, force: true });
      return false;
    } catch {
      return true;
    }
  });
  if (paths.length === 0) return;
  const argv = canOwnImageFiles() ? ['rm', '-rf', '--', ...paths] : [...unshareArgv(), 'rm', '-rf', '--', ...paths];
  const r = childProcess().spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) {
    throw new TsctrError(`removing ${paths.join(' ')} failed: ${r.stderr?.toString().trim() || `exit ${r.status}`}`);
  }
}

/**
 * In the namespaced child: die with the CLI that started it, so that killing `tsctr` (even with
 * SIGKILL) never leaves a pull running on in the background.
 */
export async function bindLifetimeToParent(): Promise<void> {
  if (process.env[MARK] !== '1' || !process.env.TSCTR_PARENT_PID) return;
  const { setParentDeathSignal } = await import('./syscalls.js');
  setParentDeathSignal(os.constants.signals.SIGKILL);
  // The parent may have died before the signal was armed.
  if (String(process.ppid) !== process.env.TSCTR_PARENT_PID) process.exit(137);
}
