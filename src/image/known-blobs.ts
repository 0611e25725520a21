/**
 * What the store knows about where an image's blobs already are, so that push can skip or mount
 * them instead of compressing and sending them: every compressed form of a layer that a stored
 * manifest lists, and the repositories that manifest is known to be in (an image's repoDigests
 * name its manifests: pulled from there, or pushed there). The layer records add the pulled and
 * the self-compressed digests, which outlive the images that brought them.
 */
import { readBlob } from './store.js';
import type { ImageManifest, ImageRecord, ImagesDoc } from './types.js';

export interface KnownBlob {
  digest: string;
  size: number;
  mediaType: string;
  /** Full repository names (`docker.io/library/nginx`, `127.0.0.1:5000/team/app`) known to have it. */
  repos: string[];
}

export const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

function readJsonBlob<T>(digest: string): T | undefined {
  try {
    return JSON.parse(readBlob(digest).toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

interface StoredManifest {
  digest: string;
  manifest: ImageManifest;
  repos: string[];
}

/** The image's manifests that are in the store and match it (its config, its number of layers). */
export function storedManifests(image: ImageRecord): StoredManifest[] {
  const repos = new Map<string, string[]>();
  if (image.manifestDigest) repos.set(image.manifestDigest, []);
  for (const rd of image.repoDigests) {
    const at = rd.lastIndexOf('@');
    const name = rd.slice(0, at);
    let digest = rd.slice(at + 1);
    // A repo digest of a pulled multi-platform image names the index; this image is one entry of it.
    const top = readJsonBlob<{ manifests?: { digest: string }[] }>(digest);
    if (!top) continue;
    if (top.manifests) {
      if (!image.manifestDigest || !top.manifests.some((m) => m.digest === image.manifestDigest)) continue;
      digest = image.manifestDigest;
    }
    const list = repos.get(digest) ?? [];
    if (!list.includes(name)) list.push(name);
    repos.set(digest, list);
  }
  const out: StoredManifest[] = [];
  for (const [digest, names] of repos) {
    const manifest = readJsonBlob<ImageManifest>(digest);
    if (!manifest?.config || !Array.isArray(manifest.layers)) continue;
    if (manifest.config.digest !== image.id || manifest.layers.length !== image.layers.length) continue;
    out.push({ digest, manifest, repos: names });
  }
  return out;
}

export class BlobIndex {
  private layers = new Map<string, Map<string, KnownBlob>>();
  private configs = new Map<string, string[]>();

  /** Built from every image in the store; `first`'s own manifests come first in each list. */
  constructor(
    private readonly doc: ImagesDoc,
    first: ImageRecord,
  ) {
    const images = [first, ...Object.values(doc.images).filter((i) => i.id !== first.id)];
    for (const image of images) {
      for (const { manifest, repos } of storedManifests(image)) {
        this.addRepos(this.configs, image.id, repos);
        image.layers.forEach((diffId, i) => {
          const desc = manifest.layers[i]!;
          this.add(diffId, desc.digest, desc.size, desc.mediaType, repos);
        });
      }
    }
  }

  private addRepos(map: Map<string, string[]>, key: string, repos: string[]): void {
    const list = map.get(key) ?? [];
    for (const r of repos) if (!list.includes(r)) list.push(r);
    map.set(key, list);
  }

  private add(diffId: string, digest: string, size: number, mediaType: string, repos: string[]): void {
    const blobs = this.layers.get(diffId) ?? new Map<string, KnownBlob>();
    this.layers.set(diffId, blobs);
    const known = blobs.get(digest);
    if (!known) blobs.set(digest, { digest, size, mediaType, repos: [...repos] });
    else for (const r of repos) if (!known.repos.includes(r)) known.repos.push(r);
  }

  /**
   * The gzip blobs known to hold this layer, best first. Only gzip: push writes a docker schema2
   * manifest, which has no zstd, and an uncompressed tar would cost more to send than to compress.
   */
  layerBlobs(diffId: string): KnownBlob[] {
    const blobs = new Map(this.layers.get(diffId) ?? []);
    const rec = this.doc.layers[diffId];
    if (rec?.compressedDigest && rec.compressedSize !== undefined && !blobs.has(rec.compressedDigest)) {
      blobs.set(rec.compressedDigest, { digest: rec.compressedDigest, size: rec.compressedSize, mediaType: rec.compressedMediaType ?? '', repos: [] });
    }
    if (rec?.gzipDigest && rec.gzipSize !== undefined && !blobs.has(rec.gzipDigest)) {
      blobs.set(rec.gzipDigest, { digest: rec.gzipDigest, size: rec.gzipSize, mediaType: DOCKER_LAYER_GZIP, repos: [] });
    }
    return [...blobs.values()].filter((b) => /gzip$/.test(b.mediaType));
  }

  /** Repositories known to have this image's config blob. */
  configRepos(imageId: string): string[] {
    return this.configs.get(imageId) ?? [];
  }
}
