/**
 * koffi in both builds. Its native module cannot be bundled, so:
 *  - in the single executable (dist/tsctr), scripts/build.mjs embeds koffi's linux-x64 `.node` as
 *    the SEA asset 'koffi.node'; it is written once to the user's cache (assets.ts) and dlopen'ed;
 *  - elsewhere (`node dist/tsctr.cjs`, tsx, tests) the installed package is required as usual.
 * scripts/build.mjs also points every bundled `import ... from 'koffi'` here, so a plain import
 * of koffi can never reach the SEA's builtin-only require.
 * The raw native module has koffi's whole API; the package's JS wrapper only adds deprecated aliases.
 */
import { createRequire } from 'node:module';
import { extractAsset, isSea } from './assets.js';

export type Koffi = typeof import('koffi');

let koffi: Koffi | undefined;

export function loadKoffi(): Koffi {
  if (koffi) return koffi;
  if (isSea()) {
    const mod = { exports: {} as Koffi };
    process.dlopen(mod, extractAsset('koffi.node', 0o700));
    koffi = mod.exports;
  } else {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  }
  return koffi;
}
