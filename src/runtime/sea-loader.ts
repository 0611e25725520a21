/**
 * The single executable's entry point: it compiles and runs the bundle (the SEA asset 'tsctr.cjs').
 *
 * Why not make the bundle the SEA's main script: Node's SEA code cache is made at build time, by
 * compiling without running, so it holds the top-level code only. Every function a command calls
 * was compiled again on every run: about 6 ms of a `run` or a `ps`. Here the bundle is compiled with
 * a V8 code cache kept beside the extracted assets in the user's cache directory, and the first run
 * of each command keeps a cache of its own (starting from the build's top-level one) with what it
 * compiled: later runs of that command find their functions compiled.
 * V8 checks a cache against the source and its own version and flags, and rejects one that does not
 * match; the file's name carries the bundle's hash, so a new build never reads an old build's cache.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { splitCommandLine } from '../commands/verbs.js';
import { VERSION } from '../version.js';
import { writeStdout } from '../util/stdout.js';

/** Set by scripts/build.mjs: the first 16 hex digits of the bundle's sha256, and the function
 * wrapper around it (the build's top-level cache is made for exactly that text). */
declare const __TSCTR_BUNDLE_ID__: string;
declare const __TSCTR_WRAP__: [string, string];

/** The command a command line runs ("ps", "image-ls"), read from the command table: each has a cache of its own. */
function commandKey(argv: string[]): string {
  const { path, rest } = splitCommandLine(argv);
  return (path.join('-') || rest[0] || 'help').replace(/[^a-zA-Z0-9-]/g, '_').slice(0, 40);
}

/** Beside the extracted assets (assets.ts). */
function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(process.env.HOME || os.homedir(), '.cache');
  return path.join(base, 'tsctr', `${__TSCTR_BUNDLE_ID__}-code-cache`);
}

/*
 * A code cache is code: V8 does not checksum it in release builds, so a damaged one crashes every
 * later run (exit 139) and a crafted one runs what it likes. So a cache is used only as written:
 * beside it, FILE.stamp holds the inode, size and change time (ctime, which no write, truncate,
 * chmod or rename-over can leave as it was, nor can a user set it) the file had when tsctr wrote
 * it; and the file and its directory must be ours and private. Anything else is compiled anew and
 * rewritten. (A sha256 of the cache cost 4-5 ms per command here, mostly loading node:crypto;
 * this costs one fstat and a 40-byte read.)
 */
const stampOf = (st: fs.BigIntStats) => `${st.ino} ${st.size} ${st.ctimeNs}`;

function readCache(file: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    const uid = process.getuid!();
    const dir = fs.statSync(path.dirname(file));
    if (dir.uid !== uid || dir.mode & 0o077) return undefined;
    const stamp = fs.readFileSync(`${file}.stamp`, 'latin1');
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const st = fs.fstatSync(fd, { bigint: true });
    if (!st.isFile() || Number(st.uid) !== uid || st.mode & 0o077n || stampOf(st) !== stamp) return undefined;
    const buf = Buffer.allocUnsafe(Number(st.size));
    return fs.readSync(fd, buf, 0, buf.length, 0) === buf.length ? buf : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Written once per command, atomically; a failure only means compiling again next time. */
function writeCache(file: string, data: Buffer): void {
  const dir = path.dirname(file);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700); // readCache uses none from a directory others may write
    fs.writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
    fs.renameSync(tmp, file);
    fs.writeFileSync(tmp, stampOf(fs.statSync(file, { bigint: true })), { mode: 0o600, flag: 'wx' });
    fs.renameSync(tmp, `${file}.stamp`);
    // The caches of other builds are of no use any more.
    const parent = path.dirname(dir);
    for (const f of fs.readdirSync(parent)) {
      if (f.endsWith('-code-cache') && f !== path.basename(dir)) fs.rmSync(path.join(parent, f), { recursive: true, force: true });
    }
  } catch {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // nothing was written
    }
  }
}

/** Compiles (from the command's code cache) and runs the bundle. */
function runBundle(): void {
  const sea = require('node:sea') as { getRawAsset(key: string): ArrayBuffer };
  // The bundle is ASCII (the build checks): latin1 makes V8's compact one-byte string, without decoding.
  const source = Buffer.from(sea.getRawAsset('tsctr.cjs')).toString('latin1');
  const file = path.join(cacheDir(), commandKey(process.argv.slice(2)));
  const own = readCache(file);
  const script = new vm.Script(__TSCTR_WRAP__[0] + source + __TSCTR_WRAP__[1], {
    filename: 'dist/tsctr.cjs',
    // A command's first run starts from the build's cache of the top-level code.
    cachedData: own ?? Buffer.from(sea.getRawAsset('tsctr.cjs.cache')),
  });
  if (!own || script.cachedDataRejected) process.once('exit', () => writeCache(file, script.createCachedData()));
  const bundleModule = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void)(bundleModule.exports, require, bundleModule, __filename, __dirname);
}

// `--version` alone (main.ts answers it the same way) needs nothing of the bundle: reading and
// compiling its 1.5 MB cost ~6 ms of CPU, a fifth of the whole command.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) writeStdout(`tsctr version ${VERSION}\n`);
else runBundle();
