/**
 * System use cases: info, check, disk usage, prune, reset. Libraries imported per use case
 * (containers.ts).
 */
import type { Check } from '../system/checks.js';
import type { Row as UsageRow } from '../system/disk-usage.js';
import type { Pruned } from '../container/prune.js';
import type { RemoveReport } from '../image/remove.js';

export type { Check, Pruned, RemoveReport, UsageRow };

/** The host, the store and the runtime as `info` shows them (podman's keys). */
export async function systemInfo(): Promise<Record<string, unknown>> {
  return (await import('../system/info.js')).gather();
}

/** Whether this host can run rootless containers, check by check. */
export async function systemCheck(): Promise<Check[]> {
  return (await import('../system/checks.js')).runChecks();
}

export interface ImageUsage {
  id: string;
  created: string;
  size: number;
  /** Bytes of its layers that other images use too, and of those only it uses. */
  shared: number;
  unique: number;
  containers: number;
  /** Its names, split as docker shows them (none: untagged). */
  tags: { repository: string; tag: string }[];
}

export interface ContainerUsage {
  id: string;
  image: string;
  command: string;
  localVolumes: number;
  /** Bytes of its writable layer. */
  size: number;
  created: string;
  running: boolean;
  name: string;
}

export interface VolumeUsage {
  name: string;
  /** How many containers use it. */
  links: number;
  size: number;
}

export interface DiskUsage {
  /** Images, Containers, Local Volumes: counts, sizes and what a prune would reclaim. */
  summary: UsageRow[];
  images: ImageUsage[];
  containers: ContainerUsage[];
  volumes: VolumeUsage[];
}

/** `system df`: what images, containers and volumes take on disk. */
export async function diskUsage(): Promise<DiskUsage> {
  const { treeSize } = await import('../system/disk-usage.js');
  const { loadImages } = await import('../image/store.js');
  const { loadContainers } = await import('../container/store.js');
  const { liveState } = await import('../container/state.js');
  const { volumeNames, volumeUsers } = await import('../container/volumes.js');
  const { containerPaths, volumePaths } = await import('../paths.js');
  const { familiarName, parseReference } = await import('../image/reference.js');

  const images = loadImages();
  const containers = Object.values(loadContainers().containers);
  const allImages = Object.values(images.images);

  // Layers are shared between images and stored once: count each once, as docker does.
  const layerSize = (d: string) => images.layers[d]?.size ?? 0;
  const usedImageIds = new Set(containers.map((c) => c.imageId));
  const allLayers = new Set(allImages.flatMap((i) => i.layers));
  const activeLayers = new Set(allImages.filter((i) => usedImageIds.has(i.id)).flatMap((i) => i.layers));
  const imgRow: UsageRow = {
    type: 'Images',
    total: allImages.length,
    active: allImages.filter((i) => usedImageIds.has(i.id)).length,
    size: [...allLayers].reduce((n, d) => n + layerSize(d), 0),
    reclaimable: [...allLayers].filter((d) => !activeLayers.has(d)).reduce((n, d) => n + layerSize(d), 0),
  };

  const ctrs: ContainerUsage[] = await Promise.all(
    containers.map(async (c) => ({
      id: c.id,
      image: c.config.image,
      command: [c.path, ...c.args].join(' '),
      localVolumes: c.hostConfig.mounts.filter((m) => m.type === 'volume').length,
      size: await treeSize(containerPaths.upper(c.id)),
      created: c.created,
      running: liveState(c).status === 'running',
      name: c.name,
    })),
  );
  const ctrRow: UsageRow = {
    type: 'Containers',
    total: ctrs.length,
    active: ctrs.filter((x) => x.running).length,
    size: ctrs.reduce((n, x) => n + x.size, 0),
    reclaimable: ctrs.filter((x) => !x.running).reduce((n, x) => n + x.size, 0),
  };

  const usedVolumes = new Set(containers.flatMap((c) => c.hostConfig.mounts.filter((m) => m.type === 'volume').map((m) => m.source)));
  const vols: VolumeUsage[] = await Promise.all(
    volumeNames().map(async (name) => ({ name, links: volumeUsers(name, containers).length, size: await treeSize(volumePaths.data(name)) })),
  );
  const volRow: UsageRow = {
    type: 'Local Volumes',
    total: vols.length,
    active: vols.filter((v) => usedVolumes.has(v.name)).length,
    size: vols.reduce((n, v) => n + v.size, 0),
    reclaimable: vols.filter((v) => !usedVolumes.has(v.name)).reduce((n, v) => n + v.size, 0),
  };

  const layerUsers = new Map<string, number>();
  for (const i of allImages) for (const d of new Set(i.layers)) layerUsers.set(d, (layerUsers.get(d) ?? 0) + 1);
  const imageUsage: ImageUsage[] = allImages.map((i) => {
    const uniq = [...new Set(i.layers)];
    return {
      id: i.id,
      created: i.created,
      size: i.size,
      shared: uniq.filter((d) => (layerUsers.get(d) ?? 0) > 1).reduce((n, d) => n + layerSize(d), 0),
      unique: uniq.filter((d) => (layerUsers.get(d) ?? 0) <= 1).reduce((n, d) => n + layerSize(d), 0),
      containers: containers.filter((c) => c.imageId === i.id).length,
      tags: i.repoTags.map((t) => {
        const ref = parseReference(t);
        return { repository: familiarName(ref), tag: ref.tag ?? '<none>' };
      }),
    };
  });
  return { summary: [imgRow, ctrRow, volRow], images: imageUsage, containers: ctrs, volumes: vols };
}

export interface PruneOptions {
  /** Every image no container uses, not only dangling ones. */
  all: boolean;
  /** Also volumes no container uses. */
  volumes: boolean;
}

export interface PruneReport {
  containers: Pruned;
  volumes?: Pruned;
  images: RemoveReport;
  /** Bytes freed in all. */
  reclaimed: number;
}

/** Stopped containers, then (asked for) the volumes no container uses, then unused images. */
export async function systemPrune(o: PruneOptions): Promise<PruneReport> {
  const { pruneContainers, pruneVolumes } = await import('../container/prune.js');
  const containers = await pruneContainers();
  // After the containers: the volumes only they used are now unused too.
  const volumes = o.volumes ? await pruneVolumes() : undefined;
  const images = await (await import('../image/remove.js')).pruneImages(o.all);
  return { containers, volumes, images, reclaimed: containers.reclaimed + (volumes?.reclaimed ?? 0) + images.reclaimed };
}

/** Where the store is: what `system reset` removes. */
export async function storeRoot(): Promise<string> {
  return (await import('../paths.js')).dataRoot();
}

/**
 * Removes every container, image and volume and the whole store. Works on a corrupt store too:
 * running containers are then found through their pid files. The run root is shared by every data
 * root of the user, so only this store's container run directories are removed from it.
 * `warn` hears of each container that could not be removed the orderly way.
 */
export async function systemReset(warn: (message: string) => void): Promise<void> {
  const { containerIds, killFromPidFiles } = await import('../system/reset.js');
  const { dataRoot, runRoot } = await import('../paths.js');
  const { errorMessage } = await import('../errors.js');
  const data = dataRoot();
  const run = runRoot();

  // The orderly way first: stop each container as `rm -f` would.
  try {
    const { loadContainers } = await import('../container/store.js');
    const { removeContainer } = await import('../container/ops.js');
    for (const c of Object.values(loadContainers().containers)) {
      try {
        await removeContainer(c.id, true);
      } catch (e) {
        warn(`removing container ${c.id.slice(0, 12)}: ${errorMessage(e)}`);
      }
    }
  } catch {
    /* unreadable store: the pid files below still find what runs */
  }
  const ids = await containerIds(data);
  await killFromPidFiles(run, ids);

  const fs = await import('node:fs');
  const path = await import('node:path');
  // API sockets of slirp4netns that older versions asked for (s-<id>.sock).
  for (const id of ids) fs.rmSync(path.join(run, `s-${id.slice(0, 12)}.sock`), { force: true });
  const runDirs = ids.map((id) => path.join(run, 'containers', id));
  const targets = [data, ...runDirs].filter((p) => fs.existsSync(p));
  if (targets.length) {
    const { removeTreesAsNamespaceRoot } = await import('../rootless/userns.js');
    removeTreesAsNamespaceRoot(targets);
  }
  // The run root itself goes only when no other store still uses it.
  for (const d of [path.join(run, 'containers'), run]) {
    try {
      fs.rmdirSync(d);
    } catch {
      /* not empty: another data root's containers live there */
    }
  }
}

/** `info` as YAML, as podman prints it. */
export async function infoYaml(info: Record<string, unknown>): Promise<string> {
  return (await import('../system/info.js')).toYaml(info).replace(/^\n/, '').trimEnd();
}

/** `info` with Go's field names, for a --format template. */
export async function infoTemplateView(info: Record<string, unknown>): Promise<unknown> {
  return (await import('../system/info.js')).goView(info);
}
