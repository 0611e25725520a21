/**
 * `diff`: what a container changed in its filesystem, as docker lists it — `A` added, `C` changed,
 * `D` deleted — from its upper directory, against its image's layers. Read through directory
 * descriptors (DirTree, LayerStack), so that a running container swapping a name for a symlink
 * cannot make us look at the host. Run as root in the user namespace: the layers hold files of
 * subordinate uids.
 */
import { containerPaths } from '../paths.js';
import { getImage, loadImages } from '../image/store.js';
import { RUNTIME_STUBS } from '../image/layers.js';
import { DirTree, LayerStack } from '../overlay/dir-tar.js';
import { layersTopFirst } from './layers.js';
import { getContainer, loadContainers } from './store.js';

/** docker's ChangeType: 0 modified, 1 added, 2 deleted. */
export interface Change {
  Kind: 0 | 1 | 2;
  Path: string;
}


const join = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);

export function containerChanges(query: string): Change[] {
  const c = getContainer(loadContainers(), query);
  const image = getImage(loadImages(), c.imageId);
  const upper = new DirTree(containerPaths.upper(c.id));
  const lower = new LayerStack(layersTopFirst(image));
  const out: Change[] = [];
  // A directory in the upper layer only for the runtime's mount points (/etc/hosts...) was copied
  // up for them, not changed by the container.
  const onlyStubs = (rel: string): boolean => {
    const names = upper.list(rel);
    return names.length > 0 && names.every((n) => RUNTIME_STUBS.has(join(rel, n)));
  };
  const walk = (dirRel: string, added: boolean) => {
    for (const name of upper.list(dirRel)) {
      const rel = join(dirRel, name);
      if (RUNTIME_STUBS.has(rel)) continue;
      const node = upper.get(rel);
      if (!node) continue; // gone since the listing
      if (node.st.isCharacterDevice() && node.st.rdev === 0) {
        out.push({ Kind: 2, Path: `/${rel}` }); // overlay's whiteout
        continue;
      }
      if (name.startsWith('.wh.')) {
        if (name !== '.wh..wh..opq') out.push({ Kind: 2, Path: `/${join(dirRel, name.slice(4))}` }); // fuse-overlayfs' form
        continue;
      }
      if (node.st.isDirectory() && onlyStubs(rel)) continue;
      const isNew = added || lower.get(rel) === undefined;
      out.push({ Kind: isNew ? 1 : 0, Path: `/${rel}` });
      if (node.st.isDirectory()) walk(rel, isNew);
    }
  };
  try {
    walk('', false);
  } finally {
    upper.close();
    lower.close();
  }
  return out;
}
