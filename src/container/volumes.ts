/**
 * Named volumes: directories under <data>/volumes/<name>/_data, owned by the user (= root in the
 * container). Anonymous volumes (`-v /path`) get a random name and go with `rm -v`.
 */
import { randomHex } from '../util/random.js';
import fs from 'node:fs';
import path from 'node:path';
import { ConflictError, NotFoundError, TsctrError } from '../errors.js';
import { volumePaths } from '../paths.js';
import { removeTreesAsNamespaceRoot } from '../rootless/userns.js';
import { appendEvent } from '../store/events.js';
import { ensureDir } from '../util/fsutil.js';
import { loadContainers } from './store.js';
import type { ContainerRecord } from './types.js';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export interface VolumeInfo {
  CreatedAt: string;
  Driver: 'local';
  Labels: Record<string, string>;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string>;
  Scope: 'local';
}

export function randomVolumeName(): string {
  return randomHex(32);
}

export function ensureVolume(name: string): string {
  if (!NAME.test(name)) throw new TsctrError(`invalid volume name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  ensureDir(volumePaths.dir(), 0o700);
  const data = volumePaths.data(name);
  if (fs.existsSync(data)) return data;
  ensureDir(data, 0o755);
  appendEvent('volume', 'create', name, { driver: 'local' });
  return data;
}

export function volumeNames(): string[] {
  try {
    return fs.readdirSync(volumePaths.dir()).filter((n) => fs.existsSync(volumePaths.data(n))).sort();
  } catch {
    return [];
  }
}

export function inspectVolume(name: string): VolumeInfo {
  const data = volumePaths.data(name);
  let st: fs.Stats;
  try {
    st = fs.statSync(data);
  } catch {
    throw new NotFoundError(`get ${name}: no such volume`);
  }
  return { CreatedAt: st.birthtime.toISOString(), Driver: 'local', Labels: {}, Mountpoint: data, Name: name, Options: {}, Scope: 'local' };
}

/** Containers (by ID) whose mounts use the volume; pass the containers when asking for many volumes. */
export function volumeUsers(name: string, containers: ContainerRecord[] = Object.values(loadContainers().containers)): string[] {
  return containers
    .filter((c) => c.hostConfig.mounts.some((m) => m.type === 'volume' && m.source === name))
    .map((c) => c.id);
}

export function removeVolume(name: string, force: boolean): void {
  inspectVolume(name);
  const users = volumeUsers(name);
  if (users.length && !force) throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`);
  removeTreesAsNamespaceRoot([path.dirname(volumePaths.data(name))]);
  appendEvent('volume', 'destroy', name, { driver: 'local' });
}
