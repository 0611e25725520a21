/**
 * Which filesystem builds a container's root: kernel overlayfs (mounted inside the user namespace,
 * fast) or fuse-overlayfs (a userspace process per container, for kernels or filesystems where the
 * former does not work). Chosen at create time and kept in the container's record.
 *
 * Asked for, first one wins: `--storage-driver`, $TSCTR_STORAGE_DRIVER, `driver` in the [storage]
 * table of ~/.config/tsctr/storage.conf (podman's format; podman's own file is not read: its
 * choice is made for podman's store). Otherwise probed once per store and kernel, and remembered.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, TsctrError } from '../errors.js';
import { configHome, dataRoot, globals } from '../paths.js';
import { ensureDir } from '../util/fsutil.js';
import { log } from '../util/log.js';
import { readJson, SCHEMA_VERSION, writeJson } from './json-store.js';

export const STORAGE_DRIVERS = ['overlay', 'fuse-overlayfs'] as const;
export type StorageDriver = (typeof STORAGE_DRIVERS)[number];

const isStorageDriver = (v: unknown): v is StorageDriver => (STORAGE_DRIVERS as readonly unknown[]).includes(v);

export function parseStorageDriver(value: string, from: string): StorageDriver {
  if (isStorageDriver(value)) return value;
  throw new TsctrError(`unknown storage driver "${value}" (${from}): use ${STORAGE_DRIVERS.join(' or ')}`);
}

async function configuredDriver(): Promise<StorageDriver | undefined> {
  const file = path.join(configHome(), 'tsctr', 'storage.conf');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const { parse } = await import('smol-toml');
  let doc: Record<string, unknown>;
  try {
    doc = parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const driver = (doc.storage as Record<string, unknown> | undefined)?.driver;
  if (driver === undefined || driver === '') return undefined;
  if (typeof driver !== 'string') throw new ConfigError(`${file}: storage.driver must be a string`);
  return parseStorageDriver(driver, `driver in ${file}`);
}

interface ProbeDoc {
  schemaVersion: number;
  driver: StorageDriver;
  /** The answer holds for this kernel; another one is probed again. */
  kernel: string;
}

const probeFile = () => path.join(dataRoot(), 'storage-driver.json');

/** Kernel overlay if it mounts in a user namespace here, else fuse-overlayfs if usable. */
async function probeDriver(): Promise<StorageDriver> {
  const { fuseOverlayCheck, kernelOverlayCheck } = await import('./overlay-probe.js');
  const overlay = kernelOverlayCheck();
  if (overlay.ok) return 'overlay';
  const fuse = fuseOverlayCheck();
  if (fuse.ok) {
    log.info(`kernel overlay unusable (${overlay.detail}): using fuse-overlayfs`);
    return 'fuse-overlayfs';
  }
  const fixes = [overlay.fix, fuse.fix].filter(Boolean).join('; or: ');
  throw new TsctrError(`no storage driver works here: ${overlay.detail}; and fuse-overlayfs: ${fuse.detail}${fixes ? ` (fix: ${fixes})` : ''}`);
}

/** Only a cache: unreadable or from another tsctr, it is probed again. */
function remembered(kernel: string): StorageDriver | undefined {
  try {
    const seen = readJson<Partial<ProbeDoc> & { schemaVersion: number }>(probeFile(), () => ({ schemaVersion: SCHEMA_VERSION }));
    return seen.kernel === kernel && isStorageDriver(seen.driver) ? seen.driver : undefined;
  } catch {
    return undefined;
  }
}

async function rememberedOrProbed(): Promise<StorageDriver> {
  const kernel = os.release();
  const known = remembered(kernel);
  if (known) return known;
  const driver = await probeDriver();
  ensureDir(dataRoot());
  // Two concurrent first runs may both probe: the same answer, each written whole.
  const doc: ProbeDoc = { schemaVersion: SCHEMA_VERSION, driver, kernel };
  writeJson(probeFile(), doc);
  return driver;
}

export async function resolveStorageDriver(): Promise<StorageDriver> {
  if (globals.storageDriver) return parseStorageDriver(globals.storageDriver, '--storage-driver');
  const env = process.env.TSCTR_STORAGE_DRIVER;
  if (env) return parseStorageDriver(env, 'TSCTR_STORAGE_DRIVER');
  return (await configuredDriver()) ?? rememberedOrProbed();
}
