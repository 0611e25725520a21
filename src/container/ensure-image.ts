/**
 * --pull missing|always|never for run/create. Pulling happens in a child `tsctr pull` (it must run
 * inside the user namespace), with its progress on stderr so that stdout stays the container's.
 */
import { ReportedError, TsctrError } from '../errors.js';
import { selfCommand } from '../rootless/userns.js';
import { parseReference, familiarString } from '../image/reference.js';
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
  const [cmd, ...args] = selfCommand();
  const argv = [...args, 'pull', ...(platform ? ['--platform', platform] : []), name];
  const { spawn } = await import('node:child_process');
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(cmd!, argv, { stdio: ['ignore', process.stderr, process.stderr] });
    child.on('error', reject);
    child.on('exit', (c) => resolve(c ?? 125));
  });
  // The child already printed the reason.
  if (code !== 0) throw new ReportedError(code);
  const image = localImage(name);
  if (!image) throw new TsctrError(`${familiarString(ref)}: image not found after pull`);
  return image;
}
