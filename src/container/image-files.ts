/**
 * Reading a file as the container would see it, before it runs: through the stack of layer
 * directories (topmost first), honouring whiteouts. Used for /etc/passwd and /etc/group.
 */
import fs from 'node:fs';
import path from 'node:path';
import { storePaths } from '../paths.js';

/** What one layer holds at a path: its text, STOP (deleted or not a file there), or absent (undefined). */
const STOP = Symbol('stop');
type Lookup = string | typeof STOP | undefined;

function lookup(dir: string, rel: string): Lookup {
  const p = path.join(dir, rel);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return undefined;
  }
  if (st.isCharacterDevice() && st.rdev === 0) return STOP; // whiteout: deleted above
  if (!st.isFile()) return STOP;
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return STOP;
  }
}

/** Stored image layers never change: what they hold is looked up once per process (run reads /etc/passwd at create and at start). */
const imageLayerLookups = new Map<string, Lookup>();

export function readLayeredFile(layersTopFirst: string[], rel: string): string | undefined {
  const imageLayers = `${storePaths.layers()}/`;
  for (const dir of layersTopFirst) {
    let found: Lookup;
    if (dir.startsWith(imageLayers)) {
      const key = `${dir}\0${rel}`;
      found = imageLayerLookups.has(key) ? imageLayerLookups.get(key) : lookup(dir, rel);
      imageLayerLookups.set(key, found);
    } else {
      found = lookup(dir, rel);
    }
    if (found === STOP) return undefined;
    if (found !== undefined) return found;
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
