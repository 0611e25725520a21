/**
 * What an archive offered to `load` holds, read from its metadata and checked before any layer is
 * touched: docker's format (manifest.json; docker 25's archives, which also have an index.json,
 * are read this way too, as docker does) or an OCI image layout (index.json, blobs/sha256/).
 * Every digest the archive gives is checked for form before it becomes part of a path, and every
 * config and manifest against its digest; the layers are checked against their diffIDs as they
 * are stored.
 */
import { ArchiveError } from '../errors.js';
import { sha256 } from '../util/digest.js';
import { log } from '../util/log.js';
import type { ArchiveMember, ArchiveReader } from './archive-reader.js';
import { normalizeTag } from './add.js';
import { CONTAINERD_NAME, REF_NAME, isIndexType, isManifestType } from './media-types.js';
import { hostPlatform, formatPlatform, selectPlatform } from './platform.js';
import type { Descriptor, ImageConfig } from './types.js';

export interface PlannedLayer {
  diffId: string;
  member: ArchiveMember;
  /** The digest of the member's bytes as they are in the archive (OCI blobs, maybe compressed). */
  blobDigest?: string;
}

export interface PlannedImage {
  id: string;
  configBlob: Buffer;
  config: ImageConfig;
  /** Full names, as `tag` stores them. */
  tags: string[];
  layers: PlannedLayer[];
  manifest?: { digest: string; body: Buffer };
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const MAX_INDEX_DEPTH = 4;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

function digestOf(v: unknown, what: string, label: string): string {
  if (typeof v !== 'string' || !DIGEST.test(v)) throw new ArchiveError(`${label}: ${what} has an invalid or unsupported digest ${JSON.stringify(v)?.slice(0, 80)}`);
  return v;
}

function parseConfig(blob: Buffer, what: string, label: string): ImageConfig {
  let c: unknown;
  try {
    c = JSON.parse(blob.toString('utf8'));
  } catch {
    throw new ArchiveError(`${label}: ${what} is not valid JSON`);
  }
  if (!isObject(c) || typeof c.os !== 'string' || typeof c.architecture !== 'string') throw new ArchiveError(`${label}: ${what} is not an image config (no os or architecture)`);
  const rootfs = c.rootfs;
  if (!isObject(rootfs) || !Array.isArray(rootfs.diff_ids)) throw new ArchiveError(`${label}: ${what} has no rootfs.diff_ids`);
  rootfs.diff_ids.forEach((d, i) => digestOf(d, `layer ${i + 1} of ${what}`, label));
  return c as unknown as ImageConfig;
}

function tagOf(name: string, label: string): string {
  try {
    return normalizeTag(name);
  } catch (e) {
    throw new ArchiveError(`${label} names an image "${name}": ${(e as Error).message}`);
  }
}

/** Images that came under several names are one image with several tags. */
function merge(images: PlannedImage[]): PlannedImage[] {
  const byId = new Map<string, PlannedImage>();
  for (const img of images) {
    const seen = byId.get(img.id);
    if (!seen) byId.set(img.id, img);
    else for (const t of img.tags) if (!seen.tags.includes(t)) seen.tags.push(t);
  }
  return [...byId.values()];
}

/** docker's manifest.json: [{Config, RepoTags, Layers}], paths inside the archive. */
export function planDockerArchive(arc: ArchiveReader): PlannedImage[] {
  const label = arc.label;
  const doc = arc.json('manifest.json');
  if (!Array.isArray(doc) || doc.length === 0) throw new ArchiveError(`${label}: manifest.json lists no images`);
  return merge(
    doc.map((e: unknown, i): PlannedImage => {
      if (!isObject(e) || typeof e.Config !== 'string' || !isStringArray(e.Layers) || !(e.RepoTags == null || isStringArray(e.RepoTags))) {
        throw new ArchiveError(`${label}: entry ${i + 1} of manifest.json is malformed`);
      }
      const configBlob = arc.bytes(e.Config);
      const id = sha256(configBlob);
      // docker names configs by their digest (`<hex>.json`, or `blobs/sha256/<hex>` since 25): hold it to that.
      const named = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(e.Config);
      if (named && id !== `sha256:${named[1]}`) throw new ArchiveError(`${label}: config ${e.Config} failed verification: its digest is ${id}`);
      const config = parseConfig(configBlob, `config ${e.Config}`, label);
      const diffIds = config.rootfs.diff_ids;
      if (diffIds.length !== e.Layers.length) throw new ArchiveError(`${label}: image ${e.Config} has ${e.Layers.length} layers but its config lists ${diffIds.length}`);
      return {
        id,
        configBlob,
        config,
        tags: (e.RepoTags ?? []).map((t) => tagOf(t, label)),
        layers: e.Layers.map((path, j) => ({ diffId: diffIds[j]!, member: arc.member(path) })),
      };
    }),
  );
}

function blob(arc: ArchiveReader, desc: unknown, what: string): { digest: string; body: Buffer } {
  if (!isObject(desc)) throw new ArchiveError(`${arc.label}: ${what} is malformed`);
  const digest = digestOf(desc.digest, what, arc.label);
  const body = arc.bytes(`blobs/sha256/${digest.slice(7)}`);
  if (sha256(body) !== digest) throw new ArchiveError(`${arc.label}: ${what} ${digest} failed verification: its digest is ${sha256(body)}`);
  if (typeof desc.size === 'number' && desc.size !== body.length) throw new ArchiveError(`${arc.label}: ${what} ${digest} is ${body.length} bytes, not ${desc.size}`);
  return { digest, body };
}

function parseJson(b: Buffer, what: string, label: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(b.toString('utf8'));
    if (isObject(v)) return v;
  } catch {
    /* reported below */
  }
  throw new ArchiveError(`${label}: ${what} is not a JSON object`);
}

/**
 * The image name an index entry gives: docker's (containerd's) annotation, else the OCI ref.name
 * when it is a whole name, as podman writes it. A bare ref.name is only a tag, of no repository
 * the archive says: such an image loads untagged.
 */
function nameOf(desc: Record<string, unknown>, label: string): string | undefined {
  const a = isObject(desc.annotations) ? desc.annotations : {};
  const containerd = a[CONTAINERD_NAME];
  if (typeof containerd === 'string' && containerd) return tagOf(containerd, label);
  const ref = a[REF_NAME];
  if (typeof ref !== 'string' || !/[/:]/.test(ref)) return undefined;
  try {
    return normalizeTag(ref);
  } catch {
    log.warn(`${label}: ignoring the image name "${ref}", which is not a valid reference`);
    return undefined;
  }
}

function ociImage(arc: ArchiveReader, desc: Record<string, unknown>, tags: string[], depth: number): PlannedImage {
  const label = arc.label;
  const mediaType = typeof desc.mediaType === 'string' ? desc.mediaType : undefined;
  if (isIndexType(mediaType)) {
    if (depth >= MAX_INDEX_DEPTH) throw new ArchiveError(`${label}: image indexes nested too deep`);
    const index = parseJson(blob(arc, desc, 'image index').body, 'image index', label);
    const entries = Array.isArray(index.manifests) ? index.manifests.filter(isObject) : [];
    const want = hostPlatform();
    const chosen = selectPlatform(entries as unknown as Descriptor[], want) as unknown as Record<string, unknown> | undefined;
    if (!chosen) throw new ArchiveError(`${label}: an image index in it has no image for ${formatPlatform(want)}`);
    return ociImage(arc, chosen, tags, depth + 1);
  }
  if (!isManifestType(mediaType)) throw new ArchiveError(`${label}: unsupported manifest media type ${JSON.stringify(mediaType)}`);
  const manifest = blob(arc, desc, 'manifest');
  const m = parseJson(manifest.body, `manifest ${manifest.digest}`, label);
  if (!Array.isArray(m.layers)) throw new ArchiveError(`${label}: manifest ${manifest.digest} lists no layers`);
  const config = blob(arc, m.config, `config of manifest ${manifest.digest}`);
  const parsed = parseConfig(config.body, `config ${config.digest}`, label);
  const diffIds = parsed.rootfs.diff_ids;
  if (diffIds.length !== m.layers.length) throw new ArchiveError(`${label}: manifest ${manifest.digest} has ${m.layers.length} layers but its config lists ${diffIds.length}`);
  const layers = (m.layers as unknown[]).map((l, j): PlannedLayer => {
    const what = `layer ${j + 1} of manifest ${manifest.digest}`;
    const digest = digestOf(isObject(l) ? l.digest : undefined, what, label);
    const member = arc.member(`blobs/sha256/${digest.slice(7)}`);
    if (isObject(l) && typeof l.size === 'number' && l.size !== member.size) throw new ArchiveError(`${label}: ${what} is ${member.size} bytes, not ${l.size}`);
    return { diffId: diffIds[j]!, member, blobDigest: digest };
  });
  return { id: config.digest, configBlob: config.body, config: parsed, tags, layers, manifest };
}

/** An OCI image layout: index.json's entries, each an image (or an index to choose this platform's from). */
export function planOciArchive(arc: ArchiveReader): PlannedImage[] {
  const label = arc.label;
  if (arc.has('oci-layout')) {
    const layout = arc.json('oci-layout');
    if (!isObject(layout) || typeof layout.imageLayoutVersion !== 'string') throw new ArchiveError(`${label}: oci-layout is malformed`);
  }
  const index = arc.json('index.json');
  const entries = isObject(index) && Array.isArray(index.manifests) ? index.manifests : [];
  if (entries.length === 0) throw new ArchiveError(`${label}: index.json lists no images`);
  return merge(
    entries.map((desc: unknown) => {
      if (!isObject(desc)) throw new ArchiveError(`${label}: index.json is malformed`);
      const name = nameOf(desc, label);
      return ociImage(arc, desc, name ? [name] : [], 0);
    }),
  );
}
