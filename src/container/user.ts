import { TsctrError } from '../errors.js';
import { parseGroup, parsePasswd, readLayeredFile } from './image-files.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  groups: number[];
  home: string;
}

/**
 * docker's `-u name|uid[:group|gid]`: names are looked up in the container's /etc/passwd and
 * /etc/group; a numeric uid need not exist there. Supplementary groups come from /etc/group.
 */
export function resolveUser(spec: string, layersTopFirst: string[]): ResolvedUser {
  const passwd = parsePasswd(readLayeredFile(layersTopFirst, 'etc/passwd'));
  const groups = parseGroup(readLayeredFile(layersTopFirst, 'etc/group'));
  const [userPart = '', groupPart] = (spec || '0').split(':');
  let uid: number;
  let gid: number;
  let home = '/';
  let name: string | undefined;
  if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    const e = passwd.find((p) => p.uid === uid);
    gid = e?.gid ?? 0;
    home = e?.home ?? '/';
    name = e?.name;
  } else {
    const e = passwd.find((p) => p.name === userPart);
    if (!e) throw new TsctrError(`unable to find user ${userPart}: no matching entries in passwd file`);
    ({ uid, gid, home, name } = e);
  }
  if (groupPart !== undefined) {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw new TsctrError(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  if (uid > 65535 || gid > 65535) throw new TsctrError(`user ${spec} is outside the ${65536} ids mapped into the container`);
  const extra = name ? groups.filter((g) => g.members.includes(name!) && g.gid !== gid).map((g) => g.gid) : [];
  return { uid, gid, groups: [...new Set([gid, ...extra])], home };
}
