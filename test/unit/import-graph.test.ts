/**
 * The import graph of src/ points one way: commands → engine → libraries, no cycles. Read from the
 * source text (static `import … from`, `export … from`, dynamic `import()`, and `import('…')` in
 * types): a dependency through types alone is still a design dependency, so `import type` counts.
 * The shim's C files are checked too: no include cycle, and no two files that call into each other
 * (directly or around a loop), read from the sections of shim.h that name the file defining what follows
 * defines what.
 *
 * Every violation and cycle is printed, one per line. ALLOWED lists the edges that are known and
 * tolerated for now (others are moving that code); an edge listed there is left out of the graph,
 * so a cycle is tolerated only when one of its edges is listed. A listed edge that no longer exists
 * fails the test too: delete its line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Known violations, one edge per line: 'FROM -> TO', module paths relative to src/ without `.ts`.
 * The goal is an empty list; remove a line when its edge goes.
 */
const ALLOWED = `
`;

const SRC = path.resolve(import.meta.dirname, '..', '..', 'src');

/** The programs' entry points: the only modules besides commands/ that may import commands/. */
const ENTRY_POINTS = new Set(['main', 'runtime/sea-loader']);
/** The CLI's own modules (clipanion, argv): for commands and the entry points only. */
const CLI_MODULES = new Set(['command-base', 'fast-argv', 'global-options']);
/** Libraries that sit below container/: they may not reach up into it. */
const BELOW_CONTAINER = new Set(['net', 'overlay', 'registry', 'rootless', 'store', 'util']);

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function listSources(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) listSources(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const moduleId = (file: string) => path.relative(SRC, file).replace(/\.ts$/, '');

/** Comments out, strings left alone (an import specifier is a string). */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

const STATIC = /(?:^|[;\n])\s*(import|export)\s+(type\s+)?(?:[\w*{}\s,$]*?\s*from\s*)?['"]([^'"]+)['"]/g;
const DYNAMIC = /(?<![\w$.])import\(\s*['"]([^'"]+)['"]\s*\)/g;

function readGraph(): { modules: string[]; edges: Edge[] } {
  const files = listSources(SRC);
  const modules = files.map(moduleId);
  const known = new Set(modules);
  const edges: Edge[] = [];
  for (const file of files) {
    const from = moduleId(file);
    const text = stripComments(fs.readFileSync(file, 'utf8'));
    const found: { spec: string; typeOnly: boolean }[] = [];
    for (const m of text.matchAll(STATIC)) found.push({ spec: m[3]!, typeOnly: !!m[2] });
    for (const m of text.matchAll(DYNAMIC)) found.push({ spec: m[1]!, typeOnly: false });
    for (const { spec, typeOnly } of found) {
      if (!spec.startsWith('.')) continue; // packages and node: builtins
      const to = moduleId(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      assert.ok(known.has(to), `${from} imports ${spec}, which is not a module of src/`);
      if (to !== from && !edges.some((e) => e.from === from && e.to === to)) edges.push({ from, to, typeOnly });
      else if (typeOnly === false) {
        const e = edges.find((x) => x.from === from && x.to === to);
        if (e) e.typeOnly = false;
      }
    }
  }
  return { modules, edges };
}

const allowed = new Set(
  ALLOWED.split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean)
    .map((l) => l.split(/\s*->\s*/).join(' -> ')),
);
const key = (e: { from: string; to: string }) => `${e.from} -> ${e.to}`;
const show = (e: Edge) => `${key(e)}${e.typeOnly ? '   (import type)' : ''}`;

/**
 * The first directory under src/, or the file's own name for top-level files ('main', 'paths'). An
 * entry point is an area of its own, above all others (the SEA loader is in runtime/, which
 * libraries use, but nothing imports it).
 */
const area = (m: string) => (ENTRY_POINTS.has(m) ? m : m.split('/')[0]!);

/** Why an edge goes the wrong way, or undefined. */
function forbidden(e: Edge): string | undefined {
  const [a, b] = [area(e.from), area(e.to)];
  if (a === b) return undefined;
  if (b === 'commands' && !ENTRY_POINTS.has(e.from)) return 'only the entry points (main, the SEA loader) import commands/';
  if (CLI_MODULES.has(b) && a !== 'commands' && !ENTRY_POINTS.has(e.from)) return `${b} is the CLI's: for commands/ and the entry points only`;
  // The two front ends over the engine: the CLI's commands and the Docker API server (api/).
  if (b === 'engine' && a !== 'commands' && a !== 'api') return 'only commands/ and api/ import engine/';
  if (b === 'api' && a !== 'commands') return 'only commands/ (system service) imports api/';
  if (a === 'engine' && (b === 'commands' || ENTRY_POINTS.has(e.to))) return 'engine/ never imports commands/';
  if (BELOW_CONTAINER.has(a) && b === 'container') return `${a}/ is below container/ and never imports it`;
  return undefined;
}

/** Tarjan's strongly connected components with more than one member: each is a cycle (or several). */
function cycles(nodes: string[], edges: { from: string; to: string }[]): string[][] {
  const next = new Map<string, string[]>(nodes.map((n) => [n, []]));
  for (const e of edges) next.get(e.from)?.push(e.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let counter = 0;
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const n of nodes) if (!index.has(n)) visit(n);
  return out;
}

/** One concrete loop through a component, for the message: a → b → … → a. */
function loopIn(scc: string[], edges: { from: string; to: string }[]): string {
  const members = new Set(scc);
  const start = scc[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const e of edges) {
      if (e.from !== v || !members.has(e.to)) continue;
      if (e.to === start) {
        const path = [start];
        for (let x = v; x !== start; x = prev.get(x)!) path.splice(1, 0, x);
        return [...path, start].join(' → ');
      }
      if (!prev.has(e.to)) {
        prev.set(e.to, v);
        queue.push(e.to);
      }
    }
  }
  return scc.join(', ');
}

const graph = readGraph();
const live = graph.edges.filter((e) => !allowed.has(key(e)));

function report(title: string, lines: string[]): void {
  if (lines.length) console.log(`${title} (${lines.length}):\n${lines.map((l) => `  ${l}`).join('\n')}`);
}

test('imports point one way: commands → engine → libraries; net, overlay, registry, rootless, store, util below container', () => {
  const bad = live.flatMap((e) => {
    const why = forbidden(e);
    return why ? [`${show(e)}   — ${why}`] : [];
  });
  report('forbidden imports (fix, or list the edge in ALLOWED)', bad);
  assert.deepEqual(bad, []);
});

test('no import cycle between modules of src/', () => {
  const found = cycles(graph.modules, live).map((scc) => loopIn(scc, live));
  report('module cycles (break one edge, or list it in ALLOWED)', found);
  assert.deepEqual(found, []);
});

test('no import cycle between the areas of src/ (its directories)', () => {
  const areaEdges = live.filter((e) => area(e.from) !== area(e.to)).map((e) => ({ from: area(e.from), to: area(e.to) }));
  const areas = [...new Set(graph.modules.map(area))];
  const found = cycles(areas, areaEdges).map((scc) => {
    // Each step of one loop, with the module imports that make it.
    const loop = loopIn(scc, areaEdges).split(' → ');
    const steps = loop.slice(1).map((to, i) => {
      const from = loop[i]!;
      const by = live.filter((e) => area(e.from) === from && area(e.to) === to).map(show);
      return `    ${from} → ${to}: ${by.join(', ')}`;
    });
    return `${loop.join(' → ')}${scc.length > loop.length - 1 ? `   (one loop of ${scc.join(', ')})` : ''}
${steps.join('\n')}`;
  });
  report('area cycles (break one edge, or list it in ALLOWED)', found);
  assert.deepEqual(found, []);
});

test('every ALLOWED edge still exists (delete the lines of those that went)', () => {
  const existing = new Set(graph.edges.map(key));
  const stale = [...allowed].filter((e) => !existing.has(e));
  report('ALLOWED edges that no longer exist', stale);
  assert.deepEqual(stale, []);
});

test('the reader sees static, type-only and dynamic imports', () => {
  const has = (from: string, to: string) => graph.edges.find((e) => e.from === from && e.to === to);
  assert.ok(has('main', 'version'), 'static import');
  assert.ok(has('main', 'commands/verbs'), 'dynamic import');
  assert.ok(graph.edges.some((e) => e.typeOnly), 'import type');
});

/** The shim's headers: `#include "x.h"` between the files of src/shim. */
test('the C shim has no include cycle', () => {
  const dir = path.join(SRC, 'shim');
  const files = fs.readdirSync(dir).filter((f) => /\.[ch]$/.test(f));
  const edges = files.flatMap((f) =>
    [...fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)].map((m) => ({ from: f, to: m[1]! })),
  );
  const found = cycles(files, edges).map((scc) => loopIn(scc, edges));
  report('shim include cycles', found);
  assert.deepEqual(found, []);
});

/** Which shim file defines each function and global that shim.h declares, by the sections that name their file. */
function shimOwners(header: string): Map<string, string> {
  const owners = new Map<string, string>();
  let file: string | undefined;
  for (const raw of header.split('\n')) {
    const section = /^\/\* ([\w-]+\.c)\b/.exec(raw);
    if (section) file = section[1];
    else if (/^\/\*/.test(raw)) file = undefined; // a section of no one file ("entry points")
    const line = raw.replace(/\/\*.*?(\*\/|$)/g, '').replace(/__attribute__\(\(.*?\)\)/g, '');
    if (!file || /^\s*(#|struct\b.*\{|\}|typedef)/.test(line)) continue;
    const fn = /^\s*[\w\s*]*?\b(\w+)\s*\(/.exec(line);
    const global = /^\s*extern\b[^;(]*?\b(\w+)\s*;/.exec(line);
    for (const m of [fn, global]) if (m && !owners.has(m[1]!)) owners.set(m[1]!, file);
  }
  return owners;
}

test('the shim\'s files do not call into each other both ways (ns.c applies seccomp.c, never the reverse)', () => {
  const dir = path.join(SRC, 'shim');
  const owners = shimOwners(fs.readFileSync(path.join(dir, 'shim.h'), 'utf8'));
  assert.equal(owners.get('seccomp_apply'), 'seccomp.c', 'shim.h sections not understood');
  assert.equal(owners.get('cap_parse'), 'caps.c');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.c'));
  const edges: { from: string; to: string; by: string }[] = [];
  for (const f of files) {
    const code = fs
      .readFileSync(path.join(dir, f), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '')
      .replace(/"(\\.|[^"\\])*"/g, '""');
    const used = new Set(code.match(/\b\w+\b/g));
    for (const [name, owner] of owners) {
      if (owner !== f && used.has(name) && !edges.some((e) => e.from === f && e.to === owner)) edges.push({ from: f, to: owner, by: name });
    }
  }
  const found = cycles(files, edges).map((scc) => {
    const inside = edges.filter((e) => scc.includes(e.from) && scc.includes(e.to)).map((e) => `${e.from} -> ${e.to} (${e.by})`);
    return `${loopIn(scc, edges)}   via ${inside.join(', ')}`;
  });
  report('shim call cycles between files', found);
  assert.deepEqual(found, []);
});
