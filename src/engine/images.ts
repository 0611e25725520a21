/**
 * Image use cases: pull, push, tag, remove, list, history, inspect, save, load, import, commit,
 * build, prune. Typed values in, typed results out; progress goes to the stream or callback given.
 *
 * The `check*` functions validate what a user can get wrong without touching the store or the
 * network: commands call them before anything else (before entering the user namespace, too), so
 * that bad input costs nothing and leaves nothing behind.
 *
 * Libraries are imported inside each use case, for the reason given in containers.ts.
 */
import type { BuildOptions as BuilderOptions } from '../builder/builder.js';
import type { ArchiveFormat } from '../image/archive-save.js';
import type { HistoryRow } from '../image/inspect.js';
import type { ImageRow, ListOptions } from '../image/list.js';
import type { Platform } from '../image/platform.js';
import type { PushResult } from '../image/push.js';
import type { ImageReference } from '../image/reference.js';
import type { RemoveReport } from '../image/remove.js';
import type { ImageRecord } from '../image/types.js';
import { remote } from './remote.js';

export type { ArchiveFormat, HistoryRow, ImageRecord, ImageReference, ImageRow, ListOptions, Platform, PushResult, RemoveReport };

/** A stream that progress bars are drawn on (when it is a terminal). */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean };

/** The reference as the store writes it (`docker.io/library/nginx:latest`); throws on a malformed one. */
export async function checkReference(ref: string): Promise<string> {
  const { formatReference, parseReference } = await import('../image/reference.js');
  return formatReference(parseReference(ref));
}

/** A tag to give an image (no digest), normalised; throws on a bad one. */
export async function checkTag(tag: string): Promise<string> {
  return (await import('../image/add.js')).normalizeTag(tag);
}

export async function checkPlatform(platform: string): Promise<Platform> {
  return (await import('../image/platform.js')).parsePlatform(platform);
}

/** Dockerfile instructions for commit/import --change; throws on one that is not allowed there. */
export async function checkChanges(changes: string[]): Promise<void> {
  if (changes.length) (await import('../image/dockerfile/config-change.js')).applyChanges({}, changes);
}

export async function checkArchiveFormat(format: string | undefined): Promise<ArchiveFormat> {
  return (await import('../image/archive-save.js')).parseArchiveFormat(format);
}

export interface PullOptions {
  platform?: Platform;
  quiet: boolean;
  out: ProgressStream;
}

/** Pulls an image (the host's platform unless given); the reference pulled, in full. */
export async function pullImage(ref: string, o: PullOptions): Promise<string> {
  const r = await remote();
  if (r) {
    const p = o.platform;
    return r.pullImage(ref, { quiet: o.quiet, out: o.out, ...(p ? { platform: [p.os, p.architecture, p.variant].filter(Boolean).join('/') } : {}) });
  }
  const { pullImage: pull } = await import('../image/pull.js');
  await pull(ref, { platform: o.platform, quiet: o.quiet, out: o.out });
  return checkReference(ref);
}

export interface PushOptions {
  quiet: boolean;
  out: ProgressStream;
}

/** Pushes an image to its own name's registry, or to `destination`. */
export async function pushImage(image: string, destination: string | undefined, o: PushOptions): Promise<PushResult> {
  if (destination !== undefined) await checkReference(destination);
  return (await import('../image/push.js')).pushImage(image, destination, o);
}

/** Gives the image `source` names the tag `target` too. */
export async function tagImage(source: string, target: string): Promise<void> {
  const { parseReference, formatReference } = await import('../image/reference.js');
  const { getImage, setTag, updateImages } = await import('../image/store.js');
  const ref = parseReference(target);
  if (ref.digest) throw new (await import('../errors.js')).TsctrError(`refusing to create a tag with a digest reference`);
  const id = await updateImages((doc) => {
    const image = getImage(doc, source);
    setTag(doc, image, formatReference(ref));
    return image.id;
  });
  const { appendEvent } = await import('../store/events.js');
  appendEvent('image', 'tag', id, { name: (await import('../image/reference.js')).familiarString(ref) });
}

/** Untags the name given (or every tag, by id) and deletes the image once nothing names it. */
export async function removeImage(name: string, force: boolean): Promise<RemoveReport> {
  const r = await remote();
  if (r) return r.removeImage(name, force);
  return (await import('../image/remove.js')).removeImage(name, force);
}

/** Removes dangling images (every image no container uses, with `all`). */
export async function pruneImages(all: boolean): Promise<RemoveReport> {
  return (await import('../image/remove.js')).pruneImages(all);
}

/** The rows of `images`: one per tag (or digest). */
export async function listImages(o: ListOptions): Promise<ImageRow[]> {
  const r = await remote();
  if (r) return r.listImages(o);
  return (await import('../image/list.js')).listImages(o);
}

export async function imageHistory(name: string, noTrunc: boolean): Promise<HistoryRow[]> {
  const { getImage, loadImages } = await import('../image/store.js');
  return (await import('../image/inspect.js')).imageHistory(getImage(loadImages(), name), noTrunc);
}

/** docker's inspect object of an image. */
export async function inspectImage(name: string): Promise<Record<string, unknown>> {
  const { getImage, loadImages } = await import('../image/store.js');
  return (await import('../image/inspect.js')).inspectImage(getImage(loadImages(), name));
}

/** Writes the images to a docker or OCI archive: to the file, or to stdout if none. */
export async function saveImages(names: string[], format: ArchiveFormat, output: string | undefined): Promise<void> {
  await (await import('../image/archive-save.js')).saveImages(names, format, output);
}

/** Loads the images of an archive (stdin if no file); `out` gets docker's `Loaded image: ...` lines. */
export async function loadImageArchive(input: string | undefined, out: (line: string) => void): Promise<void> {
  await (await import('../image/archive-load.js')).loadArchive({ input, out });
}

/**
 * save, load and push for a caller that streams their input and output itself (the API server):
 * the verb runs in a child tsctr, its stdio pipes. Only these three verbs, with arguments checked here.
 */
export async function imageArchiveChild(verb: 'save' | 'load' | 'push', args: string[]): Promise<import('node:child_process').ChildProcess> {
  for (const a of args) if (a.startsWith('-')) throw new (await import('../errors.js')).TsctrError(`invalid image name "${a}"`);
  return (await import('../rootless/userns.js')).spawnSelf([verb, ...(verb === 'load' ? [] : ['--', ...args])]);
}

export interface ImportOptions {
  /** A file, or `-` for stdin. */
  source: string;
  tag?: string;
  changes: string[];
  message?: string;
}

/** Checks an import's input without reading it: a URL, a terminal on stdin, a missing file, a bad tag or change. */
export async function checkImport(o: ImportOptions, stdinIsTerminal: boolean): Promise<void> {
  const { TsctrError } = await import('../errors.js');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(o.source)) throw new TsctrError('importing from a URL is not supported: download the tarball first');
  if (o.source === '-') {
    if (stdinIsTerminal) throw new TsctrError('requested import from stdin, but stdin is a terminal');
  } else {
    (await import('../util/fsutil.js')).checkInputFile(o.source);
  }
  if (o.tag !== undefined) await checkTag(o.tag);
  await checkChanges(o.changes);
}

/** A filesystem tarball becomes a one-layer image. */
export async function importImage(o: ImportOptions): Promise<ImageRecord> {
  return (await import('../image/import.js')).importTarball(o);
}

export interface CommitOptions {
  tag?: string;
  message?: string;
  author?: string;
  changes: string[];
}

/** Checks a commit's input: the container exists, the tag and the changes are valid. */
export async function checkCommit(container: string, o: CommitOptions): Promise<void> {
  if (o.tag) await checkTag(o.tag);
  const { getContainer, loadContainers } = await import('../container/store.js');
  getContainer(loadContainers(), container);
  await checkChanges(o.changes);
}

/** The container's writable layer as a new layer over its image; its config as the image's. */
export async function commitContainer(container: string, o: CommitOptions): Promise<ImageRecord> {
  const { getContainer, loadContainers } = await import('../container/store.js');
  const { id, imageId, config, path, args } = getContainer(loadContainers(), container);
  const source = { id, imageId, ...config, createdBy: [path, ...args].join(' ') };
  return (await import('../image/commit.js')).commitContainer(source, o.tag, { message: o.message, author: o.author, changes: o.changes });
}

/** The builder's options, with the context relative to the working directory or absolute, and
 * the Dockerfile defaulting to CONTEXT/Dockerfile. */
export type BuildOptions = Omit<BuilderOptions, 'dockerfile'> & { dockerfile?: string };

/** Runs a Dockerfile (the classic builder, src/builder/); the final image. */
export async function buildImage(o: BuildOptions): Promise<ImageRecord> {
  const path = await import('node:path');
  const fs = await import('node:fs');
  const { TsctrError } = await import('../errors.js');
  const context = path.resolve(o.context);
  if (!fs.statSync(context, { throwIfNoEntry: false })?.isDirectory()) throw new TsctrError(`unable to prepare context: path "${o.context}" not found`);
  for (const t of o.tags) await checkTag(t);
  if (o.network) (await import('../container/options.js')).parseNetwork(o.network);
  const { Builder } = await import('../builder/builder.js');
  return new Builder({ ...o, context, dockerfile: o.dockerfile ? path.resolve(o.dockerfile) : path.join(context, 'Dockerfile') }).run();
}

/**
 * A build whose context comes as a tar archive (plain or compressed: the Engine API's POST /build).
 * It is unpacked (as untrusted as a layer: nothing may land outside) into a directory of the store's
 * that goes when the build ends; `dockerfile` is a path inside the archive.
 */
export async function buildFromContextArchive(archive: AsyncIterable<Buffer>, o: Omit<BuildOptions, 'context'>): Promise<ImageRecord> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { storePaths } = await import('../paths.js');
  const { extractLayer, safeComponents } = await import('../overlay/extract.js');
  const { decompressed } = await import('../util/compression.js');
  const dockerfile = o.dockerfile ? safeComponents(o.dockerfile, 'Dockerfile path').join('/') : undefined;
  const tmp = path.join(storePaths.tmp(), 'build-contexts');
  fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
  const dir = fs.mkdtempSync(path.join(tmp, 'ctx-'));
  try {
    await extractLayer(decompressed(archive, 'build context'), dir, { chown: false });
    return await buildImage({ ...o, context: dir, dockerfile: dockerfile ? path.join(dir, dockerfile) : undefined });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

