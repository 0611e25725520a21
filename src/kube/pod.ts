/**
 * Pods, the local form of Kubernetes' idea (podman's `pod` commands): an infra container that
 * holds a network namespace — tsctr-shim's `pause` in an empty image, with the pod's published
 * ports — and containers joined to it (`--network container:POD-infra`), so they share localhost.
 * A pod is its infra container, named POD-infra; members carry the pod's name in a label.
 */
import { ConflictError, NotFoundError, TsctrError } from '../errors.js';
import { hostPlatform } from '../image/platform.js';
import { INFRA_LABEL, POD_LABEL, infraName, podInfra, podMembers } from '../container/pods.js';
import type { ContainerRecord, HostConfig, PortBinding } from '../container/types.js';
import type { ImageRecord } from '../image/types.js';

export { INFRA_LABEL, POD_LABEL, infraName, podInfra, podMembers };

const PAUSE_IMAGE = 'localhost/tsctr-pause:latest';
const POD_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The pause image: one empty layer, made here once (no registry needed). */
async function pauseImage(): Promise<ImageRecord> {
  const { findImage, loadImages } = await import('../image/store.js');
  const have = findImage(loadImages(), PAUSE_IMAGE);
  if (have) return have;
  const { ingestLayer } = await import('../image/layers.js');
  const { END_OF_ARCHIVE } = await import('../overlay/tar-writer.js');
  const { addImage } = await import('../image/add.js');
  const layer = await ingestLayer((async function* () { yield END_OF_ARCHIVE; })(), undefined, 'pause layer');
  const p = hostPlatform();
  return addImage({
    config: {
      architecture: p.architecture,
      os: p.os,
      config: { Entrypoint: ['/.tsctr-pause'], Cmd: ['pause'], StopSignal: 'SIGTERM' },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created_by: 'tsctr: pod infra image (/.tsctr-pause is tsctr-shim itself, run from its sealed copy)' }],
    },
    layerSizes: new Map([[layer.diffId, layer.size]]),
    tags: [PAUSE_IMAGE],
  });
}

export interface PodOptions {
  /** The pod's published ports (its members publish none of their own). */
  portBindings: PortBinding[];
  hostname?: string;
  labels: Record<string, string>;
  restart?: HostConfig['restart'];
}

/** Creates the pod's infra container and starts it; returns it. */
export async function createPod(name: string, o: PodOptions): Promise<ContainerRecord> {
  if (!POD_NAME.test(name)) throw new TsctrError(`invalid pod name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if (podInfra(name)) throw new ConflictError(`pod ${name} already exists`);
  const { createContainer } = await import('../container/create.js');
  const { imageDefaults } = await import('../container/container-spec.js');
  const { readImageConfig } = await import('../image/store.js');
  const { startContainer } = await import('../container/launch.js');
  const image = await pauseImage();
  const base = imageDefaults(image.id, readImageConfig(image).config ?? {});
  const c = await createContainer(
    {
      ...base,
      name: infraName(name),
      hostname: o.hostname ?? name,
      labels: { ...base.labels, ...o.labels, [POD_LABEL]: name, [INFRA_LABEL]: 'true' },
      portBindings: o.portBindings,
      ...(o.restart ? { restart: o.restart } : {}),
    },
    image,
  );
  try {
    await startContainer(c.id, { attach: false, interactive: false });
  } catch (e) {
    const { removeContainer } = await import('../container/ops.js');
    await removeContainer(c.id, true, true).catch(() => undefined);
    throw e;
  }
  return c;
}

/** Removes a pod: its containers first (running ones only with force), then its infra. */
export async function removePod(pod: string, force: boolean): Promise<ContainerRecord> {
  const infra = await requirePod(pod);
  const { liveState } = await import('../container/state.js');
  const { removeContainer } = await import('../container/ops.js');
  const members = podMembers(pod);
  const running = members.filter((m) => liveState(m).status === 'running');
  if (running.length && !force) throw new ConflictError(`pod ${pod} has running containers (${running.map((m) => m.name).join(', ')}): stop them or use -f`);
  for (const m of members) await removeContainer(m.id, true, true);
  await removeContainer(infra.id, true, true);
  return infra;
}

async function requirePod(pod: string): Promise<ContainerRecord> {
  const infra = podInfra(pod);
  if (!infra) throw new NotFoundError(`no such pod: ${pod}`);
  return infra;
}

/** Starts the infra container, then the pod's containers; returns the infra container. */
export async function startPod(pod: string): Promise<ContainerRecord> {
  const infra = await requirePod(pod);
  const { startContainer } = await import('../container/launch.js');
  for (const c of [infra, ...podMembers(pod)]) await startContainer(c.id, { attach: false, interactive: false });
  return infra;
}

/** Stops the pod's containers, then the infra container; returns the infra container. */
export async function stopPod(pod: string, timeoutSec?: number): Promise<ContainerRecord> {
  const infra = await requirePod(pod);
  const { stopContainer } = await import('../container/ops.js');
  for (const c of [...podMembers(pod), infra]) await stopContainer(c.id, timeoutSec);
  return infra;
}

export interface PodRow {
  ID: string;
  Name: string;
  Status: string;
  Created: string;
  InfraID: string;
  NumberOfContainers: string;
}

/** `pod ps`: newest first, a pod Running while any of its containers runs (infra included). */
export async function listPods(noTrunc: boolean): Promise<PodRow[]> {
  const { loadContainers } = await import('../container/store.js');
  const { liveState } = await import('../container/state.js');
  const { humanDuration } = await import('../util/units.js');
  const all = Object.values(loadContainers().containers);
  const id = (s: string) => (noTrunc ? s : s.slice(0, 12));
  return all
    .filter((c) => c.config.labels[INFRA_LABEL] === 'true')
    .sort((a, b) => (a.created < b.created ? 1 : -1))
    .map((infra) => {
      const pod = infra.config.labels[POD_LABEL]!;
      const states = all.filter((c) => c.config.labels[POD_LABEL] === pod).map((c) => liveState(c).status);
      const status = states.includes('running') ? 'Running' : states.every((s) => s === 'created') ? 'Created' : 'Exited';
      return { ID: id(infra.id), Name: pod, Status: status, Created: `${humanDuration(Date.now() - Date.parse(infra.created))} ago`, InfraID: id(infra.id), NumberOfContainers: String(states.length) };
    });
}
