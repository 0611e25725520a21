import path from 'node:path';
import { dataRoot } from '../paths.js';
import { readFileIfExists } from '../util/fsutil.js';

/**
 * Containers that use an image (rmi must refuse to pull the floor from under them). Reads the
 * container index directly so the image code does not depend on the container runtime.
 */
export function containersUsingImage(imageId: string): string[] {
  const raw = readFileIfExists(path.join(dataRoot(), 'containers.json'));
  if (!raw) return [];
  try {
    const doc = JSON.parse(raw.toString('utf8')) as { containers?: Record<string, { id: string; imageId: string }> };
    return Object.values(doc.containers ?? {})
      .filter((c) => c.imageId === imageId)
      .map((c) => c.id);
  } catch {
    return [];
  }
}
