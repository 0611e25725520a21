/**
 * The shim spec entries of the flags in run-flags.ts: shared namespaces (host, or another running
 * container's), --privileged, /dev/shm's size, sysctls, the OOM score, host devices, added groups.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TsctrError } from '../errors.js';
import { parseGroup, parsePasswd, readLayeredFile } from './image-files.js';
import { getContainer, loadContainers } from './store.js';
import { liveState } from './state.js';
/** The shim spec's entries (spec.ts's Spec), repeated here: spec.ts imports this file. */
type Spec = [string, string][];
import type { HostConfig } from './types.js';

/** The init pid of a running container, whose namespaces --pid/--ipc container:NAME join. */
export function runningPidOf(name: string): number {
  const other = getContainer(loadContainers(), name);
  const st = liveState(other);
  if (st.status !== 'running') throw new TsctrError(`cannot join the namespaces of container ${name}: it is not running`);
  return st.pid;
}

/** A mode's namespace for the shim: host (ours, joined as it is), another container's, or none (its own). */
function namespaceOf(mode: string | undefined, kind: 'pid' | 'ipc', otherPid: (name: string) => number): string | undefined {
  if (mode === 'host') return 'host';
  if (mode?.startsWith('container:')) return `/proc/${otherPid(mode.slice('container:'.length))}/ns/${kind}`;
  return undefined; // '', private, shareable (its own, which others may join), none
}

export function runFlagsSpec(hc: HostConfig, otherPid: (name: string) => number): Spec {
  const out: Spec = [];
  const pidns = namespaceOf(hc.pidMode, 'pid', otherPid);
  const ipcns = namespaceOf(hc.ipcMode, 'ipc', otherPid);
  if (pidns) out.push(['pidns', pidns]);
  if (ipcns) out.push(['ipcns', ipcns]);
  if (hc.utsMode === 'host') out.push(['utsns', 'host']);
  if (hc.privileged) out.push(['privileged', '1']);
  if (hc.shmSize) out.push(['shm-size', String(hc.shmSize)]);
  for (const [k, v] of Object.entries(hc.sysctls ?? {})) out.push(['sysctl', `${k}=${v}`]);
  if (hc.oomScoreAdj !== undefined) out.push(['oom-score-adj', String(hc.oomScoreAdj)]);
  // mknod is not possible in a user namespace: the host's node is bound, as podman does rootless.
  for (const d of hc.devices ?? []) out.push(['mount', `bind\t${d.pathOnHost}\t${d.pathInContainer}\tbind,nosuid`]);
  return out;
}

/** --group-add: gids as given, names from the container's /etc/group. */
export function addedGroups(groupAdd: string[] | undefined, layersTopFirst: string[]): number[] {
  if (!groupAdd?.length) return [];
  const groups = parseGroup(readLayeredFile(layersTopFirst, 'etc/group'));
  return groupAdd.map((g) => {
    if (/^\d+$/.test(g)) return Number(g);
    const found = groups.find((x) => x.name === g);
    if (!found) throw new TsctrError(`unable to find group ${g}: no matching entries in group file`);
    return found.gid;
  });
}

/**
 * --userns keep-id, as podman: the user gets an /etc/passwd entry (and its group one) when the
 * image has none for its ids, with the host's name and home, so `whoami` and $HOME work. Written
 * into the upper directory of a container just created, which nothing has run in yet: no path in
 * it can be a link the container made.
 */
export function keepIdFiles(upper: string, layersTopFirst: string[], me: { uid: number; gid: number; username: string; homedir: string }): void {
  const passwd = readLayeredFile(layersTopFirst, 'etc/passwd');
  const group = readLayeredFile(layersTopFirst, 'etc/group');
  if (passwd === undefined) return; // an image without users: nothing to add to
  const etc = path.join(upper, 'etc');
  fs.mkdirSync(etc, { mode: 0o755 });
  const append = (text: string, line: string) => `${text}${text.endsWith('\n') || !text ? '' : '\n'}${line}\n`;
  if (!parsePasswd(passwd).some((p) => p.uid === me.uid)) {
    fs.writeFileSync(path.join(etc, 'passwd'), append(passwd, `${me.username}:*:${me.uid}:${me.gid}:${me.username}:${me.homedir}:/bin/sh`), { mode: 0o644, flag: 'wx' });
  }
  if (group !== undefined && !parseGroup(group).some((g) => g.gid === me.gid)) {
    fs.writeFileSync(path.join(etc, 'group'), append(group, `${me.username}:x:${me.gid}:`), { mode: 0o644, flag: 'wx' });
  }
}
