/**
 * Where tsctr keeps things. Persistent data follows XDG_DATA_HOME; volatile state lives under
 * XDG_RUNTIME_DIR (a tmpfs emptied at boot), so a reboot is detectable by its absence.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TsctrError } from './errors.js';

export interface GlobalOptions {
  root?: string;
  runroot?: string;
  storageDriver?: string;
  logLevel?: string;
  /** --url: a remote engine (ssh://, unix://, tcp://); with the TLS client flags for tcp://. */
  url?: string;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  insecureTcp?: boolean;
}

export const globals: GlobalOptions = {};

/** The remote engine's URL, if any: --url, else TSCTR_HOST, else podman's CONTAINER_HOST. */
export function remoteUrl(): string | undefined {
  return globals.url || process.env.TSCTR_HOST || process.env.CONTAINER_HOST || undefined;
}

function home(): string {
  return process.env.HOME || os.homedir();
}

/** Resolved once per value of the option: `ps` asks for these paths hundreds of times. */
function memo(compute: () => string, key: () => string | undefined): () => string {
  let lastKey: string | undefined | null = null;
  let value = '';
  return () => {
    const k = key();
    if (k !== lastKey) {
      value = compute(); // may throw: then nothing is remembered
      lastKey = k;
    }
    return value;
  };
}

/**
 * A directory of ours, checked once per process before anything is read from or written to it:
 * another user's directory (made in a shared place before us, as /tmp/tsctr-run-UID could be)
 * would feed us their pid files and take ours. `create`: made now, 0700, where a name in a shared
 * directory must be claimed before someone else does.
 */
function ownDir(dir: string, what: string, opts: { create?: boolean; followLink?: boolean } = {}): string {
  let st = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (!st && opts.create) {
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new TsctrError(`${what} ${dir}: ${(e as Error).message}`);
    }
    st = fs.lstatSync(dir);
  }
  if (!st) return dir;
  if (st.isSymbolicLink() && opts.followLink) st = fs.statSync(dir, { throwIfNoEntry: false }) ?? st;
  if (!st.isDirectory()) throw new TsctrError(`${what} ${dir} is not a directory`);
  const uid = process.getuid?.() ?? 0;
  if (st.uid !== uid) throw new TsctrError(`${what} ${dir} is not owned by the current user (uid ${st.uid}, not ${uid}): refusing to use it`);
  if (st.mode & 0o077) fs.chmodSync(dir, 0o700); // ours: private again
  return dir;
}

export const dataRoot = memo(() => {
  if (globals.root) return ownDir(path.resolve(globals.root), '--root', { followLink: true });
  if (process.env.TSCTR_ROOT) return ownDir(path.resolve(process.env.TSCTR_ROOT), 'the data root', { followLink: true });
  const base = process.env.XDG_DATA_HOME || path.join(home(), '.local', 'share');
  return ownDir(path.join(base, 'tsctr'), 'the data root', { followLink: true });
}, () => globals.root);

export const runRoot = memo(() => {
  if (globals.runroot) return ownDir(path.resolve(globals.runroot), '--runroot');
  if (process.env.TSCTR_RUNROOT) return ownDir(path.resolve(process.env.TSCTR_RUNROOT), 'the run root');
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (xdg) return ownDir(path.join(xdg, 'tsctr'), 'the run root');
  // No runtime dir (su/sudo sessions): a per-user dir in /tmp, which is also cleared at boot on
  // most systems; claimed (mkdir 0700) before anything else, and never followed as a symlink.
  return ownDir(path.join(os.tmpdir(), `tsctr-run-${process.getuid?.() ?? 0}`), 'the run root', { create: true });
}, () => globals.runroot);

export function configHome(): string {
  return process.env.XDG_CONFIG_HOME || path.join(home(), '.config');
}

export const storePaths = {
  imagesIndex: () => path.join(dataRoot(), 'images.json'),
  lockFile: () => path.join(dataRoot(), 'store.lock'),
  blobs: () => path.join(dataRoot(), 'blobs', 'sha256'),
  blob: (digest: string) => path.join(dataRoot(), 'blobs', 'sha256', hexOf(digest)),
  layers: () => path.join(dataRoot(), 'layers'),
  layer: (diffId: string) => path.join(dataRoot(), 'layers', hexOf(diffId)),
  tarSplits: () => path.join(dataRoot(), 'tarsplit'),
  tarSplit: (diffId: string) => path.join(dataRoot(), 'tarsplit', `${hexOf(diffId)}.gz`),
  tmp: () => path.join(dataRoot(), 'tmp'),
};

export function hexOf(digest: string): string {
  const i = digest.indexOf(':');
  return i >= 0 ? digest.slice(i + 1) : digest;
}

// Plain concatenation: the roots are already absolute and normalised, ids are hex, and `ps` builds
// these for every container (path.join's normalisation showed in its profile).
export const containerPaths = {
  index: () => path.join(dataRoot(), 'containers.json'),
  dir: (id: string) => `${dataRoot()}/containers/${id}`,
  upper: (id: string) => `${dataRoot()}/containers/${id}/upper`,
  work: (id: string) => `${dataRoot()}/containers/${id}/work`,
  log: (id: string) => `${dataRoot()}/containers/${id}/ctr.log`,
  /** Persistent, so the last exit code survives a reboot. */
  exit: (id: string) => `${dataRoot()}/containers/${id}/exit`,
  spec: (id: string) => `${dataRoot()}/containers/${id}/spec`,
  etc: (id: string, file: string) => `${dataRoot()}/containers/${id}/${file}`,
  /** Volatile: gone after a reboot, which is how we know nothing from before it still runs. */
  run: (id: string) => `${runRoot()}/containers/${id}`,
  rootfs: (id: string) => `${runRoot()}/containers/${id}/rootfs`,
  pid: (id: string) => `${runRoot()}/containers/${id}/pid`,
  monitorPid: (id: string) => `${runRoot()}/containers/${id}/monitor.pid`,
  /** The monitor's helpers (slirp4netns, tsctr-ports, ...), `PID STARTTIME` a line. */
  helpers: (id: string) => `${runRoot()}/containers/${id}/helpers`,
  restarts: (id: string) => `${runRoot()}/containers/${id}/restarts`,
  /** The monitor's socket for `attach`'s stdin (a detached container with -i). */
  attachSock: (id: string) => `${runRoot()}/containers/${id}/attach.sock`,
};

export const volumePaths = {
  dir: () => path.join(dataRoot(), 'volumes'),
  data: (name: string) => path.join(dataRoot(), 'volumes', name, '_data'),
};
