/** `compose down` and the verbs over a project's existing containers (stop, start, restart, kill, rm), in dependency order. */
import { TsctrError } from '../errors.js';
import { removeNetwork } from '../container/networks.js';
import { killContainer, removeContainer, stopContainer } from '../container/ops.js';
import { startContainer } from '../container/launch.js';
import { removeVolume, volumeNames } from '../container/volumes.js';
import { findNetwork, loadNetworks } from '../net/network-store.js';
import { LABEL } from './labels.js';
import { stopProjectBalancers, syncBalancers } from './balance.js';
import { removeFiles } from './inline-files.js';
import { startOrder } from './order.js';
import type { RtProject } from './project-runtime.js';
import { projectContainers, type ProjectContainer } from './state.js';
import { dependencyMap, type Progress } from './up.js';

export interface DownOptions {
  volumes: boolean;
  removeOrphans: boolean;
  /** Seconds before SIGKILL; undefined: each container's own (stop_grace_period). */
  timeout?: number;
}

/** The project's containers (of the named services, or all), dependents first: the order to stop them in. */
export function stopOrdered(p: RtProject, services: string[], opts: { oneoff?: boolean; orphans?: boolean } = {}): ProjectContainer[] {
  for (const n of services) if (!p.services[n]) throw new TsctrError(`no such service: ${n}`);
  const rank = new Map(startOrder(dependencyMap(p)).map((s, i) => [s, i]));
  return projectContainers(p.name, { oneoff: opts.oneoff })
    .filter((c) => (services.length ? services.includes(c.service) : rank.has(c.service) || opts.orphans))
    .sort((a, b) => (rank.get(b.service) ?? Infinity) - (rank.get(a.service) ?? Infinity) || b.number - a.number);
}

export async function stopServices(p: RtProject, services: string[], progress: Progress, timeout?: number): Promise<void> {
  await stopProjectBalancers(p.name, services);
  for (const c of stopOrdered(p, services)) {
    if (!c.running) continue;
    progress('Container', c.record.name, 'Stopping');
    await stopContainer(c.record.id, timeout);
    progress('Container', c.record.name, 'Stopped');
  }
}

export async function startServices(p: RtProject, services: string[], progress: Progress): Promise<void> {
  for (const c of stopOrdered(p, services).reverse()) {
    if (c.running) continue;
    await startContainer(c.record.id, { attach: false, interactive: false });
    progress('Container', c.record.name, 'Started');
  }
  // Scaled services get their balancers back (stop took them down with the replicas).
  for (const s of Object.values(p.services)) {
    if (services.length && !services.includes(s.name)) continue;
    const ids = projectContainers(p.name).filter((c) => c.service === s.name).map((c) => c.record.id);
    if (ids.length > 1 && s.ports.some((pt) => pt.published !== undefined)) await syncBalancers(p, s, ids);
  }
}

export async function killServices(p: RtProject, services: string[], signal: string, progress: Progress): Promise<void> {
  for (const c of stopOrdered(p, services)) {
    if (!c.running) continue;
    await killContainer(c.record.id, signal);
    progress('Container', c.record.name, 'Killed');
  }
}

/** `compose rm`: the stopped containers (all of them with stop first), anonymous volumes with -v. */
export async function removeServices(p: RtProject, services: string[], o: { stop: boolean; volumes: boolean }, progress: Progress): Promise<void> {
  if (o.stop) await stopServices(p, services, progress);
  for (const c of stopOrdered(p, services)) {
    if (c.running && !o.stop) continue;
    await removeContainer(c.record.id, true, o.volumes);
    progress('Container', c.record.name, 'Removed');
  }
}

export async function down(p: RtProject, o: DownOptions, progress: Progress, warn: (m: string) => void): Promise<void> {
  const all = stopOrdered(p, [], { oneoff: true, orphans: true });
  const orphaned = all.filter((c) => !p.services[c.service]);
  if (orphaned.length && !o.removeOrphans) {
    warn(`Found orphan containers ([${orphaned.map((c) => c.record.name).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
  }
  await stopProjectBalancers(p.name);
  for (const c of all) {
    if (!p.services[c.service] && !o.removeOrphans) continue;
    if (c.running) {
      progress('Container', c.record.name, 'Stopping');
      await stopContainer(c.record.id, o.timeout);
      progress('Container', c.record.name, 'Stopped');
    }
    await removeContainer(c.record.id, true, o.volumes);
    progress('Container', c.record.name, 'Removed');
  }
  removeFiles(p.name);
  // The file's networks, and those labelled with the project (down -p NAME without a file).
  const labelled = Object.values(loadNetworks().networks).filter((n) => n.labels?.[LABEL.project] === p.name).map((n) => n.name);
  const nets = new Set([...Object.values(p.networks).filter((n) => !n.external).map((n) => n.name), ...labelled]);
  for (const name of nets) {
    if (!findNetwork(loadNetworks(), name)) continue;
    await removeNetwork(name, false);
    progress('Network', name, 'Removed');
  }
  if (o.volumes) {
    const have = new Set(volumeNames());
    for (const v of Object.values(p.volumes)) {
      if (v.external || !have.has(v.name)) continue;
      removeVolume(v.name, false);
      progress('Volume', v.name, 'Removed');
    }
  }
}
