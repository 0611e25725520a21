/**
 * Ids as root of the user namespace sees them (0 → the user, 1.. → the subordinate ranges, see
 * userns-ops.ts), for what this process reads outside it: a layer read here must carry the ids it
 * would carry read in there.
 */
import { requireSubIds, type IdRange } from './subids.js';

/** What the kernel shows for an id the namespace does not map. */
const OVERFLOW = 65534;

/** Host id → namespace id for a namespace mapping 0 → self and 1.. → ranges, in order. */
export function idMapper(self: number, ranges: IdRange[]): (host: number) => number {
  return (host) => {
    if (host === self) return 0;
    let next = 1;
    for (const r of ranges) {
      if (host >= r.start && host < r.start + r.count) return next + host - r.start;
      next += r.count;
    }
    return OVERFLOW;
  };
}

let cached: { uid: (host: number) => number; gid: (host: number) => number } | null | undefined;

/** Host ids → namespace ids; undefined for real root, who sees the ids as they are. */
export function namespaceIds(): { uid: (host: number) => number; gid: (host: number) => number } | undefined {
  if (cached === undefined) {
    if (process.getuid?.() === 0) cached = null;
    else {
      const { uids, gids } = requireSubIds();
      cached = { uid: idMapper(process.getuid!(), uids), gid: idMapper(process.getgid!(), gids) };
    }
  }
  return cached ?? undefined;
}

const VFS_CAP_REVISION_2 = 0x02000000;
const VFS_CAP_REVISION_3 = 0x03000000;
const VFS_CAP_REVISION_MASK = 0xff000000;

/**
 * security.capability as read in the namespace. Read from outside, the kernel gives a
 * namespaced capability as v3 with its root's host uid; in the namespace whose root that is, it
 * gives v2. Other rootids are translated like file owners.
 */
export function capabilityInNamespace(value: Buffer, ids = namespaceIds()): Buffer {
  if (!ids || value.length !== 24 || (value.readUInt32LE(0) & VFS_CAP_REVISION_MASK) >>> 0 !== VFS_CAP_REVISION_3) return value;
  const rootid = ids.uid(value.readUInt32LE(20));
  const flags = value.readUInt32LE(0) & ~VFS_CAP_REVISION_MASK;
  if (rootid === 0) {
    const v2 = Buffer.from(value.subarray(0, 20));
    v2.writeUInt32LE((VFS_CAP_REVISION_2 | flags) >>> 0, 0);
    return v2;
  }
  const v3 = Buffer.from(value);
  v3.writeUInt32LE(rootid, 20);
  return v3;
}
