/**
 * Finding or starting the per-user network holder (`tsctr-shim netns-holder`, src/shim/README.md):
 * the process whose user namespace every container on a user network joins and whose network
 * namespace holds one bridge per network. Started on demand under a lock, so concurrent `run`s share
 * one; it exits by itself a few seconds after its last container and client.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TsctrError } from '../errors.js';
import { runRoot } from '../paths.js';
import { shimPath } from '../runtime/shim-path.js';
import { withLock } from '../store/lock.js';
import { ensureDir } from '../util/fsutil.js';
import { isAlive, readPidFile } from '../util/proc.js';
import { ControlConnection } from './control.js';
import type { NetworkRecord } from './network-store.js';

export const holderPaths = {
  dir: () => path.join(runRoot(), 'netns'),
  pid: () => path.join(runRoot(), 'netns', 'holder.pid'),
  socket: () => path.join(runRoot(), 'netns', 'control.sock'),
  /** Ours, around find-or-start (holder.lock is the holder's own, for its life). */
  lock: () => path.join(runRoot(), 'netns', 'start.lock'),
};

export interface Holder {
  pid: number;
  conn: ControlConnection;
}

/** The live holder's pid, without starting one. */
export function liveHolderPid(): number | undefined {
  const p = readPidFile(holderPaths.pid());
  return isAlive(p) ? p.pid : undefined;
}

/** A running container on a user network, for a holder that must take over its user namespace. */
export interface Survivor {
  pid: number;
}

/**
 * Connects to the live holder or starts one. `survivors`: running containers on user networks; if
 * the holder they were attached to died, the new one joins their user namespace (so they can be
 * re-attached) instead of making a fresh one. Returns with the connection open: the holder stays
 * while it is.
 */
export async function openHolder(maps: { uid: string[]; gid: string[] }, survivors: () => Survivor[]): Promise<Holder & { started: boolean }> {
  ensureDir(holderPaths.dir());
  fs.chmodSync(holderPaths.dir(), 0o700);
  return withLock(holderPaths.lock(), async () => {
    const pid = liveHolderPid();
    if (pid) {
      const conn = ControlConnection.open(holderPaths.socket());
      if (conn) return { pid, conn, started: false };
    }
    const join = survivors().find((s) => isAlive({ pid: s.pid }));
    const args = ['netns-holder', holderPaths.dir(), ...(join ? ['--join-userns', `/proc/${join.pid}/ns/user`] : []),
      ...maps.uid.flatMap((m) => ['--uidmap', m]), ...maps.gid.flatMap((m) => ['--gidmap', m])];
    const { spawnWithFd3 } = await import('../rootless/syscalls.js');
    let out: { output: string; status: number } = { output: '', status: 0 };
    // `busy`: the last holder is still on its way out (it holds its lock until it exits).
    for (let tries = 0; tries < 50; tries++) {
      try {
        out = spawnWithFd3(shimPath(), args, process.env).wait();
      } catch (e) {
        throw new TsctrError(`cannot start the network holder ${shimPath()}: ${(e as Error).message}`);
      }
      if (!/busy/.test(out.output)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const ok = /^ok (\d+)/.exec(out.output);
    if (!ok) {
      const err = /^error (.*)$/s.exec(out.output.trim());
      throw new TsctrError(`network holder failed to start: ${err ? err[1] : out.output.trim() || `exit status ${out.status}`}`);
    }
    const conn = ControlConnection.open(holderPaths.socket());
    if (!conn) throw new TsctrError(`network holder started but ${holderPaths.socket()} does not answer`);
    return { pid: Number(ok[1]), conn, started: true };
  });
}

/** The holder's `network` request: idempotent, makes the bridge and its DNS responder. */
export function networkRequest(n: NetworkRecord): string[] {
  return ['network', n.name, n.bridge, n.subnet, n.gateway, n.internal ? '1' : '0'];
}

export interface AttachFields {
  id: string;
  pid: string;
  network: string;
  cidr: string;
  mac: string;
  ifname: string;
  names: string[];
  dns: string[];
}

export function attachRequest(a: AttachFields): string[] {
  return ['attach', a.id, a.pid, a.network, a.cidr, a.mac, a.ifname, a.names.join(','), a.dns.join(',')];
}
