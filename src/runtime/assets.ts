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
/** Set by the build too: the assets' sizes, the cheap check that a cached copy is whole. */
declare const __TSCTR_ASSET_SIZES__: Record<string, number> | undefined;
const knownSizes = typeof __TSCTR_ASSET_SIZES__ === 'undefined' ? {} : __TSCTR_ASSET_SIZES__;

/**
 * The file is written read-only (no w bit for anyone) and used only while it still is: ours,
 * that mode, that size. Anything else — a chmod, a truncation, a file put there by someone else —
 * is replaced, never executed and never a stack trace. (The shim also runs itself from a sealed
 * in-memory copy, so no container ever holds this file.)
 */
export function extractAsset(name: string, mode: number): string {
  const sea = process.getBuiltinModule('node:sea') as { getRawAsset: (k: string) => ArrayBuffer };
  const dir = cacheDir();
  const known = knownHashes[name];
  const intact = (file: string, size?: number) => {
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    return !!st && st.isFile() && (st.mode & 0o7777) === mode && st.uid === process.getuid?.() && (size === undefined || st.size === size);
  };
  const knownSize = knownSizes[name];
  if (known && intact(path.join(dir, `${known}-${name}`), knownSize)) return path.join(dir, `${known}-${name}`);
  const data = Buffer.from(sea.getRawAsset(name));
  const hash = known ?? crypto().createHash('sha256').update(data).digest('hex').slice(0, 16);
  const file = path.join(dir, `${hash}-${name}`);
  if (!intact(file, data.length)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.rmSync(tmp, { force: true });
    fs.writeFileSync(tmp, data, { mode, flag: 'wx' });
    fs.chmodSync(tmp, mode); // whatever the umask took away
    fs.renameSync(tmp, file);
  }
  return file;
}
