/**
 * Host diagnostics as data, so `system check` can print them and `info`/tests can read them. Every
 * check answers the question "can tsctr do its job here, and if not, what exact command fixes it".
 * An `error` means containers cannot run at all; a `warning` means a feature degrades.
 *
 * Tools are looked up on $PATH only (unlike the engine's own fallbacks), so the report describes the
 * environment the user actually has.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cgroupInfo } from '../rootless/cgroups.js';
import { defaultNetwork } from '../net/default.js';
import { currentUser, parseSubIds } from '../rootless/subids.js';
import { fuseOverlayCheck, kernelOverlayCheck } from '../store/overlay-probe.js';
import { devAccess, firstLine, runCommand as run, whichOnPath, type Check, type Severity } from '../util/host-check.js';

export { whichOnPath, type Check, type Severity };

const RECOMMENDED_IDS = 65536;

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function subIdCheck(kind: 'uid' | 'gid'): Check {
  const u = currentUser();
  const file = `/etc/sub${kind}`;
  const name = `sub${kind} range`;
  const fix = `sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${u.name}`;
  const text = readText(file);
  if (text === undefined) return { name, ok: false, severity: 'error', detail: `${file} is missing or unreadable`, fix };
  const ranges = parseSubIds(text, u.name, u.uid);
  if (ranges.length === 0) return { name, ok: false, severity: 'error', detail: `no entry for user "${u.name}" in ${file}`, fix };
  const total = ranges.reduce((n, r) => n + r.count, 0);
  const shown = ranges.map((r) => `${r.start}-${r.start + r.count - 1}`).join(', ');
  if (total < RECOMMENDED_IDS) {
    return { name, ok: false, severity: 'warning', detail: `${total} ids (${shown}); images using ids ≥ ${total + 1} cannot be extracted (${RECOMMENDED_IDS} recommended)`, fix };
  }
  return { name, ok: true, severity: 'error', detail: `${total} ids (${shown})` };
}

/** setuid root, or file capabilities (security.capability, which only getcap can show us). */
function idMapToolCheck(tool: 'newuidmap' | 'newgidmap'): Check {
  const name = tool;
  const p = whichOnPath(tool);
  if (!p) return { name, ok: false, severity: 'error', detail: `${tool} not found in PATH`, fix: 'sudo apt-get install uidmap' };
  const st = fs.statSync(p);
  if (st.uid === 0 && (st.mode & 0o4000) !== 0) return { name, ok: true, severity: 'error', detail: `${p} (setuid root)` };
  const getcap = whichOnPath('getcap') ?? ['/usr/sbin/getcap', '/sbin/getcap'].find((g) => fs.existsSync(g));
  if (getcap) {
    const caps = run([getcap, p]).out;
    const want = tool === 'newuidmap' ? 'cap_setuid' : 'cap_setgid';
    if (caps.includes(want)) return { name, ok: true, severity: 'error', detail: `${p} (file capabilities: ${caps.slice(caps.indexOf(p) + p.length).trim()})` };
  }
  const cap = tool === 'newuidmap' ? 'cap_setuid' : 'cap_setgid';
  return {
    name,
    ok: false,
    severity: 'error',
    detail: `${p} is neither setuid root nor has ${cap}${getcap ? '' : ' (getcap not installed, file capabilities unknown)'}`,
    fix: `sudo chmod u+s ${p}   (or: sudo setcap ${cap}+ep ${p})`,
  };
}

function userNamespaceCheck(): Check {
  const name = 'user namespaces';
  const clone = readText('/proc/sys/kernel/unprivileged_userns_clone')?.trim();
  if (clone === '0') {
    return { name, ok: false, severity: 'error', detail: 'kernel.unprivileged_userns_clone = 0', fix: 'sudo sysctl kernel.unprivileged_userns_clone=1' };
  }
  const max = Number(readText('/proc/sys/user/max_user_namespaces')?.trim() ?? 'NaN');
  if (max === 0) return { name, ok: false, severity: 'error', detail: 'user.max_user_namespaces = 0', fix: 'sudo sysctl user.max_user_namespaces=28633' };
  const unshare = whichOnPath('unshare');
  if (!unshare) return { name, ok: false, severity: 'error', detail: 'unshare not found in PATH', fix: 'sudo apt-get install util-linux' };
  const r = run([unshare, '--map-auto', '--map-root-user', 'true']);
  if (r.code !== 0) {
    const apparmor = readText('/proc/sys/kernel/apparmor_restrict_unprivileged_userns')?.trim() === '1';
    return {
      name,
      ok: false,
      severity: 'error',
      detail: `'unshare --map-auto --map-root-user true' failed: ${firstLine(r.out) || `exit ${r.code}`}`,
      fix: apparmor ? 'sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0' : 'check /etc/subuid, /etc/subgid and that newuidmap/newgidmap are setuid root',
    };
  }
  return { name, ok: true, severity: 'error', detail: `enabled (max_user_namespaces ${Number.isFinite(max) ? max : 'unknown'}; unshare probe succeeded)` };
}

/** A user-mode network helper: an error when the default network needs it, else a warning. */
function networkToolCheck(tool: 'pasta' | 'slirp4netns', pkg: string): Check {
  const needed = defaultNetwork() === tool;
  const severity: Severity = needed ? 'error' : 'warning';
  const p = whichOnPath(tool);
  if (!p) {
    return { name: tool, ok: false, severity, detail: `not found in PATH${needed ? ': containers on the default network cannot start (--network none/host still work)' : ` (--network ${tool} unavailable)`}`, fix: `sudo apt-get install ${pkg}` };
  }
  return { name: tool, ok: true, severity, detail: `${p}${needed ? ' (default network)' : ''}` };
}

function tunCheck(): Check {
  const severity: Severity = ['pasta', 'slirp4netns'].includes(defaultNetwork()) ? 'error' : 'warning';
  const err = devAccess('/dev/net/tun');
  if (err) return { name: '/dev/net/tun', ok: false, severity, detail: `not readable and writable (${err}): pasta and slirp4netns need it`, fix: 'sudo modprobe tun && sudo chmod 0666 /dev/net/tun' };
  return { name: '/dev/net/tun', ok: true, severity, detail: 'accessible' };
}

function cgroupCheck(): Check {
  const name = 'cgroups';
  let info;
  try {
    info = cgroupInfo();
  } catch (e) {
    return { name, ok: false, severity: 'warning', detail: `cannot read cgroup information: ${(e as Error).message}` };
  }
  const v = info.version === 'hybrid' ? 'v1/v2 hybrid' : `v${info.version}`;
  if (info.delegated) return { name, ok: true, severity: 'warning', detail: `${v}, delegated controllers: ${info.controllers.join(' ')}` };
  if (info.version === 2) {
    return {
      name,
      ok: false,
      severity: 'warning',
      detail: `${v}, no controllers delegated to this user: --memory, --cpus and --pids-limit are ignored`,
      fix: `sudo mkdir -p /etc/systemd/system/user@.service.d && printf '[Service]\\nDelegate=memory pids cpu cpuset\\n' | sudo tee /etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl daemon-reload (then log in again)`,
    };
  }
  return {
    name,
    ok: false,
    severity: 'warning',
    detail: `${v} without delegation: --memory, --cpus and --pids-limit are ignored`,
    fix: 'add systemd.unified_cgroup_hierarchy=1 to GRUB_CMDLINE_LINUX in /etc/default/grub, then sudo update-grub and reboot',
  };
}

function portStartCheck(): Check {
  const name = 'unprivileged ports';
  const raw = readText('/proc/sys/net/ipv4/ip_unprivileged_port_start')?.trim();
  const start = raw === undefined ? 1024 : Number(raw);
  if (start > 80) {
    return { name, ok: false, severity: 'warning', detail: `net.ipv4.ip_unprivileged_port_start = ${start}: host ports below ${start} cannot be published (-p 80:80)`, fix: 'sudo sysctl net.ipv4.ip_unprivileged_port_start=80' };
  }
  return { name, ok: true, severity: 'warning', detail: `net.ipv4.ip_unprivileged_port_start = ${start}` };
}

function pingCheck(): Check {
  const name = 'ping group range';
  const raw = readText('/proc/sys/net/ipv4/ping_group_range')?.trim();
  const fix = 'sudo sysctl -w net.ipv4.ping_group_range="0 2147483647"';
  if (raw === undefined) return { name, ok: false, severity: 'warning', detail: 'net.ipv4.ping_group_range is unreadable', fix };
  const [lo, hi] = raw.split(/\s+/).map(Number) as [number, number];
  const gids = [process.getgid?.() ?? 0, ...(process.getgroups?.() ?? [])];
  const inside = gids.some((g) => g >= lo && g <= hi);
  const detail = `net.ipv4.ping_group_range = ${lo} ${hi}`;
  if (!inside) return { name, ok: false, severity: 'warning', detail: `${detail}: gid ${gids[0]} cannot open ICMP sockets, ping may fail`, fix };
  return { name, ok: true, severity: 'warning', detail: `${detail} (includes gid ${gids[0]})` };
}

function runtimeDirCheck(): Check {
  const name = 'XDG_RUNTIME_DIR';
  const u = currentUser();
  const fallback = `tsctr falls back to ${path.join(os.tmpdir(), `tsctr-run-${u.uid}`)}`;
  const fix = `log in through a login session (ssh, machinectl shell ${u.name}@) rather than su/sudo, or: sudo loginctl enable-linger ${u.name}`;
  const dir = process.env.XDG_RUNTIME_DIR;
  if (!dir) return { name, ok: false, severity: 'warning', detail: `not set; ${fallback}`, fix };
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    return { name, ok: false, severity: 'warning', detail: `${dir} does not exist`, fix };
  }
  if (st.uid !== u.uid) return { name, ok: false, severity: 'warning', detail: `${dir} is owned by uid ${st.uid}, not ${u.uid}`, fix };
  const mode = st.mode & 0o777;
  if (mode !== 0o700) return { name, ok: false, severity: 'warning', detail: `${dir} has mode ${mode.toString(8).padStart(4, '0')}, expected 0700`, fix: `chmod 0700 ${dir}` };
  return { name, ok: true, severity: 'warning', detail: `${dir} (owned by ${u.name}, mode 0700)` };
}

function lingerCheck(): Check {
  const name = 'lingering';
  const u = currentUser();
  if (!fs.existsSync('/run/systemd/system')) return { name, ok: true, severity: 'warning', detail: 'not a systemd machine; containers survive logout' };
  if (fs.existsSync(`/var/lib/systemd/linger/${u.name}`)) return { name, ok: true, severity: 'warning', detail: `enabled for ${u.name}` };
  return { name, ok: false, severity: 'warning', detail: `not enabled for ${u.name}: systemd kills containers when the last session ends`, fix: `sudo loginctl enable-linger ${u.name}` };
}

/** A check that throws is itself a finding, never a crash of the whole report. */
function safely(name: string, severity: Severity, fn: () => Check): Check {
  try {
    return fn();
  } catch (e) {
    return { name, ok: false, severity, detail: `check failed: ${(e as Error).message}` };
  }
}

/** Either overlay will do: one failing is an error only when the other fails too. */
function storageSeverity(overlay: Check, fuse: Check): [Check, Check] {
  if (!overlay.ok && fuse.ok) return [{ ...overlay, severity: 'warning', detail: `${overlay.detail} (new containers fall back to fuse-overlayfs)` }, fuse];
  if (!overlay.ok && !fuse.ok) return [overlay, { ...fuse, severity: 'error' }];
  return [overlay, fuse];
}

export function runChecks(): Check[] {
  return [
    safely('subuid range', 'error', () => subIdCheck('uid')),
    safely('subgid range', 'error', () => subIdCheck('gid')),
    safely('newuidmap', 'error', () => idMapToolCheck('newuidmap')),
    safely('newgidmap', 'error', () => idMapToolCheck('newgidmap')),
    safely('user namespaces', 'error', userNamespaceCheck),
    ...storageSeverity(safely('kernel overlay in user namespace', 'error', kernelOverlayCheck), safely('fuse-overlayfs', 'warning', fuseOverlayCheck)),
    safely('pasta', 'error', () => networkToolCheck('pasta', 'passt')),
    safely('slirp4netns', 'error', () => networkToolCheck('slirp4netns', 'slirp4netns')),
    safely('/dev/net/tun', 'warning', tunCheck),
    safely('cgroups', 'warning', cgroupCheck),
    safely('unprivileged ports', 'warning', portStartCheck),
    safely('ping group range', 'warning', pingCheck),
    safely('XDG_RUNTIME_DIR', 'warning', runtimeDirCheck),
    safely('lingering', 'warning', lingerCheck),
  ];
}
