/** `inspect` of any object: docker looks for a container first, then an image. */
import { remote } from './remote.js';

export type InspectType = 'container' | 'image';

export interface Inspected {
  name: string;
  /** docker's inspect object; undefined if nothing has that name. */
  object?: Record<string, unknown>;
}

/** One entry per name, in order; `type` restricts the search to one kind of object. */
export async function inspectObjects(names: string[], type?: InspectType): Promise<Inspected[]> {
  const r = await remote();
  if (r) {
    const out: Inspected[] = [];
    for (const name of names) {
      const object = await r.inspectObject(name, type);
      out.push(object ? { name, object } : { name });
    }
    return out;
  }
  const { findContainer, loadContainers } = await import('../container/store.js');
  const containers = type !== 'image' ? loadContainers() : undefined;
  let images: import('../image/types.js').ImagesDoc | undefined;
  const found: Inspected[] = [];
  for (const name of names) {
    const ctr = containers ? findContainer(containers, name) : undefined;
    if (ctr) {
      found.push({ name, object: (await import('../container/inspect.js')).inspectContainer(ctr) });
      continue;
    }
    if (type === 'container') {
      found.push({ name });
      continue;
    }
    const { findImage, loadImages } = await import('../image/store.js');
    images ??= loadImages();
    const img = findImage(images, name);
    found.push({ name, object: img ? (await import('../image/inspect.js')).inspectImage(img) : undefined });
  }
  return found;
}
