/**
 * The create step's writing half: a checked ContainerSpec becomes a container on disk. Under the
 * store lock it gets its id, its name (claimed there: of two concurrent creates with one name,
 * exactly one wins, and a random name is one no other container has), its directories and its
 * volumes, and its record.
 */
import { containerEvent } from './events.js';
import fs from 'node:fs';
import { containerPaths } from '../paths.js';
import { getImage, loadImages } from '../image/store.js';
import { ensureDir } from '../util/fsutil.js';
import { assertNameFree, newContainerId, updateContainers } from './store.js';
import { randomName } from './names.js';
import { ensureVolume, randomVolumeName } from './volumes.js';
import { checkSpec, publishesPorts, recordOf } from './container-spec.js';
import { allocateEndpoints, checkEndpointRequest } from '../net/endpoints.js';
import { layersTopFirst } from './layers.js';
import { resolveUser } from './user.js';
import { TsctrError } from '../errors.js';
import { log } from '../util/log.js';
import { resolveStorageDriver } from '../store/storage-driver.js';
import type { ContainerRecord, ContainerSpec } from './types.js';
import type { ImageRecord } from '../image/types.js';

export { layersTopFirst } from './layers.js';

/** The image the options name, looked up locally (pulling is the caller's business). */
export function localImage(name: string): ImageRecord | undefined {
  const doc = loadImages();
  try {
    return getImage(doc, name);
  } catch {
    return undefined;
  }
}

export async function writeContainer(spec: ContainerSpec, image: ImageRecord): Promise<ContainerRecord> {
  const id = newContainerId();
  const mounts = spec.mounts.map((m) => (m.type === 'volume' && !m.source ? { ...m, source: randomVolumeName(), anonymous: true } : m));
  const record = recordOf({ ...spec, mounts }, { id, name: spec.name ?? '', imageId: image.id, created: new Date().toISOString(), storage: await resolveStorageDriver() });
  await updateContainers((doc) => {
    if (spec.name) assertNameFree(doc, spec.name);
    else record.name = randomName((n) => Object.values(doc.containers).some((c) => c.name === n));
    // Addresses under the lock: of concurrent runs, none takes an address another record holds.
    if (spec.endpointRequest) record.endpoints = allocateEndpoints(spec.endpointRequest, Object.values(doc.containers), id);
    // The image may have been removed since we looked it up.
    getImage(loadImages(), image.id);
    ensureDir(containerPaths.dir(id));
    ensureDir(containerPaths.upper(id), 0o755);
    ensureDir(containerPaths.work(id));
    for (const m of mounts) if (m.type === 'volume') ensureVolume(m.source);
    doc.containers[id] = record;
  });
  containerEvent(record, 'create');
  return record;
}

export function removeContainerDirs(id: string): string[] {
  return [containerPaths.dir(id), containerPaths.run(id)].filter((d) => fs.existsSync(d));
}

/**
 * A container from a typed spec — from a command line, a Kubernetes YAML, a pod, a build step:
 * checks what only the machine can tell (the pod exists, the user is in the image, bind sources
 * exist, host ports are free), then writes it. Everything is checked before anything is written.
 */
export async function createContainer(spec: ContainerSpec, image: ImageRecord): Promise<ContainerRecord> {
  checkSpec(spec);
  if (spec.endpointRequest) checkEndpointRequest(spec.endpointRequest); // the networks exist, --ip fits
  if (spec.pod !== undefined) await joinPod(spec.pod);
  resolveUser(spec.user, layersTopFirst(image)); // an unknown user fails now, not at every start
  const { existsSync } = await import('node:fs');
  for (const m of spec.mounts) {
    if (m.type === 'bind' && !existsSync(m.source)) throw new TsctrError(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
  }
  if (spec.portBindings.length && !publishesPorts(spec.network)) {
    log.warn(`published ports are discarded when using ${spec.network} network mode`);
    spec = { ...spec, portBindings: [] };
  }
  // A taken host port is found now, before anything is written (start checks again).
  const fixed = spec.portBindings.filter((b) => b.hostPort !== 0);
  if (fixed.length) await (await import('../net/setup.js')).resolvePorts(fixed);
  return writeContainer(spec, image);
}

/** A pod's member needs the pod, and its infra container running: its network namespace is the pod's. */
async function joinPod(pod: string): Promise<void> {
  const { podInfra } = await import('./pods.js');
  const infra = podInfra(pod);
  if (!infra) {
    const { NotFoundError } = await import('../errors.js');
    throw new NotFoundError(`no such pod: ${pod}`);
  }
  const { liveState } = await import('./state.js');
  if (liveState(infra).status !== 'running') {
    const { startContainer } = await import('./launch.js');
    await startContainer(infra.id, { attach: false, interactive: false });
  }
}
