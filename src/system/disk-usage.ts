/** Sizes for `system df` and `system prune`. */
/**
 * Apparent size of a tree, by lstat (symlinks and hard links counted as docker's du does, once per
 * entry). Container upper dirs hold files of subordinate uids: what we cannot read, we skip.
 */
export async function treeSize(dir: string): Promise<number> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  let total = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      const p = path.join(d, n);
      try {
        const st = fs.lstatSync(p);
        if (st.isDirectory()) stack.push(p);
        else total += st.size;
      } catch {
        /* EACCES, or gone meanwhile */
      }
    }
  }
  return total;
}

export interface Row {
  type: string;
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}
