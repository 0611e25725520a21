/**
 * Reading a file as the container would see it, before it runs: through the stack of layer
 * directories (topmost first), honouring whiteouts. Used for /etc/passwd and /etc/group.
 */
import fs from 'node:fs';
import path from 'node:path';

export function readLayeredFile(layersTopFirst: string[], rel: string): string | undefined {
  for (const dir of layersTopFirst) {
    const p = path.join(dir, rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      continue;
    }
    if (st.isCharacterDevice() && st.rdev === 0) return undefined; // whiteout: deleted above
    if (!st.isFile()) return undefined;
    try {
      return fs.readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export function parsePasswd(text: string | undefined): PasswdEntry[] {
  return (text ?? '')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 7)
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }));
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export function parseGroup(text: string | undefined): GroupEntry[] {
  return (text ?? '')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4)
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: f[3] ? f[3].split(',') : [] }));
}
