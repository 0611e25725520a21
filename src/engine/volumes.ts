/** Volume use cases: create, list, inspect, remove, prune. Libraries imported per use case (containers.ts). */
import type { Pruned } from '../container/prune.js';
import type { VolumeInfo } from '../container/volumes.js';

export type { Pruned, VolumeInfo };

/** Creates the volume (a random name if none) unless it exists; its name. */
export async function createVolume(name?: string): Promise<string> {
  const { ensureVolume, randomVolumeName } = await import('../container/volumes.js');
  const n = name ?? randomVolumeName();
  ensureVolume(n);
  return n;
}

export async function listVolumes(): Promise<VolumeInfo[]> {
  const { volumeNames, inspectVolume } = await import('../container/volumes.js');
  return volumeNames().map(inspectVolume);
}

export async function volumeNames(): Promise<string[]> {
  return (await import('../container/volumes.js')).volumeNames();
}

/** docker's inspect object of a volume; NotFoundError if there is none. */
export async function inspectVolume(name: string): Promise<VolumeInfo> {
  return (await import('../container/volumes.js')).inspectVolume(name);
}

/** Removes a volume; one a container uses only with `force`. */
export async function removeVolume(name: string, force: boolean): Promise<void> {
  (await import('../container/volumes.js')).removeVolume(name, force);
}

/** Removes every volume no container uses. */
export async function pruneVolumes(): Promise<Pruned> {
  return (await import('../container/prune.js')).pruneVolumes();
}

/** In the user namespace only (`internal volume-copy`): an image directory's content into a new, empty volume. */
export async function copyImageContent(volume: string, destination: string, layers: string[]): Promise<void> {
  const { TsctrError } = await import('../errors.js');
  if (!(await import('../rootless/userns.js')).canOwnImageFiles()) throw new TsctrError('internal commands run in the user namespace only');
  await (await import('../container/volume-copy.js')).copyIntoVolume(volume, destination, layers);
}
