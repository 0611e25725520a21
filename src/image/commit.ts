/**
 * `commit`: a container's writable layer becomes a new layer on top of its image, and the
 * container's configuration (command, environment, working directory...) the new image's, with
 * `--change` instructions applied last. Runs as root in the user namespace (the writable layer
 * holds files of the container's ids).
 */
import { applyChanges } from './dockerfile/config-change.js';
import { containerPaths } from '../paths.js';
import { addImage } from './add.js';
import { layerFromUpper } from './layers.js';
import { getImage, loadImages, readImageConfig } from './store.js';
import type { ImageConfig, ImageRecord } from './types.js';

/**
 * What commit takes from the container, given by the caller (image/ knows nothing of container/):
 * its id, its image, the settings its process ran with (they become the image's), and its command
 * line for the history entry.
 */
export interface CommitSource {
  id: string;
  imageId: string;
  user: string;
  env: string[];
  cmd: string[] | null;
  entrypoint: string[] | null;
  workingDir: string;
  labels: Record<string, string>;
  stopSignal: string;
  createdBy: string;
}

export interface CommitOptions {
  message?: string;
  author?: string;
  changes: string[];
}

export async function commitContainer(c: CommitSource, tag: string | undefined, o: CommitOptions): Promise<ImageRecord> {
  const base = getImage(loadImages(), c.imageId);
  const baseConfig = readImageConfig(base);
  const layer = await layerFromUpper(containerPaths.upper(c.id));
  const created = new Date().toISOString();
  const config: ImageConfig = {
    ...baseConfig,
    created,
    container: c.id,
    config: {
      ...baseConfig.config,
      User: c.user,
      Env: c.env,
      Cmd: c.cmd,
      Entrypoint: c.entrypoint,
      WorkingDir: c.workingDir === '/' ? baseConfig.config?.WorkingDir : c.workingDir,
      Labels: Object.keys(c.labels).length ? c.labels : (baseConfig.config?.Labels ?? null),
      StopSignal: c.stopSignal === 'SIGTERM' ? baseConfig.config?.StopSignal : c.stopSignal,
    },
    rootfs: { type: 'layers', diff_ids: [...baseConfig.rootfs.diff_ids, layer.diffId] },
    history: [
      ...(baseConfig.history ?? []),
      { created, created_by: c.createdBy, ...(o.message ? { comment: o.message } : {}), ...(o.author ? { author: o.author } : {}) },
    ],
  };
  if (o.author) config.author = o.author;
  if (config.config && config.config.StopSignal === undefined) delete config.config.StopSignal;
  config.config = applyChanges(config.config ?? {}, o.changes);
  return addImage({ config, layerSizes: new Map([[layer.diffId, layer.size]]), tags: tag ? [tag] : [], parent: base.id });
}
