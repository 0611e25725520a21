/**
 * Pulling an image: resolve the name through registries.conf (mirrors first), fetch the manifest
 * (choosing this platform from an index), then stream each missing layer — download, sha256 of the
 * compressed bytes, decompression, sha256 of the tar (the diffID) and extraction — in one pass, up
 * to three layers at a time. Nothing unverified is kept: a layer is extracted into tmp/ and renamed
 * into place only after both digests match.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { Transform, pipeline } from 'node:stream';
import { LayerError, NotFoundError, RegistryError, TsctrError } from '../errors.js';
import { storePaths } from '../paths.js';
import { RegistryClient, MEDIA, type FetchedManifest } from '../registry/client.js';
import { lookupCredentials } from '../registry/credentials.js';
import { loadRegistriesConf, endpointsFor, type RegistriesConf } from '../registry/registries-conf.js';
import { extractLayer, type RootMeta } from '../overlay/extract.js';
import { TarSplitRecorder } from '../overlay/tar-split.js';
import { storeExtractedLayer } from './layers.js';
import { removeTreesAsNamespaceRoot } from '../rootless/userns.js';
import { Progress } from '../util/progress.js';
import { tmpName } from '../util/fsutil.js';
import { runPool } from '../util/pool.js';
import { sha256 } from '../util/digest.js';
import { log } from '../util/log.js';
import { parseReference, isFullyQualified, withDomain, formatReference, fullName, familiarString, type ImageReference } from './reference.js';
import { hostPlatform, selectPlatform, formatPlatform, type Platform } from './platform.js';
import { initStore, layerPresent, updateImages, writeBlob, setTag } from './store.js';
import { collectGarbage } from './gc.js';
import { appendEvent } from '../store/events.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, ImageRecord, LayerRecord } from './types.js';

export interface PullOptions {
  platform?: Platform;
  quiet?: boolean;
  out?: NodeJS.WritableStream & { isTTY?: boolean };
}

const PARALLEL_LAYERS = 3;

type LayerInfo = Required<Pick<LayerRecord, 'size' | 'compressedDigest' | 'compressedSize' | 'compressedMediaType'>>;

export async function pullImage(input: string, opts: PullOptions = {}): Promise<ImageRecord> {
  const ref = parseReference(input);
  const platform = opts.platform ?? hostPlatform();
  const progress = new Progress(opts.out ?? process.stdout, opts.quiet);
  initStore();
  collectGarbage();
  const conf = loadRegistriesConf();
  const candidates = candidateReferences(input, ref, conf);

  let lastError: Error | undefined;
  for (const candidate of candidates) {
    try {
      const image = await pullFrom(candidate, conf, platform, progress);
      // docker's: `image pull busybox:latest (name=busybox)`
      const familiar = familiarString(candidate);
      appendEvent('image', 'pull', familiar, { name: familiar.replace(/[:@][^/]*$/, '') });
      return image;
    } catch (e) {
      lastError = e as Error;
      if (candidates.length === 1 || !(e instanceof NotFoundError)) throw e;
    }
  }
  throw lastError ?? new NotFoundError(`no registry has ${input}`);
}

/** An unqualified name is tried on each unqualified-search registry in turn (podman); else docker.io (docker). */
function candidateReferences(input: string, ref: ImageReference, conf: RegistriesConf): ImageReference[] {
  if (isFullyQualified(input) || conf.unqualifiedSearch.length === 0) return [ref];
  return conf.unqualifiedSearch.map((domain) => withDomain(ref, domain));
}

interface Source {
  client: RegistryClient;
  manifest: FetchedManifest;
}

async function resolveSource(ref: ImageReference, conf: RegistriesConf): Promise<Source> {
  const wanted = ref.digest ?? ref.tag ?? 'latest';
  const notFound = `manifest for ${familiarString(ref)} not found: manifest unknown`;
  const mirrorErrors: string[] = [];
  const mirrorMisses: string[] = [];
  for (const ep of endpointsFor(conf, ref.domain, ref.path)) {
    const client = new RegistryClient({
      registry: ep.registry,
      repository: ep.repository,
      insecure: ep.insecure,
      credentials: lookupCredentials(ep.registry),
    });
    try {
      const manifest = await client.getManifest(wanted);
      if (manifest) return { client, manifest };
      if (!ep.mirror) break;
      mirrorMisses.push(ep.registry);
    } catch (e) {
      // A broken mirror is skipped, as docker and podman do; its error is still worth showing.
      if (ep.mirror) {
        mirrorErrors.push((e as Error).message);
        continue;
      }
      if (mirrorMisses.length) throw new NotFoundError(`${notFound} (not on mirror ${mirrorMisses.join(', ')}; ${(e as Error).message})`);
      if (mirrorErrors.length) throw new RegistryError(`${(e as Error).message} (mirrors also failed: ${mirrorErrors.join('; ')})`);
      throw e;
    }
  }
  throw new NotFoundError(notFound);
}

async function pullFrom(ref: ImageReference, conf: RegistriesConf, platform: Platform, progress: Progress): Promise<ImageRecord> {
  const { client, manifest: top } = await resolveSource(ref, conf);
  if (ref.digest && top.digest !== ref.digest) {
    throw new RegistryError(`manifest digest mismatch for ${formatReference(ref)}: registry sent ${top.digest}`);
  }
  const tagLabel = ref.tag ?? ref.digest!;
  progress.message(`${tagLabel}: Pulling from ${ref.path}`);

  const { manifest, manifestBlob } = await resolvePlatform(client, top, platform, ref);
  const configBuf = await readSmallBlob(client, manifest.config);
  const config = JSON.parse(configBuf.toString('utf8')) as ImageConfig;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new RegistryError(`image ${formatReference(ref)} is invalid: ${manifest.layers.length} layers but ${diffIds.length} diff_ids`);
  }

  const layerInfo = new Map<string, LayerInfo>();
  let downloaded = 0;
  for (let attempt = 0; ; attempt++) {
    const jobs = manifest.layers.map((desc, i) => ({ desc, diffId: diffIds[i]! }));
    await runPool(jobs, PARALLEL_LAYERS, async ({ desc, diffId }) => {
      const short = desc.digest.slice(7, 19);
      if (layerPresent(diffId)) {
        progress.set(short, 'Already exists');
        return;
      }
      const size = await fetchLayer(client, desc, diffId, (status, cur, total) => progress.set(short, status, cur, total));
      layerInfo.set(diffId, { size, compressedDigest: desc.digest, compressedSize: desc.size, compressedMediaType: desc.mediaType });
      downloaded++;
      progress.set(short, 'Pull complete');
    });
    progress.flush();
    const committed = await commit(ref, top, manifestBlob, configBuf, config, diffIds, layerInfo);
    if (committed) {
      progress.message(`Digest: ${top.digest}`);
      progress.message(
        downloaded > 0 || committed.isNewTag
          ? `Status: Downloaded newer image for ${familiarString(ref)}`
          : `Status: Image is up to date for ${familiarString(ref)}`,
      );
      return committed.image;
    }
    // A concurrent rmi removed a layer we counted on between our check and our commit: fetch again.
    if (attempt >= 2) throw new TsctrError(`layers of ${formatReference(ref)} keep disappearing (concurrent rmi?); try again`);
  }
}

async function resolvePlatform(
  client: RegistryClient,
  top: FetchedManifest,
  platform: Platform,
  ref: ImageReference,
): Promise<{ manifest: ImageManifest; manifestBlob: FetchedManifest }> {
  if (top.mediaType === MEDIA.dockerSchema1 || top.mediaType === MEDIA.dockerSchema1Signed) {
    throw new RegistryError(
      `${formatReference(ref)} uses the deprecated Docker Image Format v1 (schema 1), which tsctr does not support; ask the publisher to push it again with a current client`,
    );
  }
  if (top.mediaType === MEDIA.ociIndex || top.mediaType === MEDIA.dockerList) {
    const index = JSON.parse(top.body.toString('utf8')) as ImageIndex;
    const entry = selectPlatform(index.manifests, platform);
    if (!entry) {
      const have = index.manifests.filter((m) => m.platform && m.platform.os !== 'unknown').map((m) => formatPlatform(m.platform!));
      throw new NotFoundError(
        `no image found in image index for architecture ${platform.architecture}, variant "${platform.variant ?? ''}", OS ${platform.os} (${formatReference(ref)} has: ${have.join(', ') || 'none'})`,
      );
    }
    const m = await client.getManifest(entry.digest);
    if (!m) throw new RegistryError(`manifest ${entry.digest} listed in the index of ${formatReference(ref)} is missing`);
    if (m.digest !== entry.digest) throw new RegistryError(`manifest digest mismatch: expected ${entry.digest}, got ${m.digest}`);
    return { manifest: JSON.parse(m.body.toString('utf8')) as ImageManifest, manifestBlob: m };
  }
  if (top.mediaType === MEDIA.ociManifest || top.mediaType === MEDIA.dockerManifest) {
    return { manifest: JSON.parse(top.body.toString('utf8')) as ImageManifest, manifestBlob: top };
  }
  throw new RegistryError(`unsupported manifest media type "${top.mediaType}" for ${formatReference(ref)}`);
}

async function readSmallBlob(client: RegistryClient, desc: Descriptor): Promise<Buffer> {
  const body = await client.getBlob(desc.digest);
  const buf = Buffer.from(await body.arrayBuffer());
  if (sha256(buf) !== desc.digest) throw new LayerError(`blob ${desc.digest} failed verification: digest mismatch`);
  return buf;
}

/**
 * Room between the stages: decompression (on libuv's threads) keeps going while extraction waits
 * in the kernel creating files, instead of both taking turns; bigger chunks mean fewer stream hops.
 */
const STAGE_BUFFER = { highWaterMark: 8 << 20, chunkSize: 256 << 10 };

function decompressorFor(mediaType: string): Transform | undefined {
  if (/gzip$/.test(mediaType)) return zlib.createGunzip(STAGE_BUFFER);
  if (/zstd$/.test(mediaType)) return zlib.createZstdDecompress(STAGE_BUFFER);
  if (/tar$/.test(mediaType)) return undefined;
  throw new LayerError(`unsupported layer media type "${mediaType}"`);
}

function hashTap(hash: crypto.Hash, onBytes?: (n: number) => void): Transform {
  return new Transform({
    highWaterMark: STAGE_BUFFER.highWaterMark,
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      onBytes?.(chunk.length);
      cb(null, chunk);
    },
  });
}

type Report = (status: string, current?: number, total?: number) => void;

/** Streams one layer into the store; returns its uncompressed content size. */
async function fetchLayer(client: RegistryClient, desc: Descriptor, diffId: string, report: Report): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const dir = tmpName(storePaths.tmp(), 'layer');
    fs.mkdirSync(dir, { mode: 0o755 });
    try {
      report('Pulling fs layer');
      const { size, recorder, root } = await streamLayer(client, desc, diffId, dir, report);
      storeExtractedLayer(dir, diffId, recorder, root);
      return size;
    } catch (e) {
      removeTreesAsNamespaceRoot([dir]);
      const transient = e instanceof RegistryError || (e as { code?: string }).code?.startsWith('UND_ERR') || (e as { code?: string }).code === 'ECONNRESET';
      if (!transient || attempt >= 3) throw e;
      log.warn(`retrying layer ${desc.digest.slice(7, 19)}: ${(e as Error).message}`);
    }
  }
}

async function streamLayer(
  client: RegistryClient,
  desc: Descriptor,
  diffId: string,
  dir: string,
  report: Report,
): Promise<{ size: number; recorder?: TarSplitRecorder; root?: RootMeta }> {
  const decompress = decompressorFor(desc.mediaType);
  const body = await client.getBlob(desc.digest);
  const compHash = crypto.createHash('sha256');
  const diffHash = crypto.createHash('sha256');
  let received = 0;
  let uncompressed = 0;
  let lastReport = 0;
  const download = hashTap(compHash, (n) => {
    received += n;
    const now = Date.now();
    if (now - lastReport > 100) {
      lastReport = now;
      report('Downloading', received, desc.size);
    }
  });
  const diffTap = hashTap(diffHash, (n) => (uncompressed += n));
  const stages = decompress ? [body, download, decompress, diffTap] : [body, download, diffTap];
  const done = new Promise<void>((resolve, reject) =>
    pipeline(stages as unknown as [NodeJS.ReadableStream, ...NodeJS.ReadWriteStream[]], (err) => (err ? reject(err) : resolve())),
  );
  done.catch(() => undefined); // observed below; avoid an unhandled rejection if extraction fails first
  const warn = (msg: string) => log.warn(`layer ${desc.digest.slice(7, 19)}: ${msg}`);
  const recorder = new TarSplitRecorder();
  let reproducible = true;
  let root: RootMeta | undefined;
  try {
    // The extractor may stop at the tar's end marker, but the digests cover every byte: so the
    // iterator must not destroy the stream on return, and the rest is drained below.
    const stats = await extractLayer(diffTap.iterator({ destroyOnReturn: false }), dir, { chown: true, rootLater: true, onWarning: warn }, recorder);
    if (!stats.reproducible) reproducible = false;
    root = stats.root;
  } catch (e) {
    body.destroy();
    throw e;
  }
  diffTap.resume();
  await done;
  const gotComp = `sha256:${compHash.digest('hex')}`;
  const gotDiff = `sha256:${diffHash.digest('hex')}`;
  if (received !== desc.size || gotComp !== desc.digest) {
    throw new LayerError(`layer ${desc.digest} failed verification: got ${received} bytes with digest ${gotComp}; nothing was stored`);
  }
  if (gotDiff !== diffId) {
    throw new LayerError(`layer ${desc.digest} failed verification: uncompressed digest ${gotDiff} does not match the image's diff_id ${diffId}; nothing was stored`);
  }
  return { size: uncompressed, recorder: reproducible ? recorder : undefined, root };
}

async function commit(
  ref: ImageReference,
  top: FetchedManifest,
  manifestBlob: FetchedManifest,
  configBuf: Buffer,
  config: ImageConfig,
  diffIds: string[],
  layerInfo: Map<string, LayerInfo>,
): Promise<{ image: ImageRecord; isNewTag: boolean } | undefined> {
  writeBlob(top.body, top.digest);
  if (manifestBlob !== top) writeBlob(manifestBlob.body, manifestBlob.digest);
  const id = writeBlob(configBuf);
  return updateImages((doc) => {
    if (!diffIds.every(layerPresent)) return undefined;
    for (const diffId of diffIds) {
      const info = layerInfo.get(diffId);
      if (info) doc.layers[diffId] = { diffId, ...info };
      else doc.layers[diffId] ??= { diffId, size: 0 };
    }
    const tag = ref.tag ? formatReference({ ...ref, digest: undefined }) : undefined;
    const repoDigest = `${fullName(ref)}@${top.digest}`;
    let image = doc.images[id];
    const isNewTag = !image || (tag !== undefined && !image.repoTags.includes(tag));
    image ??= {
      id,
      repoTags: [],
      repoDigests: [],
      manifestDigest: manifestBlob.digest,
      layers: diffIds,
      size: 0,
      created: config.created ?? new Date(0).toISOString(),
      architecture: config.architecture,
      os: config.os,
      pulledAt: new Date().toISOString(),
    };
    doc.images[id] = image;
    image.size = diffIds.reduce((n, d) => n + (doc.layers[d]?.size ?? 0), 0);
    if (!image.repoDigests.includes(repoDigest)) image.repoDigests.push(repoDigest);
    if (tag) setTag(doc, image, tag);
    return { image, isNewTag };
  });
}
