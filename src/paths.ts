/**
 * Where tsctr keeps things. Persistent data follows XDG_DATA_HOME; volatile state lives under
 * XDG_RUNTIME_DIR (a tmpfs emptied at boot), so a reboot is detectable by its absence.
 */
import os from 'node:os';
import path from 'node:path';

export interface GlobalOptions {
  root?: string;
  runroot?: string;
  storageDriver?: string;
  logLevel?: string;
}

export const globals: GlobalOptions = {};

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
      lastKey = k;
      value = compute();
    }
    return value;
  };
}

export const dataRoot = memo(() => {
  if (globals.root) return path.resolve(globals.root);
  if (process.env.TSCTR_ROOT) return path.resolve(process.env.TSCTR_ROOT);
  const base = process.env.XDG_DATA_HOME || path.join(home(), '.local', 'share');
  return path.join(base, 'tsctr');
}, () => globals.root);

export const runRoot = memo(() => {
  if (globals.runroot) return path.resolve(globals.runroot);
  if (process.env.TSCTR_RUNROOT) return path.resolve(process.env.TSCTR_RUNROOT);
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (xdg) return path.join(xdg, 'tsctr');
  // No runtime dir (su/sudo sessions): a per-user dir in /tmp, which is also cleared at boot on most systems.
  return path.join(os.tmpdir(), `tsctr-run-${process.getuid?.() ?? 0}`);
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
};

export const volumePaths = {
  dir: () => path.join(dataRoot(), 'volumes'),
  data: (name: string) => path.join(dataRoot(), 'volumes', name, '_data'),
};
