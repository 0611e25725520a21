/** Where the C helper (tsctr-shim) is: embedded in the single executable, or next to the bundle. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TsctrError } from '../errors.js';
import { extractAsset, isSea } from './assets.js';

let cached: string | undefined;

export function shimPath(): string {
  if (cached) return cached;
  if (process.env.TSCTR_SHIM) return (cached = process.env.TSCTR_SHIM);
  if (isSea()) return (cached = extractAsset('tsctr-shim', 0o555));
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, 'tsctr-shim'), path.resolve(here, '..', '..', 'dist', 'tsctr-shim')];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new TsctrError(`tsctr-shim not found (looked in ${candidates.join(', ')}); run 'npm run build'`);
  return (cached = found);
}
