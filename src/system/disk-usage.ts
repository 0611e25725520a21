/** Sizes for `system df` and `system prune`. */
export { treeSize } from '../util/tree-size.js';

export interface Row {
  type: string;
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}
