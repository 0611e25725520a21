/**
 * `commit`: a container's writable layer becomes a new layer on top of its image, and the
 * container's configuration (command, environment, working directory...) the new image's, with
 * `--change` instructions applied last. Runs as root in the user namespace (the writable layer
 * holds files of the container's ids).
 */
import { applyChanges } from '../builder/config-change.js';
import { getContainer, loadContainers } from '../container/store.js';
import { containerPaths } from '../paths.js';
import { addImage } from './add.js';
import { layerFromUpper } from './layers.js';
import { getImage, loadImages, readImageConfig } from './store.js';
import type { ImageConfig, ImageRecord } from './types.js';

export interface CommitOptions {
  message?: string;
  author?: string;
  changes: string[];
}

export async function commitContainer(query: string, tag: string | undefined, o: CommitOptions): Promise<ImageRecord> {
  const c = getContainer(loadContainers(), query);
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
      User: c.config.user,
      Env: c.config.env,
      Cmd: c.config.cmd,
      Entrypoint: c.config.entrypoint,
      WorkingDir: c.config.workingDir === '/' ? baseConfig.config?.WorkingDir : c.config.workingDir,
      Labels: Object.keys(c.config.labels).length ? c.config.labels : (baseConfig.config?.Labels ?? null),
      StopSignal: c.config.stopSignal === 'SIGTERM' ? baseConfig.config?.StopSignal : c.config.stopSignal,
    },
    rootfs: { type: 'layers', diff_ids: [...baseConfig.rootfs.diff_ids, layer.diffId] },
    history: [
      ...(baseConfig.history ?? []),
      { created, created_by: [c.path, ...c.args].join(' '), ...(o.message ? { comment: o.message } : {}), ...(o.author ? { author: o.author } : {}) },
    ],
  };
  if (o.author) config.author = o.author;
  if (config.config && config.config.StopSignal === undefined) delete config.config.StopSignal;
  config.config = applyChanges(config.config ?? {}, o.changes);
  return addImage({ config, layerSizes: new Map([[layer.diffId, layer.size]]), tags: tag ? [tag] : [], parent: base.id });
}
