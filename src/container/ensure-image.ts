/**
 * --pull missing|always|never for run/create. The pull's progress goes to stderr, so that stdout
 * stays the container's.
 */
import { TsctrError } from '../errors.js';
import { parseReference, familiarString, formatReference } from '../image/reference.js';
import { localImage } from './create.js';
import type { ImageRecord } from '../image/types.js';

export async function ensureImage(name: string, policy: string, platform?: string): Promise<ImageRecord> {
  if (!['missing', 'always', 'never'].includes(policy)) {
    throw new TsctrError(`invalid pull policy "${policy}": use always, missing or never`);
  }
  const ref = parseReference(name); // bad names fail here, before any network
  const have = localImage(name);
  if (have && policy !== 'always') return have;
  if (policy === 'never') throw new TsctrError(`${familiarString(ref)}: image not known (--pull never)`);
  if (!have) process.stderr.write(`Unable to find image '${familiarString(ref)}' locally\n`);
  // In this process: the namespace work is the shim helper's, so no second Node start.
  const { pullImage } = await import('../image/pull.js');
  const { parsePlatform } = await import('../image/platform.js');
  await pullImage(name, { platform: platform ? parsePlatform(platform) : undefined, out: process.stderr });
  process.stderr.write(`${formatReference(ref)}\n`);
  // The container may run for long: the helper has nothing more to do.
  (await import('../rootless/userns-ops.js')).endNamespaceHelper();
  const image = localImage(name);
  if (!image) throw new TsctrError(`${familiarString(ref)}: image not found after pull`);
  return image;
}
