/**
 * `export`: a container's root filesystem as one flat tar — its writable layer over its image's
 * layers, merged as the overlay shows them (deleted files absent, no whiteouts), without what is
 * mounted in (volumes, /proc, /dev's tmpfs, the bind-mounted /etc/hosts, /etc/hostname and
 * /etc/resolv.conf). The empty files and directories the runtime made in the writable layer as
 * mount points stay, as they do in docker's export (where its init layer provides them). Read
 * from the layer directories, not through the container, so it works whether or not the
 * container runs, and needs no tar inside the image.
 */
import { NotFoundError } from '../errors.js';
import { containerPaths, storePaths } from '../paths.js';
import { loadImages } from '../image/store.js';
import { flattenTar } from '../overlay/dir-tar.js';
import { getContainer, loadContainers } from './store.js';

export function exportContainer(query: string): AsyncIterable<Buffer> {
  const c = getContainer(loadContainers(), query);
  const image = loadImages().images[c.imageId];
  if (!image) throw new NotFoundError(`the image of container ${c.name} (${c.imageId}) is no longer in the store`);
  // Topmost first: the writable layer, then the image's layers from the last one down.
  return flattenTar([containerPaths.upper(c.id), ...[...image.layers].reverse().map((d) => storePaths.layer(d))]);
}
