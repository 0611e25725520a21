/** Sizes for `system df` and `system prune`. */
export { treeSize } from '../util/tree-size.js';

export interface Row {
  type: string;
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

/** docker's `1.2GB (45%)`: the percentage only when there is something at all. */
export function reclaimText(humanSize: (n: number) => string, r: Row): string {
  return r.size > 0 ? `${humanSize(r.reclaimable)} (${Math.floor((r.reclaimable / r.size) * 100)}%)` : humanSize(r.reclaimable);
}

