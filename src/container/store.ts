/**
 * containers.json: the list of containers and their configuration. Shares the image store's lock, so
 * that `rmi` and `run` agree on which images are in use.
 */
import { ConflictError, NotFoundError } from '../errors.js';
import { containerPaths, storePaths } from '../paths.js';
import { readJson, writeJson, SCHEMA_VERSION } from '../store/json-store.js';
import { withLock } from '../store/lock.js';
import { initStore } from '../image/store.js';
import type { ContainerRecord, ContainersDoc } from './types.js';
import { randomHex } from '../util/random.js';

const emptyDoc = (): ContainersDoc => ({ schemaVersion: SCHEMA_VERSION, containers: {} });

export function loadContainers(): ContainersDoc {
  return readJson(containerPaths.index(), emptyDoc, { key: 'containers', objects: ['config', 'hostConfig'] });
}

export async function updateContainers<T>(fn: (doc: ContainersDoc) => T): Promise<T> {
  initStore();
  return withLock(storePaths.lockFile(), () => {
    const doc = loadContainers();
    const result = fn(doc);
    writeJson(containerPaths.index(), doc);
    return result;
  });
}

export function newContainerId(): string {
  return randomHex(32);
}

/** docker's lookup order: full ID, exact name, then a unique ID prefix. */
export function findContainer(doc: ContainersDoc, query: string): ContainerRecord | undefined {
  const q = query.replace(/^\//, '');
  if (doc.containers[q]) return doc.containers[q];
  const all = Object.values(doc.containers);
  const byName = all.find((c) => c.name === q);
  if (byName) return byName;
  if (!/^[a-f0-9]+$/.test(q)) return undefined;
  const hits = all.filter((c) => c.id.startsWith(q));
  if (hits.length > 1) throw new ConflictError(`multiple containers match "${query}": use more of the ID`);
  return hits[0];
}

export function getContainer(doc: ContainersDoc, query: string): ContainerRecord {
  const c = findContainer(doc, query);
  if (!c) throw new NotFoundError(`No such container: ${query}`);
  return c;
}

export function assertNameFree(doc: ContainersDoc, name: string): void {
  const other = Object.values(doc.containers).find((c) => c.name === name);
  if (other) {
    throw new ConflictError(
      `Conflict. The container name "/${name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
  }
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export function validName(name: string): boolean {
  return NAME_RE.test(name);
}
