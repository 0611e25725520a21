import fs from 'node:fs';
import os from 'node:os';
import { TsctrError } from '../errors.js';

export interface IdRange {
  start: number;
  count: number;
}

/** /etc/subuid lines are `name-or-uid:start:count`; a user may have several ranges. */
export function parseSubIds(text: string, user: string, uid: number): IdRange[] {
  const ranges: IdRange[] = [];
  for (const line of text.split('\n')) {
    const [who, start, count] = line.trim().split(':');
    if (!who || who.startsWith('#') || start === undefined || count === undefined) continue;
    if (who !== user && who !== String(uid)) continue;
    const s = Number(start);
    const c = Number(count);
    if (Number.isInteger(s) && Number.isInteger(c) && c > 0) ranges.push({ start: s, count: c });
  }
  return ranges;
}

export function currentUser(): { name: string; uid: number; gid: number } {
  const info = os.userInfo();
  return { name: info.username, uid: info.uid, gid: info.gid };
}

function read(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The ranges newuidmap/newgidmap will grant; without them a rootless engine cannot own image files. */
export function requireSubIds(): { uids: IdRange[]; gids: IdRange[] } {
  const u = currentUser();
  const uids = parseSubIds(read('/etc/subuid'), u.name, u.uid);
  const gids = parseSubIds(read('/etc/subgid'), u.name, u.uid);
  if (uids.length === 0 || gids.length === 0) {
    const which = uids.length === 0 ? '/etc/subuid' : '/etc/subgid';
    throw new TsctrError(
      `no subordinate id ranges for user "${u.name}" in ${which}; ask an administrator to run: ` +
        `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${u.name}`,
    );
  }
  return { uids, gids };
}

/** 0 → the user, 1.. → the subordinate ranges: "CONTAINER HOST COUNT" lines, the mapping podman uses. */
export function idMaps(): { uid: string[]; gid: string[] } {
  const { uids, gids } = requireSubIds();
  const build = (self: number, ranges: { start: number; count: number }[]) => {
    const out = [`0 ${self} 1`];
    let next = 1;
    for (const r of ranges) {
      out.push(`${next} ${r.start} ${r.count}`);
      next += r.count;
    }
    return out;
  };
  return { uid: build(process.getuid!(), uids), gid: build(process.getgid!(), gids) };
}
