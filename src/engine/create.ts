/**
 * The engine's create use case. `createContainer(spec, image)` takes a typed ContainerSpec — from
 * a command line (`createFromOptions`), a Kubernetes YAML, a pod, a build step — checks what only
 * the machine can tell (the pod exists, the user is in the image, bind sources exist, host ports
 * are free), then claims the name and makes the container's directories and volumes under the
 * store lock. Everything is checked before anything is written, so bad input changes nothing.
 */
import { TsctrError } from '../errors.js';
import { log } from '../util/log.js';
import { readImageConfig } from '../image/store.js';
import { buildContainerSpec, checkSpec, publishesPorts } from '../container/container-spec.js';
import { processHost, type CreateOptions } from '../container/options.js';
import { writeContainer } from '../container/create.js';
import { layersTopFirst } from '../container/layers.js';
import { resolveUser } from '../container/user.js';
import type { ContainerRecord, ContainerSpec } from '../container/types.js';
import type { ImageRecord } from '../image/types.js';

export interface CreatedContainer {
  record: ContainerRecord;
  image: ImageRecord;
}

/** `create`/`run`: the image (pulled as --pull says), the spec built from the flags, the container. */
export async function createFromOptions(o: CreateOptions, createCommand?: string[]): Promise<CreatedContainer> {
  const { ensureImage } = await import('../container/ensure-image.js');
  const image = await ensureImage(o.image, o.pull, o.platform);
  const spec = buildContainerSpec(o, readImageConfig(image).config ?? {}, processHost());
  return { record: await createContainer(createCommand ? { ...spec, createCommand } : spec, image), image };
}

export async function createContainer(spec: ContainerSpec, image: ImageRecord): Promise<ContainerRecord> {
  checkSpec(spec);
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
  const { podInfra } = await import('../container/pods.js');
  const infra = podInfra(pod);
  if (!infra) {
    const { NotFoundError } = await import('../errors.js');
    throw new NotFoundError(`no such pod: ${pod}`);
  }
  const { liveState } = await import('../container/state.js');
  if (liveState(infra).status !== 'running') {
    const { startContainer } = await import('../container/launch.js');
    await startContainer(infra.id, { attach: false, interactive: false });
  }
}
