/**
 * Files the single executable carries inside it (the C shim, koffi's native module). They must
 * exist as real files to be executed or dlopen'ed, so each is written once per content hash to the
 * user's cache; a running process keeps its inode even if a newer version is written later.
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { nodeCrypto as crypto } from '../util/digest.js';

export function isSea(): boolean {
  const sea = process.getBuiltinModule?.('node:sea') as { isSea?: () => boolean } | undefined;
  return sea?.isSea?.() ?? false;
}

function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(process.env.HOME || os.homedir(), '.cache');
  return path.join(base, 'tsctr');
}

/** Set by the build (scripts/build.mjs): the assets' content hashes, so none is hashed at run time. */
declare const __TSCTR_ASSET_HASHES__: Record<string, string> | undefined;
const knownHashes = typeof __TSCTR_ASSET_HASHES__ === 'undefined' ? {} : __TSCTR_ASSET_HASHES__;

export function extractAsset(name: string, mode: number): string {
  const sea = process.getBuiltinModule('node:sea') as { getRawAsset: (k: string) => ArrayBuffer };
  const dir = cacheDir();
  const known = knownHashes[name];
  if (known && fs.existsSync(path.join(dir, `${known}-${name}`))) return path.join(dir, `${known}-${name}`);
  const data = Buffer.from(sea.getRawAsset(name));
  const hash = known ?? crypto().createHash('sha256').update(data).digest('hex').slice(0, 16);
  const file = path.join(dir, `${hash}-${name}`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, data, { mode });
    fs.renameSync(tmp, file);
  }
  return file;
}
