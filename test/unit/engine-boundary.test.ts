/**
 * The engine boundary (docs/architecture.md): commands reach the stores only through src/engine/,
 * nothing under the engine imports it back, and the engine imports its libraries lazily so that a
 * command evaluates only the code it uses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const src = path.resolve(import.meta.dirname, '../../src');

/** Every module specifier a file imports, statically or with `import()`, resolved against src/. */
function importsOf(file: string, text = fs.readFileSync(file, 'utf8')): { spec: string; target: string; lazy: boolean; typeOnly: boolean }[] {
  const found = [];
  const re = /(?:^|\n)\s*(import\s+type\b|import|export)\b[^'";]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;
  for (let m; (m = re.exec(text)); ) {
    const spec = m[2] ?? m[3]!;
    if (!spec.startsWith('.')) continue;
    const target = path.relative(src, path.resolve(path.dirname(file), spec)).replace(/\.js$/, '.ts');
    found.push({ spec, target, lazy: m[3] !== undefined, typeOnly: m[1] === 'import type' });
  }
  return found;
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f));
}

const STORES = (t: string) => t.startsWith('store/') || t === 'container/store.ts' || t === 'image/store.ts';

test('no command (nor the API server) imports a store: they go through the engine', () => {
  const bad = [];
  for (const file of [...tsFiles(path.join(src, 'commands')), ...tsFiles(path.join(src, 'api'))]) {
    for (const i of importsOf(file)) if (STORES(i.target)) bad.push(`${path.relative(src, file)} imports ${i.target}`);
  }
  assert.deepEqual(bad, []);
});

test('no command reads a JSON store file itself', () => {
  const bad = tsFiles(path.join(src, 'commands')).filter((f) => /containers\.json|images\.json|loadContainers|loadImages/.test(fs.readFileSync(f, 'utf8')));
  assert.deepEqual(bad.map((f) => path.relative(src, f)), []);
});

test('only commands and the API server (api/) import the engine, and the engine imports no command', () => {
  const bad = [];
  for (const file of tsFiles(src)) {
    const rel = path.relative(src, file);
    for (const i of importsOf(file)) {
      if (i.target.startsWith('engine/') && !rel.startsWith('commands/') && !rel.startsWith('api/') && !rel.startsWith('engine/')) bad.push(`${rel} imports ${i.target}`);
      if ((i.target.startsWith('commands/') || i.target === 'command-base.ts') && rel.startsWith('engine/')) bad.push(`${rel} imports ${i.target}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('the engine imports its libraries lazily: a static import is of types only', () => {
  const bad = [];
  for (const file of tsFiles(path.join(src, 'engine'))) {
    for (const i of importsOf(file)) if (!i.lazy && !i.typeOnly && !i.target.startsWith('engine/')) bad.push(`${path.relative(src, file)}: ${i.spec}`);
  }
  assert.deepEqual(bad, []);
});

test('the import scanner sees static, type-only and lazy imports', () => {
  const text = "import type { A } from '../container/types.js';\nimport { b } from '../image/store.js';\nconst c = await import('../store/lock.js');\n";
  assert.deepEqual(
    importsOf(path.join(src, 'engine/x.ts'), text).map((i) => [i.target, i.lazy, i.typeOnly]),
    [
      ['container/types.ts', false, true],
      ['image/store.ts', false, false],
      ['store/lock.ts', true, false],
    ],
  );
});
