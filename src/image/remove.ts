/**
 * rmi with docker's rules: removing a tag only untags while other tags remain; the image itself goes
 * with its last tag (or when named by ID and tagged once); an image with several tags named by ID, or
 * used by a container, needs -f. Layers and blobs no other image uses are deleted.
 */
import fs from 'node:fs';
import { ConflictError } from '../errors.js';
import { storePaths, hexOf } from '../paths.js';
import { removeTreesAsNamespaceRoot } from '../rootless/userns.js';
import { parseReference, formatReference, familiarString } from './reference.js';
import { dropUnusedLayers, getImage, loadImages, trashLayers, updateImages, initStore } from './store.js';
import { appendEvents, makeEvent } from '../store/events.js';
import { containersUsingImage } from './users.js';
import { collectGarbage } from './gc.js';
import type { ImageRecord, ImagesDoc } from './types.js';

export interface RemoveReport {
  untagged: string[];
  deleted: string[];
  /** Bytes of layer content deleted. */
  reclaimed: number;
}

function familiarTag(full: string): string {
  return familiarString(parseReference(full));
}

function tagNamedBy(query: string, image: ImageRecord): string | undefined {
  try {
    const want = formatReference(parseReference(query));
    return image.repoTags.includes(want) ? want : undefined;
  } catch {
    return undefined;
  }
}

export async function removeImage(query: string, force: boolean): Promise<RemoveReport> {
  initStore();
  let trash: string | undefined;
  let imageId = '';
  const deletedImages: string[] = [];
  const report = await updateImages((doc) => {
    const image = getImage(doc, query);
    imageId = image.id;
    const rep: RemoveReport = { untagged: [], deleted: [], reclaimed: 0 };
    const tag = tagNamedBy(query, image);
    const users = containersUsingImage(image.id);

    if (tag && image.repoTags.length > 1) {
      image.repoTags = image.repoTags.filter((t) => t !== tag);
      rep.untagged.push(familiarTag(tag));
      return rep;
    }
    if (!tag && image.repoTags.length > 1 && !force) {
      throw new ConflictError(
        `conflict: unable to delete ${hexOf(image.id).slice(0, 12)} (must be forced) - image is referenced in multiple repositories`,
      );
    }
    if (users.length > 0 && !force) {
      const what = tag ? `remove repository reference "${familiarTag(tag)}"` : `delete ${hexOf(image.id).slice(0, 12)}`;
      throw new ConflictError(
        `conflict: unable to ${what} (must force) - container ${users[0]!.slice(0, 12)} is using its referenced image ${hexOf(image.id).slice(0, 12)}`,
      );
    }
    rep.untagged.push(...image.repoTags.map(familiarTag));
    rep.untagged.push(...image.repoDigests.map((d) => d.replace(/^docker\.io\/(library\/)?/, '')));
    if (users.length > 0) {
      // Forced while in use: docker keeps the image, untagged, so the containers still have their layers.
      image.repoTags = [];
      image.repoDigests = [];
      return rep;
    }
    delete doc.images[image.id];
    rep.deleted.push(image.id);
    deletedImages.push(image.id);
    // Then its build-step ancestors that nothing else needs, as docker does.
    for (let parent = image.parent ? doc.images[image.parent] : undefined; parent; ) {
      const p: ImageRecord = parent;
      const needed = p.repoTags.length > 0 || !p.intermediate || Object.values(doc.images).some((i) => i.parent === p.id) || containersUsingImage(p.id).length > 0;
      if (needed) break;
      delete doc.images[p.id];
      rep.deleted.push(p.id);
      deletedImages.push(p.id);
      removeUnusedBlobs(doc, p);
      parent = p.parent ? doc.images[p.parent] : undefined;
    }
    const sizes = { ...doc.layers };
    const dropped = dropUnusedLayers(doc);
    rep.reclaimed = dropped.reduce((n, d) => n + (sizes[d]?.size ?? 0), 0);
    rep.deleted.push(...dropped);
    trash = trashLayers(dropped);
    removeUnusedBlobs(doc, image);
    return rep;
  });
  if (trash) removeTreesAsNamespaceRoot([trash]);
  appendEvents([
    ...report.untagged.map((name) => makeEvent('image', 'untag', imageId, { name })),
    ...deletedImages.map((id) => makeEvent('image', 'delete', id, { name: id })),
  ]);
  return report;
}

function removeUnusedBlobs(doc: ImagesDoc, gone: ImageRecord): void {
  const used = new Set<string>();
  for (const i of Object.values(doc.images)) {
    used.add(i.id);
    used.add(i.manifestDigest);
    for (const d of i.repoDigests) used.add(d.slice(d.indexOf('@') + 1));
  }
  const candidates = [gone.id, gone.manifestDigest, ...gone.repoDigests.map((d) => d.slice(d.indexOf('@') + 1))];
  for (const digest of candidates) {
    // An image made here (load, import) has no manifest: its manifestDigest is '', which names no blob.
    if (digest && !used.has(digest)) fs.rmSync(storePaths.blob(digest), { force: true });
  }
}

/** `image prune`: dangling images (no tag), or with all=true every image no container uses. */
export async function pruneImages(all: boolean): Promise<RemoveReport> {
  initStore();
  collectGarbage();
  const doc = loadImages();
  const parents = new Set(Object.values(doc.images).map((i) => i.parent));
  // A build step's image with a child is the build cache of that child, not dangling (docker).
  const victims = Object.values(doc.images).filter(
    (i) => (all || (i.repoTags.length === 0 && !(i.intermediate && parents.has(i.id)))) && containersUsingImage(i.id).length === 0,
  );
  const total: RemoveReport = { untagged: [], deleted: [], reclaimed: 0 };
  for (const v of victims) {
    if (!loadImages().images[v.id]) continue; // went with a child it was the build step of
    const r = await removeImage(v.id, true);
    total.untagged.push(...r.untagged);
    total.deleted.push(...r.deleted);
    total.reclaimed += r.reclaimed;
  }
  return total;
}

