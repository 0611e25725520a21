/**
 * `compose up`'s convergence: the project's networks and volumes exist, then each service, in
 * dependency order and after its dependencies' conditions hold, has exactly its replicas, each
 * created from the current config (recreated when its config hash changed) and running.
 * Images are there already (the engine built or pulled them first).
 */
import crypto from 'node:crypto';
import { TsctrError } from '../errors.js';
import { createContainer } from '../container/create.js';
import { readHealth } from '../container/health.js';
import { startContainer } from '../container/launch.js';
import { createNetwork } from '../container/networks.js';
import { processHost } from '../container/options.js';
import { removeContainer, stopContainer } from '../container/ops.js';
import { exitSettled, liveState } from '../container/state.js';
import { findContainer, loadContainers } from '../container/store.js';
import { ensureVolume, volumeNames } from '../container/volumes.js';
import { findNetwork, loadNetworks } from '../net/network-store.js';
import { readImageConfig } from '../image/store.js';
import { LABEL } from './labels.js';
import { startOrder, withDependencies } from './order.js';
import type { RtProject, RtService } from './project-runtime.js';
import { rangeTooSmall, replicaName, replicaSpec } from './service-spec.js';
import { checkBuildPlatform, serviceImageRecord } from './platform.js';
import type { ImageRecord } from '../image/types.js';
import { materialiseFiles } from './inline-files.js';
import { projectContainers, type ProjectContainer } from './state.js';
import { syncBalancers, balancerUsable } from './balance.js';

export type Progress = (kind: 'Network' | 'Volume' | 'Container' | 'Image', name: string, state: string) => void;

export interface UpOptions {
  services: string[];
  forceRecreate: boolean;
  noRecreate: boolean;
  removeOrphans: boolean;
  /** Service → replicas (--scale), over deploy.replicas. */
  scale: Record<string, number>;
  /** Do not start what the named services depend on (`run --no-deps`, `up --no-deps`). */
  noDeps?: boolean;
  /** Create only (`compose create`). */
  noStart?: boolean;
}

export function dependencyMap(p: RtProject): Record<string, string[]> {
  return Object.fromEntries(Object.values(p.services).map((s) => [s.name, Object.keys(s.dependsOn)]));
}

/** The services `up SERVICES` acts on, in start order. */
export function selectedServices(p: RtProject, names: string[], noDeps = false): string[] {
  for (const n of names) if (!p.services[n]) throw new TsctrError(`no such service: ${n}`);
  const deps = dependencyMap(p);
  const order = startOrder(deps);
  if (!names.length) return order;
  const keep = noDeps ? new Set(names) : withDependencies(deps, names);
  return order.filter((s) => keep.has(s));
}

export function replicasOf(s: RtService, scale: Record<string, number>): number {
  return scale[s.name] ?? s.replicas;
}

/** The networks and volumes the project declares (those its services use), created if missing. */
export async function ensureResources(p: RtProject, services: string[], progress: Progress): Promise<void> {
  const usedNets = new Set(services.flatMap((s) => Object.keys(p.services[s]!.networks)));
  for (const key of usedNets) {
    const n = p.networks[key];
    if (!n) throw new TsctrError(`service uses undefined network "${key}"`);
    if (findNetwork(loadNetworks(), n.name)) continue;
    if (n.external) throw new TsctrError(`network ${n.name} declared as external, but could not be found`);
    await createNetwork({ name: n.name, internal: n.internal, subnet: n.subnet, gateway: n.gateway, labels: { [LABEL.project]: p.name, [LABEL.network]: key } });
    progress('Network', n.name, 'Created');
  }
  const have = new Set(volumeNames());
  const usedVols = new Set(services.flatMap((s) => p.services[s]!.volumes.filter((m) => m.type === 'volume' && m.source).map((m) => m.source)));
  for (const key of usedVols) {
    const v = p.volumes[key];
    if (!v) throw new TsctrError(`service refers to undefined volume ${key}: invalid compose project`);
    if (have.has(v.name)) continue;
    if (v.external) throw new TsctrError(`external volume "${v.name}" not found`);
    ensureVolume(v.name);
    progress('Volume', v.name, 'Created');
  }
}

/**
 * What `up` refuses before it creates anything: a config or secret it cannot mount (external, an
 * unset variable), a published port range with fewer ports than replicas, a build for a foreign
 * platform, a container_name on a scaled service, create flags the spec builder refuses.
 */
export function checkServices(p: RtProject, services: string[], scale: Record<string, number>): void {
  for (const name of services) {
    const s = p.services[name];
    if (!s) continue;
    const bad = s.files.find((f) => f.unavailable);
    if (bad) throw new TsctrError(`service "${name}": ${bad.unavailable}`);
    const want = replicasOf(s, scale);
    for (const pt of s.ports) if (pt.range && pt.range[1] - pt.range[0] + 1 < want) throw new TsctrError(rangeTooSmall(s, pt, want));
    checkBuildPlatform(s);
    if (s.containerName && want > 1) throw new TsctrError(`service "${name}" has a container_name and cannot be scaled to ${want} replicas`);
    // Its create flags too (--userns keep-id on a user network, say): found at its turn, they would
    // fail `up` after the services before it were created. The image may not be built or pulled
    // yet, so a stand-in command; files are checked when they are written out.
    replicaSpec(p, { ...s, files: s.files.map((f) => ({ ...f, source: '/' })) }, { number: 1, balanced: false }, { Cmd: ['true'] }, { ...processHost(), cwd: p.workingDir });
  }
}

/**
 * The hash a replica carries: the service's; whether a balancer owns its ports (scaling across 1
 * changes that); and, as docker compose resolves `service:X` before hashing, the container whose
 * network namespace it joins (recreating X must recreate it, or it would hold a dead namespace).
 */
function replicaHash(s: RtService, balanced: boolean, parent: string | undefined): string {
  if (!balanced && parent === undefined) return s.hash;
  return crypto.createHash('sha256').update(`${s.hash}${balanced ? '+balanced' : ''}${parent ? `+${parent}` : ''}`).digest('hex');
}

function namespaceParent(p: RtProject, s: RtService): string | undefined {
  const other = s.networkMode?.startsWith('service:') ? p.services[s.networkMode.slice('service:'.length)] : undefined;
  return other && findContainer(loadContainers(), replicaName(p, other, 1))?.id;
}

const sameImage = (a: string, b: string) => a.replace(/^sha256:/, '') === b.replace(/^sha256:/, '');

async function createReplica(p: RtProject, s: RtService, n: number, balanced: boolean, image: ImageRecord, hash: string, progress: Progress): Promise<string> {
  const spec = replicaSpec(p, { ...materialiseFiles(p.name, s), hash }, { number: n, balanced }, readImageConfig(image).config ?? {}, { ...processHost(), cwd: p.workingDir });
  const rec = await createContainer(spec, image);
  progress('Container', rec.name, 'Created');
  return rec.id;
}

async function startReplica(id: string, progress: Progress): Promise<void> {
  const c = findContainer(loadContainers(), id);
  if (!c || liveState(c).status === 'running') return;
  await startContainer(id, { attach: false, interactive: false });
  progress('Container', c.name, 'Started');
}

export async function removeReplica(c: ProjectContainer, progress: Progress, volumes = false): Promise<void> {
  if (c.running) {
    await stopContainer(c.record.id);
    progress('Container', c.record.name, 'Stopped');
  }
  await removeContainer(c.record.id, true, volumes);
  progress('Container', c.record.name, 'Removed');
}

/** Blocks until `dep`'s condition holds for `service`; fails naming the dependency when it cannot. */
export async function waitCondition(p: RtProject, dep: string, condition: RtService['dependsOn'][string], progress: Progress, timeoutMs = 10 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const replicas = () => projectContainers(p.name).filter((c) => c.service === dep);
  if (condition === 'service_started') return;
  const waiting = new Set<string>();
  for (;;) {
    let done = true;
    for (const c of replicas()) {
      // Settled first: an exit file that appears between the two reads must not pair a final
      // verdict with the unknown code read before it.
      const settled = exitSettled(c.record);
      const st = liveState(c.record);
      if (!waiting.has(c.record.name)) {
        waiting.add(c.record.name);
        progress('Container', c.record.name, 'Waiting');
      }
      if (condition === 'service_completed_successfully') {
        if (st.status === 'running' || !settled) done = false;
        else if (st.exitCode !== 0) throw new TsctrError(`service "${dep}" didn't complete successfully: exit ${st.exitCode}`);
        continue;
      }
      // service_healthy
      if (st.status !== 'running') throw new TsctrError(`dependency failed to start: container ${c.record.name} (service "${dep}") exited (${st.exitCode})`);
      const h = readHealth(c.record);
      if (!c.record.config.healthcheck?.Test?.length || c.record.config.healthcheck.Test[0] === 'NONE') {
        throw new TsctrError(`dependency failed to start: container ${c.record.name} has no healthcheck configured`);
      }
      if (h?.Status === 'unhealthy') throw new TsctrError(`dependency failed to start: container ${c.record.name} (service "${dep}") is unhealthy`);
      if (h?.Status !== 'healthy') done = false;
    }
    if (done) {
      for (const n of waiting) progress('Container', n, condition === 'service_healthy' ? 'Healthy' : 'Exited');
      return;
    }
    if (Date.now() > deadline) throw new TsctrError(`timeout waiting for service "${dep}" to be ${condition === 'service_healthy' ? 'healthy' : 'completed'}`);
    // The monitor rewrites health.json after each probe: a short poll adds little to `up`'s time.
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Containers of the project whose service the file no longer has. */
export function orphans(p: RtProject): ProjectContainer[] {
  return projectContainers(p.name).filter((c) => !p.services[c.service]);
}

export async function up(p: RtProject, o: UpOptions, progress: Progress, warn: (m: string) => void): Promise<void> {
  const services = selectedServices(p, o.services, o.noDeps);
  checkServices(p, services, o.scale);
  await ensureResources(p, services, progress);
  const orphaned = orphans(p);
  if (orphaned.length) {
    if (o.removeOrphans) for (const c of orphaned.reverse()) await removeReplica(c, progress);
    else warn(`Found orphan containers ([${orphaned.map((c) => c.record.name).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
  }
  for (const name of services) {
    const s = p.services[name]!;
    for (const [dep, cond] of Object.entries(s.dependsOn)) if (services.includes(dep)) await waitCondition(p, dep, cond, progress);
    const want = replicasOf(s, o.scale);
    // Ranges are not balanced: each replica publishes its own port of the range.
    const balanced = want > 1 && s.ports.some((pt) => pt.published !== undefined) && balancerUsable();
    // A service no longer balanced gives its host ports back before a replica publishes them itself.
    if (!balanced) await syncBalancers(p, s, []);
    const existing = projectContainers(p.name).filter((c) => c.service === name);
    // Scaling down removes the highest numbers.
    for (const c of existing.filter((c) => c.number > want).reverse()) await removeReplica(c, progress);
    const hash = replicaHash(s, balanced, namespaceParent(p, s));
    // The image is an input too (docker compose labels its digest): a rebuilt or re-pulled one recreates.
    const image = want > 0 ? await serviceImageRecord(p, s) : undefined;
    const ids: string[] = [];
    for (let n = 1; n <= want; n++) {
      const c = existing.find((e) => e.number === n);
      const stale = c && (c.record.config.labels[LABEL.hash] !== hash || !sameImage(c.record.imageId, image!.id));
      if (c && !o.noRecreate && (o.forceRecreate || stale)) {
        progress('Container', c.record.name, 'Recreate');
        await removeReplica(c, () => undefined);
        ids.push(await createReplica(p, s, n, balanced, image!, hash, progress));
      } else if (c) {
        if (c.running) progress('Container', c.record.name, 'Running');
        ids.push(c.record.id);
      } else ids.push(await createReplica(p, s, n, balanced, image!, hash, progress));
    }
    if (!o.noStart) for (const id of ids) await startReplica(id, progress);
    await syncBalancers(p, s, balanced ? ids : []);
  }
}
