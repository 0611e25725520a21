/**
 * The engine's create use case: `create`/`run` options → the image (pulled as --pull says) → a
 * typed ContainerSpec (a pure function of the options and the image) → the container, written by
 * container/create, which pods, play kube and build call with their own specs.
 */
import { readImageConfig } from '../image/store.js';
import { buildContainerSpec } from '../container/container-spec.js';
import { processHost, type CreateOptions } from '../container/options.js';
import { createContainer } from '../container/create.js';
import type { ContainerRecord } from '../container/types.js';
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

export { createContainer };
