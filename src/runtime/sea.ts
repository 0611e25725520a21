/**
 * koffi in every build. Its native module cannot be bundled, so scripts/build.mjs ships koffi's
 * linux-x64 `.node` (glibc) twice: as the SEA asset 'koffi.node' inside dist/tsctr, written once
 * to the user's cache (assets.ts) and dlopen'ed from there, and as dist/koffi.node next to
 * dist/tsctr.cjs, so `node dist/tsctr.cjs` works from any directory and loads the same thing.
 * Unbundled (tsx, tests) the installed package is required as usual.
 * The build also points every bundled `import ... from 'koffi'` here: the SEA's own require knows
 * only builtins. The raw native module has koffi's whole API; the package's JS wrapper around it
 * only adds deprecated aliases.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extractAsset, isSea } from './assets.js';

export type Koffi = typeof import('koffi');

let koffi: Koffi | undefined;

function dlopen(file: string): Koffi {
  const mod = { exports: {} as Koffi };
  process.dlopen(mod, file);
  return mod.exports;
}

export function loadKoffi(): Koffi {
  if (koffi) return koffi;
  if (isSea()) return (koffi = dlopen(extractAsset('koffi.node', 0o500)));
  const beside = fileURLToPath(new URL('koffi.node', import.meta.url));
  if (fs.existsSync(beside)) return (koffi = dlopen(beside));
  // Fetched here rather than imported at the top: in a SEA, loading node:module costs ~2 ms.
  return (koffi = process.getBuiltinModule('node:module').createRequire(import.meta.url)('koffi') as Koffi);
}
