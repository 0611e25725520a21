/** What `container prune`, `volume prune` and `system prune` remove, decided in one place. */
import { treeSize } from '../util/tree-size.js';
import { containerPaths, volumePaths } from '../paths.js';
import { removeContainer } from './ops.js';
import { liveState, monitorAlive } from './state.js';
import { loadContainers } from './store.js';
import { removeVolume, volumeNames, volumeUsers } from './volumes.js';

export interface Pruned {
  removed: string[];
  reclaimed: number;
}

/** Stopped containers; one between restarts is not running, but its monitor will bring it back: kept. */
export async function pruneContainers(): Promise<Pruned> {
  const stopped = Object.values(loadContainers().containers).filter((c) => liveState(c).status !== 'running' && !monitorAlive(c));
  const out: Pruned = { removed: [], reclaimed: 0 };
  for (const c of stopped) {
    out.reclaimed += await treeSize(containerPaths.upper(c.id));
    await removeContainer(c.id, false);
    out.removed.push(c.id);
  }
  return out;
}

/** Volumes no container (running or not) mounts. */
export async function pruneVolumes(): Promise<Pruned> {
  const containers = Object.values(loadContainers().containers);
  const out: Pruned = { removed: [], reclaimed: 0 };
  for (const name of volumeNames().filter((n) => volumeUsers(n, containers).length === 0)) {
    out.reclaimed += await treeSize(volumePaths.data(name));
    removeVolume(name, false);
    out.removed.push(name);
  }
  return out;
}
