/**
 * Pushing an image (docker push): each layer and the config go to the destination repository
 * unless it has them already (HEAD) or the registry can link them from another of its
 * repositories that the store knows has them (a cross-repository mount); otherwise the layer is
 * compressed here and uploaded. Up to three layers at a time; the manifest last, because a
 * registry refuses one that lists blobs it does not have. Runs as root in the user namespace
 * (layer files belong to subordinate uids).
 */
import fs from 'node:fs';
import { TsctrError } from '../errors.js';
import { hexOf } from '../paths.js';
import { RegistryClient, MEDIA } from '../registry/client.js';
import { lookupCredentials } from '../registry/credentials.js';
import { endpointsFor, loadRegistriesConf, type Endpoint, type RegistriesConf } from '../registry/registries-conf.js';
import { blobExists, mountBlob, putManifest, uploadBlob } from '../registry/upload.js';
import { Progress } from '../util/progress.js';
import { runPool } from '../util/pool.js';
import { log } from '../util/log.js';
import { BlobIndex, DOCKER_LAYER_GZIP, storedManifests, type KnownBlob } from './known-blobs.js';
import { gzipLayer, type GzipBlob } from './gzip-layer.js';
import { collectGarbage } from './gc.js';
import { formatReference, fullName, parseReference, type ImageReference } from './reference.js';
import { getImage, initStore, loadImages, readBlob, updateImages, writeBlob } from './store.js';
import type { ImageManifest, ImageRecord } from './types.js';

export interface PushOptions {
  quiet?: boolean;
  out?: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface PushResult {
  reference: string;
  digest: string;
  size: number;
}

const PARALLEL_LAYERS = 3;
/** Mounts tried per blob: each failed one costs a round trip (and cancelling the session it opened). */
const MOUNT_ATTEMPTS = 3;
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';

/**
 * Where IMAGE goes: DEST if given, else IMAGE itself, which must then be one of the image's names
 * (an ID or a digest says which image, not where to push it).
 */
export function destinationOf(image: ImageRecord, source: string, destination?: string): ImageReference {
  if (destination !== undefined) {
    const ref = parseReference(destination);
    if (ref.digest) throw new TsctrError(`cannot push to a digest reference (${destination}): give a tag`);
    return ref;
  }
  let ref: ImageReference | undefined;
  try {
    ref = parseReference(source);
  } catch {
    ref = undefined;
  }
  if (!ref || ref.digest || !image.repoTags.includes(formatReference(ref))) {
    throw new TsctrError(`${source} does not name a tag of the image: say where to push it (tsctr push ${source} REGISTRY/NAME[:TAG])`);
  }
  return ref;
}

interface MountSource {
  digest: string;
  /** Repository path on the destination registry. */
  from: string;
}

/** Where each known copy of a blob is, on the destination's registry (mirrors count: a docker.io image pulled through one is there). */
function mountSources(blobs: { digest: string; repos: string[] }[], dest: Endpoint, conf: RegistriesConf): MountSource[] {
  const out: MountSource[] = [];
  for (const blob of blobs) {
    for (const name of blob.repos) {
      let endpoints: Endpoint[];
      try {
        const ref = parseReference(name, { defaultTag: false });
        endpoints = endpointsFor(conf, ref.domain, ref.path);
      } catch {
        continue;
      }
      for (const ep of endpoints) {
        if (ep.registry !== dest.registry || ep.repository === dest.repository) continue;
        if (!out.some((m) => m.digest === blob.digest && m.from === ep.repository)) out.push({ digest: blob.digest, from: ep.repository });
      }
    }
  }
  return out;
}

async function tryMount(client: RegistryClient, sources: MountSource[]): Promise<MountSource | undefined> {
  for (const source of sources.slice(0, MOUNT_ATTEMPTS)) {
    try {
      if (await mountBlob(client, source.digest, source.from)) return source;
    } catch (e) {
      // Not fatal: the upload that follows says clearly whether we may push at all.
      log.debug(`mount of ${source.digest} from ${source.from} failed: ${(e as Error).message}`);
    }
  }
  return undefined;
}

interface LayerJob {
  diffId: string;
  known: KnownBlob[];
  mounts: MountSource[];
}

interface Placed {
  digest: string;
  size: number;
}

class Pusher {
  /** Layers compressed by this push, to be remembered in their records. */
  readonly compressed = new Map<string, GzipBlob>();

  constructor(
    private readonly client: RegistryClient,
    private readonly progress: Progress,
  ) {}

  async layer(job: LayerJob): Promise<Placed> {
    const id = hexOf(job.diffId).slice(0, 12);
    for (const blob of job.known) {
      if (await blobExists(this.client, blob.digest)) {
        this.progress.set(id, 'Layer already exists');
        return blob;
      }
    }
    const mounted = await tryMount(this.client, job.mounts);
    if (mounted) {
      this.progress.set(id, `Mounted from ${mounted.from}`);
      return job.known.find((b) => b.digest === mounted.digest)!;
    }
    // Neither there nor linkable: compress it here (the known blobs' bytes are elsewhere, if anywhere).
    const gz = await gzipLayer(job.diffId);
    try {
      this.compressed.set(job.diffId, { ...gz });
      const checked = job.known.some((b) => b.digest === gz.digest);
      if (!checked && (await blobExists(this.client, gz.digest))) {
        this.progress.set(id, 'Layer already exists');
      } else {
        this.progress.set(id, 'Pushing', 0, gz.size);
        await uploadBlob(this.client, gz.digest, { file: gz.file, size: gz.size }, (n) => this.progress.set(id, 'Pushing', n, gz.size));
        this.progress.set(id, 'Pushed');
      }
      return { digest: gz.digest, size: gz.size };
    } finally {
      fs.rmSync(gz.file, { force: true });
    }
  }

  async config(digest: string, config: Buffer, mounts: MountSource[]): Promise<void> {
    if (await blobExists(this.client, digest)) return;
    if (await tryMount(this.client, mounts)) return;
    await uploadBlob(this.client, digest, { buffer: config });
  }
}

/**
 * The manifest to put: one the store already has for exactly these blobs (the pulled one, or an
 * earlier push's), byte for byte, so the image keeps its digest; else a new docker schema2 one.
 */
function manifestFor(image: ImageRecord, config: Buffer, layers: Placed[]): { body: Buffer; mediaType: string } {
  for (const stored of storedManifests(image)) {
    if (stored.manifest.layers.every((l, i) => l.digest === layers[i]!.digest)) {
      const m = stored.manifest;
      const mediaType = m.mediaType ?? (m.config.mediaType === DOCKER_CONFIG ? MEDIA.dockerManifest : MEDIA.ociManifest);
      return { body: readBlob(stored.digest), mediaType };
    }
  }
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA.dockerManifest,
    config: { mediaType: DOCKER_CONFIG, size: config.length, digest: image.id },
    layers: layers.map((l) => ({ mediaType: DOCKER_LAYER_GZIP, size: l.size, digest: l.digest })),
  };
  return { body: Buffer.from(JSON.stringify(manifest)), mediaType: MEDIA.dockerManifest };
}

/** Self-compressed digests go into the layer records, so the next push can HEAD them without compressing again. */
async function rememberCompressed(compressed: Map<string, GzipBlob>): Promise<void> {
  if (compressed.size === 0) return;
  await updateImages((doc) => {
    for (const [diffId, gz] of compressed) {
      const rec = doc.layers[diffId];
      if (!rec) continue;
      if (!rec.compressedDigest) {
        rec.compressedDigest = gz.digest;
        rec.compressedSize = gz.size;
        rec.compressedMediaType = DOCKER_LAYER_GZIP;
      } else if (rec.compressedDigest !== gz.digest) {
        rec.gzipDigest = gz.digest;
        rec.gzipSize = gz.size;
      }
    }
  });
}

export async function pushImage(source: string, destination: string | undefined, opts: PushOptions = {}): Promise<PushResult> {
  initStore();
  collectGarbage();
  const doc = loadImages();
  const image = getImage(doc, source);
  const dest = destinationOf(image, source, destination);
  const conf = loadRegistriesConf();
  // Pushes go to the registry itself (after any location rewrite), never to a mirror.
  const endpoint = endpointsFor(conf, dest.domain, dest.path).at(-1)!;
  const index = new BlobIndex(doc, image);

  const jobs: LayerJob[] = [...new Set(image.layers)].map((diffId) => {
    const known = index.layerBlobs(diffId);
    return { diffId, known, mounts: mountSources(known, endpoint, conf) };
  });
  const configMounts = mountSources([{ digest: image.id, repos: index.configRepos(image.id) }], endpoint, conf);
  // The token must also allow pulling from each repository a blob may be mounted from.
  const sourceRepos = [...new Set([...jobs.flatMap((j) => j.mounts), ...configMounts].map((m) => m.from))];
  const client = new RegistryClient({
    registry: endpoint.registry,
    repository: endpoint.repository,
    insecure: endpoint.insecure,
    credentials: lookupCredentials(endpoint.registry),
    actions: 'pull,push',
    scopes: sourceRepos.slice(0, 10).map((r) => `repository:${r}:pull`),
  });

  const progress = new Progress(opts.out ?? process.stdout, opts.quiet);
  progress.message(`The push refers to repository [${fullName(dest)}]`);
  // docker lists the top layer first.
  for (const job of [...jobs].reverse()) progress.set(hexOf(job.diffId).slice(0, 12), 'Preparing');
  const pusher = new Pusher(client, progress);
  const placed = new Map<string, Placed>();
  const config = readBlob(image.id);
  try {
    await runPool(jobs, PARALLEL_LAYERS, async (job) => {
      placed.set(job.diffId, await pusher.layer(job));
    });
    await pusher.config(image.id, config, configMounts);
  } finally {
    progress.flush();
    // Even after a failure: what was compressed is a fact about the layers, and saves the retry work.
    await rememberCompressed(pusher.compressed).catch((e: Error) => log.warn(`could not record compressed layer digests: ${e.message}`));
  }

  const { body, mediaType } = manifestFor(
    image,
    config,
    image.layers.map((d) => placed.get(d)!),
  );
  const digest = await putManifest(client, dest.tag!, mediaType, body);
  writeBlob(body, digest);
  const repoDigest = `${fullName(dest)}@${digest}`;
  await updateImages((d) => {
    const img = d.images[image.id];
    if (img && !img.repoDigests.includes(repoDigest)) img.repoDigests.push(repoDigest);
  });
  progress.message(`${dest.tag}: digest: ${digest} size: ${body.length}`);
  return { reference: formatReference(dest), digest, size: body.length };
}
