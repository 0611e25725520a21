/**
 * `save`: images out of the store as one archive, in docker's format (docker-archive) or OCI's
 * (oci-archive). The docker-archive is the classic layout — manifest.json, repositories,
 * `<config hex>.json`, `<diffID hex>/layer.tar` — which every docker (before and after 25) and
 * podman loads; docker 25's OCI-style variant would add nothing they need. The oci-archive is an
 * OCI image layout: oci-layout, index.json (one entry per tag, named for podman and for docker),
 * blobs/sha256/. Either way layers are the exact uncompressed tars their diffIDs name, rebuilt
 * from the store, and a layer several images share is written once; configs are the stored bytes,
 * so every image keeps its ID.
 */
import { TsctrError } from '../errors.js';
import { hexOf } from '../paths.js';
import { sha256 } from '../util/digest.js';
import { writeOutput } from '../util/output.js';
import { memberOf, outerTar, type OuterMember } from './archive-tar.js';
import { layerTar, layerTarSize } from './layers.js';
import { CONTAINERD_NAME, OCI, REF_NAME } from './media-types.js';
import { formatReference, fullName, parseReference } from './reference.js';
import { getImage, loadImages, readBlob } from './store.js';
import type { ImageRecord, ImagesDoc } from './types.js';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

export function parseArchiveFormat(s: string | undefined): ArchiveFormat {
  if (s === undefined || s === 'docker-archive') return 'docker-archive';
  if (s === 'oci-archive') return 'oci-archive';
  throw new TsctrError(`unsupported archive format "${s}": use docker-archive or oci-archive`);
}

export interface SaveItem {
  image: ImageRecord;
  /** Full names (docker.io/library/busybox:latest) the archive gives the image. */
  tags: string[];
}

/**
 * docker's choice of what to save: `name:tag` is that tag, a bare `name` every tag of that
 * repository, an ID (or name@digest) the image with no tag. An image named twice is saved once,
 * with the tags of both.
 */
export function selectImages(doc: ImagesDoc, names: string[]): SaveItem[] {
  const items = new Map<string, SaveItem>();
  const add = (image: ImageRecord, tags: string[]) => {
    const item = items.get(image.id) ?? { image, tags: [] };
    for (const t of tags) if (!item.tags.includes(t)) item.tags.push(t);
    items.set(image.id, item);
  };
  for (const name of names) {
    let ref;
    try {
      ref = parseReference(name, { defaultTag: false });
    } catch {
      ref = undefined; // an ID prefix such as sha256:abc is no reference: getImage knows it
    }
    if (ref && !ref.tag && !ref.digest) {
      const repo = `${fullName(ref)}:`;
      const tagged = Object.values(doc.images).filter((i) => i.repoTags.some((t) => t.startsWith(repo)));
      if (tagged.length) {
        for (const i of tagged) add(i, i.repoTags.filter((t) => t.startsWith(repo)));
        continue;
      }
    }
    const image = getImage(doc, name);
    const tag = ref?.tag && !ref.digest ? formatReference(ref) : undefined;
    add(image, tag && image.repoTags.includes(tag) ? [tag] : []);
  }
  return [...items.values()];
}

/** Layer sizes, each read once from its tar record (which also proves the layer can be rebuilt). */
class Layers {
  private readonly sizes = new Map<string, number>();
  size(diffId: string): number {
    let s = this.sizes.get(diffId);
    if (s === undefined) this.sizes.set(diffId, (s = layerTarSize(diffId)));
    return s;
  }
  member(path: string, diffId: string): OuterMember {
    return { path, size: this.size(diffId), data: () => layerTar(diffId) };
  }
}

function dockerArchive(items: SaveItem[]): OuterMember[] {
  const layers = new Layers();
  const manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const configs: OuterMember[] = [];
  const layerMembers: OuterMember[] = [];
  const written = new Set<string>();
  for (const { image, tags } of items) {
    const configName = `${hexOf(image.id)}.json`;
    configs.push(memberOf(configName, readBlob(image.id)));
    for (const d of image.layers) {
      if (written.has(d)) continue;
      written.add(d);
      layerMembers.push({ path: hexOf(d), dir: true }, layers.member(`${hexOf(d)}/layer.tar`, d));
    }
    // Full names, where docker writes short ones (busybox:latest): docker reads both the same,
    // and podman takes a short name for one of its own (localhost/busybox).
    manifest.push({ Config: configName, RepoTags: tags.length ? tags : null, Layers: image.layers.map((d) => `${hexOf(d)}/layer.tar`) });
    // The legacy index: repository → tag → top layer's directory.
    const top = image.layers.at(-1);
    if (top) {
      for (const r of tags.map((t) => parseReference(t))) (repositories[fullName(r)] ??= {})[r.tag!] = hexOf(top);
    }
  }
  // Metadata first: a reader that streams the archive knows what it holds before the layers come.
  return [
    memberOf('manifest.json', JSON.stringify(manifest)),
    ...(Object.keys(repositories).length ? [memberOf('repositories', JSON.stringify(repositories))] : []),
    ...configs,
    ...layerMembers,
  ];
}

function ociArchive(items: SaveItem[]): OuterMember[] {
  const layers = new Layers();
  const blobs: OuterMember[] = [];
  const written = new Set<string>();
  const blob = (digest: string, make: () => OuterMember) => {
    if (written.has(digest)) return;
    written.add(digest);
    blobs.push(make());
  };
  const manifests: object[] = [];
  for (const { image, tags } of items) {
    const config = readBlob(image.id);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI.manifest,
        config: { mediaType: OCI.config, digest: image.id, size: config.length },
        layers: image.layers.map((d) => ({ mediaType: OCI.layer, digest: d, size: layers.size(d) })),
      }),
    );
    const manifestDigest = sha256(manifest);
    blob(image.id, () => memberOf(`blobs/sha256/${hexOf(image.id)}`, config));
    for (const d of image.layers) blob(d, () => layers.member(`blobs/sha256/${hexOf(d)}`, d));
    blob(manifestDigest, () => memberOf(`blobs/sha256/${hexOf(manifestDigest)}`, manifest));
    const { architecture, os, variant } = JSON.parse(config.toString('utf8')) as { architecture: string; os: string; variant?: string };
    const desc = { mediaType: OCI.manifest, digest: manifestDigest, size: manifest.length, platform: { architecture, os, ...(variant ? { variant } : {}) } };
    if (tags.length === 0) manifests.push(desc);
    for (const t of tags) manifests.push({ ...desc, annotations: { [CONTAINERD_NAME]: t, [REF_NAME]: t } });
  }
  return [
    memberOf(OCI.layout, JSON.stringify({ imageLayoutVersion: '1.0.0' })),
    memberOf('index.json', JSON.stringify({ schemaVersion: 2, mediaType: OCI.index, manifests })),
    { path: 'blobs', dir: true },
    { path: 'blobs/sha256', dir: true },
    ...blobs,
  ];
}

/**
 * The archive's bytes. Everything that can fail early — unknown images, layers without a tar
 * record — fails here, before the first byte is produced.
 */
export function saveArchive(items: SaveItem[], format: ArchiveFormat): AsyncIterable<Buffer> {
  return outerTar(format === 'oci-archive' ? ociArchive(items) : dockerArchive(items));
}

/** `save`: the named images to `output`, or to stdout. */
export async function saveImages(names: string[], format: ArchiveFormat, output?: string): Promise<void> {
  await writeOutput(output, saveArchive(selectImages(loadImages(), names), format));
}
