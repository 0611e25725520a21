/**
 * The engine's create use case: `create`/`run` options → the image (pulled as --pull says) → a
 * typed ContainerSpec (a pure function of the options and the image) → the container, written by
 * container/create, which pods, play kube and build call with their own specs.
 */
import type { CreateOptions } from '../container/options.js';
import type { ContainerRecord, ContainerSpec } from '../container/types.js';
import type { ImageRecord } from '../image/types.js';
import type { RemoteRunIo } from '../remote/engine.js';
import { remote } from './remote.js';

export type { RemoteRunIo };

export interface CreatedContainer {
  record: ContainerRecord;
  image: ImageRecord;
}

/** `create`/`run`: the image (pulled as --pull says), the spec built from the flags, the container. */
export async function createFromOptions(o: CreateOptions, createCommand?: string[]): Promise<CreatedContainer> {
  const { ensureImage } = await import('../container/ensure-image.js');
  const { readImageConfig } = await import('../image/store.js');
  const { buildContainerSpec } = await import('../container/container-spec.js');
  const { processHost } = await import('../container/options.js');
  const image = await ensureImage(o.image, o.pull, o.platform);
  const spec = buildContainerSpec(o, readImageConfig(image).config ?? {}, processHost());
  // podman's --replace: a container of that name goes (as rm -f) once the new one's input is known good.
  if (o.replace && spec.name) await (await import('./extra.js')).replaceContainer(spec.name);
  return { record: await createContainer(createCommand ? { ...spec, createCommand } : spec, image), image };
}

export async function createContainer(spec: ContainerSpec, image: ImageRecord): Promise<ContainerRecord> {
  return (await import('../container/create.js')).createContainer(spec, image);
}

/**
 * A local image and its run configuration, without pulling: the API's create answers 404 for a
 * missing one, and docker's clients then pull and retry.
 */
export async function localImageConfig(name: string): Promise<{ image: ImageRecord; config: import('../image/types.js').ContainerConfig } | undefined> {
  const { localImage } = await import('../container/create.js');
  const { readImageConfig } = await import('../image/store.js');
  const image = localImage(name);
  return image ? { image, config: readImageConfig(image).config ?? {} } : undefined;
}

/** `create` on a remote engine (--url): the new container's id; undefined when the engine is this machine's. */
export async function createRemote(o: CreateOptions): Promise<string | undefined> {
  const r = await remote();
  return r ? r.createContainer(o) : undefined;
}

/**
 * `run` on a remote engine (--url): create (pulling on "no such image"), attach, start, wait; the
 * container's exit code. Undefined when the engine is this machine's: the caller runs it here.
 */
export async function runRemote(o: CreateOptions, io: RemoteRunIo): Promise<number | undefined> {
  const r = await remote();
  return r ? r.run(o, io) : undefined;
}
