/**
 * COPY and ADD sources: patterns (with `*`, `?`, `[...]` per path component) resolved in a tree —
 * the build context, or another stage's layers — never leaving it, and, for the context, the
 * checksum of everything they select (the build cache's key: contents, modes and names, not times).
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { TsctrError } from '../errors.js';
import type { Tree } from '../overlay/dir-tar.js';
import { DirTree } from '../overlay/dir-tar.js';
import { IgnoreMatcher, globSource } from './dockerignore.js';

const GLOB = /[*?[]/;

/** The tree paths a source pattern selects ('' is the tree's root); none is an error. */
export function expandSource(tree: Tree, pattern: string, ignore?: IgnoreMatcher): string[] {
  const clean = path.posix.normalize(`/${pattern}`).slice(1).replace(/\/+$/, '');
  if (path.posix.normalize(pattern).split('/')[0] === '..' && !path.posix.isAbsolute(pattern)) {
    throw new TsctrError(`forbidden path outside the build context: ${pattern}`);
  }
  let current = [''];
  for (const part of clean ? clean.split('/') : []) {
    const next: string[] = [];
    for (const dir of current) {
      const node = tree.get(dir);
      if (!node?.st.isDirectory()) continue;
      if (!GLOB.test(part)) {
        const rel = dir ? `${dir}/${part}` : part;
        if (tree.get(rel)) next.push(rel);
        continue;
      }
      const re = new RegExp(`^${globSource(part)}$`);
      for (const name of tree.list(dir)) if (re.test(name)) next.push(dir ? `${dir}/${name}` : name);
    }
    current = next;
  }
  if (ignore) current = current.filter((rel) => rel === '' || !ignore.ignored(rel));
  if (current.length === 0) throw new TsctrError(`COPY failed: file not found in build context or excluded by .dockerignore: stat ${pattern}: file does not exist`);
  return current;
}

function hashTree(tree: Tree, rel: string, h: crypto.Hash, ignore?: IgnoreMatcher): void {
  const node = tree.get(rel)!;
  const st = node.st;
  h.update(`${rel}\0${st.mode}\0`);
  if (st.isSymbolicLink()) h.update(fs.readlinkSync(node.abs));
  else if (st.isFile()) h.update(fs.readFileSync(node.abs));
  else if (st.isDirectory()) {
    for (const name of tree.list(rel)) {
      const child = rel ? `${rel}/${name}` : name;
      if (ignore && ignore.prune(child, tree.get(child)?.st.isDirectory() ?? false)) continue;
      hashTree(tree, child, h, ignore);
    }
  }
}

/** Where COPY's sources are: a directory (the build context) or a stage's or image's layers. */
export type SourceTree = { kind: 'dir'; root: string } | { kind: 'layers'; dirs: string[] };

export interface ResolvedSources {
  tree: SourceTree;
  patterns: string[];
  /** What the cache key includes for the sources' contents. */
  checksum: string;
  /** How many paths the patterns select (context only; 0 when not known here). */
  count: number;
  /** For the history entry, docker style: `file:<hash>` or `dir:<hash>`. */
  describe: string;
  ignore?: string;
}

export type SourceOrigin = { kind: 'context'; root: string } | { kind: 'layers'; dirs: string[]; imageId: string };

export function readDockerignore(root: string): string | undefined {
  try {
    return fs.readFileSync(path.join(root, '.dockerignore'), 'utf8');
  } catch {
    return undefined;
  }
}

export function resolveCopySources(origin: SourceOrigin, patterns: string[]): ResolvedSources {
  if (origin.kind === 'layers') {
    // The image's content is fixed by its ID; its files are checked where they can be read.
    const checksum = crypto.createHash('sha256').update(JSON.stringify([origin.imageId, patterns])).digest('hex');
    return { tree: { kind: 'layers', dirs: origin.dirs }, patterns, checksum, count: 0, describe: `multi:${checksum}` };
  }
  const ignoreText = readDockerignore(origin.root);
  const ignore = ignoreText ? new IgnoreMatcher(ignoreText) : undefined;
  const tree = new DirTree(origin.root);
  const h = crypto.createHash('sha256');
  let kinds = new Set<string>();
  let count = 0;
  for (const p of patterns) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p)) throw new TsctrError(`source URLs are not supported (${p}): download the file into the build context first`);
    for (const rel of expandSource(tree, p, ignore)) {
      kinds.add(tree.get(rel)!.st.isDirectory() ? 'dir' : 'file');
      count++;
      hashTree(tree, rel, h, ignore);
    }
  }
  const checksum = h.digest('hex');
  kinds = kinds.size > 1 ? new Set(['multi']) : kinds;
  return { tree: { kind: 'dir', root: origin.root }, patterns, checksum, count, describe: `${[...kinds][0]}:${checksum}`, ignore: ignoreText };
}
