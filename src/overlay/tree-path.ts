/**
 * A path resolved the way the container would resolve it, inside a Tree (a directory or a stack
 * of layers): symlinks are followed within the tree, an absolute target from the tree's root and
 * `..` never above it, so nothing of the host is ever reached. Each step is one `get` of the tree,
 * which itself opens no name through a symlink (dir-tar.ts).
 */
import fs from 'node:fs';
import { TsctrError } from '../errors.js';
import type { Node, Tree } from './dir-tar.js';

const MAX_LINKS = 40; // Linux's limit

/** The path's place in the tree ('' is the root); `followLast` also resolves a final symlink. */
export function resolveInTree(tree: Tree, p: string, followLast = true): { rel: string; node: Node | undefined } {
  const todo = p.split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (todo.length) {
    const name = todo.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      done.pop();
      continue;
    }
    const rel = [...done, name].join('/');
    const node = tree.get(rel);
    if (node?.st.isSymbolicLink() && (todo.length > 0 || followLast)) {
      if (++hops > MAX_LINKS) throw new TsctrError(`${p}: too many levels of symbolic links`);
      let target: string;
      try {
        target = fs.readlinkSync(node.abs);
      } catch {
        done.push(name);
        continue;
      }
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    done.push(name);
  }
  const rel = done.join('/');
  return { rel, node: tree.get(rel) };
}
