/**
 * The restart policy as the monitor reads it: in its spec at start, and from a file in the run
 * directory that `update --restart` writes while the container runs (the monitor reads it again
 * at each exit, so the change is live).
 */
import { containerPaths } from '../paths.js';
import type { HostConfig } from './types.js';

export function restartValue(r: HostConfig['restart']): string {
  if (r.name === 'on-failure') return `on-failure:${r.maxRetries}`;
  if (r.name === 'always' || r.name === 'unless-stopped') return 'always';
  return 'no';
}

export function restartPolicyFile(id: string): string {
  return `${containerPaths.run(id)}/restart-policy`;
}
