/**
 * The create step's writing half: a checked ContainerSpec becomes a container on disk. Under the
 * store lock it gets its id, its name (claimed there: of two concurrent creates with one name,
 * exactly one wins, and a random name is one no other container has), its directories and its
 * volumes, and its record.
 */
import fs from 'node:fs';
import { containerPaths } from '../paths.js';
import { getImage, loadImages } from '../image/store.js';
import { ensureDir } from '../util/fsutil.js';
import { assertNameFree, newContainerId, updateContainers } from './store.js';
import { randomName } from './names.js';
import { ensureVolume, randomVolumeName } from './volumes.js';
import { recordOf } from './container-spec.js';
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
    // The image may have been removed since we looked it up.
    getImage(loadImages(), image.id);
    ensureDir(containerPaths.dir(id));
    ensureDir(containerPaths.upper(id), 0o755);
    ensureDir(containerPaths.work(id));
    for (const m of mounts) if (m.type === 'volume') ensureVolume(m.source);
    doc.containers[id] = record;
  });
  return record;
}

export function removeContainerDirs(id: string): string[] {
  return [containerPaths.dir(id), containerPaths.run(id)].filter((d) => fs.existsSync(d));
}
