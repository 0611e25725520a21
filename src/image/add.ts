/**
 * Adding an image made here (commit, build, load, import) to the store: its config becomes a blob
 * (the image ID is its digest, as for pulled images), its layers must already be stored. A local
 * image has no manifest until it is pushed.
 */
import { NotFoundError, TsctrError } from '../errors.js';
import { formatReference, parseReference } from './reference.js';
import { layerPresent, setTag, updateImages, writeBlob } from './store.js';
import type { ImageConfig, ImageRecord } from './types.js';

export interface NewImage {
  config: ImageConfig;
  /**
   * The config's bytes as they came (load), when there are any: the image ID is their digest, and
   * serializing the parsed config again would give other bytes, so another ID.
   */
  configBlob?: Buffer;
  /** Uncompressed tar size of each layer (by diffID) not already in the store's index. */
  layerSizes: Map<string, number>;
  tags?: string[];
  parent?: string;
  intermediate?: boolean;
  /** The manifest it came with (load); kept so the image's digest stays the same. */
  manifestDigest?: string;
}

/** Full name of a tag given on the command line, as `tag` stores it (`app` → docker.io/library/app:latest). */
export function normalizeTag(tag: string): string {
  const ref = parseReference(tag);
  if (ref.digest) throw new TsctrError('refusing to create a tag with a digest reference');
  return formatReference(ref);
}

function serializeConfig(config: ImageConfig): Buffer {
  return Buffer.from(JSON.stringify(config));
}

export async function addImage(n: NewImage): Promise<ImageRecord> {
  const configBuf = n.configBlob ?? serializeConfig(n.config);
  const id = writeBlob(configBuf);
  const diffIds = n.config.rootfs.diff_ids;
  const tags = (n.tags ?? []).map(normalizeTag);
  return updateImages((doc) => {
    for (const d of diffIds) {
      if (!layerPresent(d)) throw new NotFoundError(`layer ${d} is not in the store`);
      doc.layers[d] ??= { diffId: d, size: n.layerSizes.get(d) ?? 0 };
    }
    let image = doc.images[id];
    if (!image) {
      image = {
        id,
        repoTags: [],
        repoDigests: [],
        manifestDigest: n.manifestDigest ?? '',
        layers: diffIds,
        size: diffIds.reduce((s, d) => s + (doc.layers[d]?.size ?? 0), 0),
        created: n.config.created ?? new Date().toISOString(),
        architecture: n.config.architecture,
        os: n.config.os,
        pulledAt: new Date().toISOString(),
      };
      if (n.parent) image.parent = n.parent;
      if (n.intermediate) image.intermediate = true;
      doc.images[id] = image;
    } else if (!n.intermediate) {
      delete image.intermediate;
    }
    for (const t of tags) setTag(doc, image, t);
    return image;
  });
}
