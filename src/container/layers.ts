import { storePaths } from '../paths.js';
import type { ImageRecord } from '../image/types.js';

/** An image's layer directories, top first: overlayfs' lowerdir order, and the order files are looked up in. */
export function layersTopFirst(image: ImageRecord): string[] {
  return [...image.layers].reverse().map((d) => storePaths.layer(d));
}
