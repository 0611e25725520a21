/**
 * Whether kernel overlayfs mounts in a user namespace here, and whether fuse-overlayfs can stand in:
 * the storage driver's probe (storage-driver.ts), and two of `system check`'s checks, so that
 * "overlay works" has one definition.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dataRoot } from '../paths.js';
import { devAccess, firstLine, runCommand, whichOnPath, type Check } from '../util/host-check.js';

/** The closest existing directory to the data root: the probe must run on the filesystem tsctr will use. */
function probeBase(): string {
  let d = dataRoot();
  while (!fs.existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  return d;
}

export function kernelOverlayCheck(): Check {
  const name = 'kernel overlay in user namespace';
  const kernel = os.release();
  const unshare = whichOnPath('unshare');
  if (!unshare) return { name, ok: false, severity: 'error', detail: `kernel ${kernel}; unshare not found in PATH, cannot probe`, fix: 'sudo apt-get install util-linux' };
  let dir: string;
  try {
    dir = fs.mkdtempSync(path.join(probeBase(), '.tsctr-overlay-probe-'));
  } catch (e) {
    return { name, ok: false, severity: 'error', detail: `kernel ${kernel}; cannot create a probe directory: ${(e as Error).message}` };
  }
  try {
    for (const d of ['lower', 'upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, d));
    fs.writeFileSync(path.join(dir, 'lower', 'f'), 'x');
    // Cleanup happens inside the namespace too: overlay's work/work dir is mode 000.
    const script = `mount -t overlay overlay -o lowerdir="$1/lower",upperdir="$1/upper",workdir="$1/work",userxattr "$1/merged" && echo y > "$1/merged/f" && umount "$1/merged"; rc=$?; rm -rf "$1/work"; exit $rc`;
    const r = runCommand([unshare, '--map-auto', '--map-root-user', '--mount', 'sh', '-c', script, 'probe', dir]);
    if (r.code !== 0) {
      return {
        name,
        ok: false,
        severity: 'error',
        detail: `kernel ${kernel}: mounting overlay with userxattr failed: ${firstLine(r.out) || `exit ${r.code}`}`,
        fix: 'upgrade to Linux ≥ 5.11 (5.13 recommended); the data root must be on a local filesystem (ext4, xfs, btrfs)',
      };
    }
    return { name, ok: true, severity: 'error', detail: `kernel ${kernel}, overlay with userxattr works on ${probeBase()}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function fuseOverlayCheck(): Check {
  const name = 'fuse-overlayfs';
  const p = whichOnPath('fuse-overlayfs');
  if (!p) return { name, ok: false, severity: 'warning', detail: 'not found in PATH (optional fallback for kernels without overlay in user namespaces)', fix: 'sudo apt-get install fuse-overlayfs' };
  const err = devAccess('/dev/fuse');
  if (err) return { name, ok: false, severity: 'warning', detail: `${p} found, but /dev/fuse is not readable and writable (${err})`, fix: 'sudo chmod 0666 /dev/fuse' };
  return { name, ok: true, severity: 'warning', detail: `${p}, /dev/fuse accessible` };
}
