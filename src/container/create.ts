/**
 * The create step's writing half: a checked ContainerSpec becomes a container on disk. Under the
 * store lock it gets its id, its name (claimed there: of two concurrent creates with one name,
 * exactly one wins, and a random name is one no other container has), its directories and its
 * volumes, and its record.
 */
import { containerEvent } from './events.js';
import fs from 'node:fs';
import os from 'node:os';
import { containerPaths, volumePaths } from '../paths.js';
import { getImage, loadImages } from '../image/store.js';
import { ensureDir } from '../util/fsutil.js';
import { assertNameFree, getContainer, loadContainers, newContainerId, updateContainers } from './store.js';
import { randomName } from './names.js';
import { ensureVolume, randomVolumeName, removeVolume } from './volumes.js';
import { removeTreesAsNamespaceRoot } from '../rootless/userns.js';
import { checkSpec, publishesPorts, recordOf } from './container-spec.js';
import { allocateEndpoints, checkEndpointRequest } from '../net/endpoints.js';
import { layersTopFirst } from './layers.js';
import { resolveUser } from './user.js';
import { addedGroups, keepIdFiles } from './run-spec.js';
import { TsctrError } from '../errors.js';
import { log } from '../util/log.js';
import { resolveStorageDriver } from '../store/storage-driver.js';
import type { ContainerRecord, ContainerSpec } from './types.js';
import type { ImageRecord } from '../image/types.js';

export { layersTopFirst } from './layers.js';

/** The image the options name, looked up locally (pulling is the caller's business). */
export function localImage(name: string): ImageRecord | undefined {
  const doc = loadImages();
  try {
    return getImage(doc, name);
  } catch {
    return undefined;
  }
}

export async function writeContainer(spec: ContainerSpec, image: ImageRecord): Promise<ContainerRecord> {
  const id = newContainerId();
  const mounts = spec.mounts.map((m) => (m.type === 'volume' && !m.source ? { ...m, source: randomVolumeName(), anonymous: true } : m));
  // New and empty volumes get the image's content at their mount point, as docker's and podman's first mount does.
  const fresh = mounts.filter((m) => m.type === 'volume' && !m.noCopy && emptyOrMissing(volumePaths.data(m.source)));
  const record = recordOf({ ...spec, mounts }, { id, name: spec.name ?? '', imageId: image.id, created: new Date().toISOString(), storage: idMapped(spec) ? 'fuse-overlayfs' : await resolveStorageDriver() });
  await updateContainers((doc) => {
    if (spec.name) assertNameFree(doc, spec.name);
    else record.name = randomName((n) => Object.values(doc.containers).some((c) => c.name === n));
    // Addresses under the lock: of concurrent runs, none takes an address another record holds.
    if (spec.endpointRequest) record.endpoints = allocateEndpoints(spec.endpointRequest, Object.values(doc.containers), id);
    // The image may have been removed since we looked it up.
    getImage(loadImages(), image.id);
    ensureDir(containerPaths.dir(id));
    ensureDir(containerPaths.upper(id), 0o755);
    fs.chmodSync(containerPaths.upper(id), imageRootMode(image)); // the merged root's mode is the upper dir's
    ensureDir(containerPaths.work(id));
    for (const m of mounts) if (m.type === 'volume') ensureVolume(m.source);
    doc.containers[id] = record;
  });
  containerEvent(record, 'create');
  if (fresh.length) {
    try {
      await (await import('./volume-copy.js')).populateVolumes(layersTopFirst(image), fresh);
    } catch (e) {
      // Nothing of it stays: its record, its directories, the anonymous volumes made for it.
      await updateContainers((doc) => void delete doc.containers[id]);
      removeTreesAsNamespaceRoot(removeContainerDirs(id));
      for (const m of fresh) if (m.anonymous) removeVolume(m.source, true);
      throw e;
    }
  }
  return record;
}

/** What a new container gets before it first runs: keep-id's user in its /etc/passwd. */
function written(record: ContainerRecord, spec: ContainerSpec, image: ImageRecord): ContainerRecord {
  if (spec.usernsMode === 'keep-id') {
    const me = os.userInfo();
    keepIdFiles(containerPaths.upper(record.id), layersTopFirst(image), { uid: me.uid, gid: me.gid, username: me.username, homedir: me.homedir });
  }
  return record;
}

/** --userns keep-id, --uidmap/--gidmap: fuse-overlayfs shows the layers' owners through the maps (spec.ts). */
const idMapped = (spec: ContainerSpec) => !!(spec.usernsMode || spec.uidMap || spec.gidMap);

function emptyOrMissing(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/**
 * The mode of the image's root directory, which the container's root must keep (a 555 root stays
 * 555, as with docker). A layer's directory has the mode of its tar's `./` entry, or 0755 when the
 * tar has none (as layers made by a build usually do: docker then inherits the layer below's): so
 * the topmost root that is not 0755 is the one an image set, and 0755 if none did.
 */
export function imageRootMode(image: ImageRecord): number {
  for (const dir of layersTopFirst(image)) {
    const st = fs.statSync(dir, { throwIfNoEntry: false });
    if (st && (st.mode & 0o7777) !== 0o755) return st.mode & 0o7777;
  }
  return 0o755;
}

export function removeContainerDirs(id: string): string[] {
  return [containerPaths.dir(id), containerPaths.run(id)].filter((d) => fs.existsSync(d));
}

/**
 * A container from a typed spec — from a command line, a Kubernetes YAML, a pod, a build step:
 * checks what only the machine can tell (the pod exists, the user is in the image, bind sources
 * exist, host ports are free), then writes it. Everything is checked before anything is written.
 */
export async function createContainer(spec: ContainerSpec, image: ImageRecord): Promise<ContainerRecord> {
  checkSpec(spec);
  // podman's keep-id: the process (and exec, and health probes) runs as you unless --user says otherwise.
  if (spec.usernsMode === 'keep-id' && !spec.user) spec = { ...spec, user: `${os.userInfo().uid}:${os.userInfo().gid}` };
  if (spec.endpointRequest) checkEndpointRequest(spec.endpointRequest); // the networks exist, --ip fits
  if (spec.pod !== undefined) await joinPod(spec.pod);
  resolveUser(spec.user, layersTopFirst(image)); // an unknown user fails now, not at every start
  addedGroups(spec.groupAdd, layersTopFirst(image)); // and an unknown --group-add
  if (idMapped(spec)) {
    (await import('./spec.js')).containerIdMaps(spec); // and --uidmap/--gidmap outside the user's range
    const { whichOnPath } = await import('../util/host-check.js');
    // The shim looks in these too (mounts.c).
    if (!whichOnPath('fuse-overlayfs', `${process.env.PATH ?? ''}:/usr/bin:/usr/local/bin:/bin`)) {
      throw new TsctrError(`${spec.usernsMode ? `--userns ${spec.usernsMode}` : '--uidmap/--gidmap'} needs fuse-overlayfs (to show the image's files with their owners through the new id maps): install the fuse-overlayfs package`);
    }
  }
  for (const mode of [spec.pidMode, spec.ipcMode]) {
    if (mode?.startsWith('container:')) getContainer(loadContainers(), mode.slice('container:'.length)); // a container that exists
  }
  const { existsSync } = await import('node:fs');
  for (const m of spec.mounts) {
    if (m.type === 'bind' && !existsSync(m.source)) throw new TsctrError(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
  }
  if (spec.portBindings.length && !publishesPorts(spec.network)) {
    log.warn(`published ports are discarded when using ${spec.network} network mode`);
    spec = { ...spec, portBindings: [] };
  }
  // A taken host port is found now, before anything is written (start checks again).
  const fixed = spec.portBindings.filter((b) => b.hostPort !== 0);
  if (fixed.length) await (await import('../net/setup.js')).resolvePorts(fixed);
  if (!spec.containerIdFile) return written(await writeContainer(spec, image), spec, image);
  // --cidfile: claimed (O_EXCL) before the container exists, filled in once it does, gone if it never does.
  const cidFile = spec.containerIdFile;
  let fd: number;
  try {
    fd = fs.openSync(cidFile, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new TsctrError(`Container ID file found, make sure the other container isn't running or delete ${cidFile}`);
    throw new TsctrError(`failed to create the container ID file: ${(e as Error).message}`);
  }
  try {
    const record = written(await writeContainer(spec, image), spec, image);
    fs.writeSync(fd, record.id);
    return record;
  } catch (e) {
    fs.rmSync(cidFile, { force: true });
    throw e;
  } finally {
    fs.closeSync(fd);
  }
}

/** A pod's member needs the pod, and its infra container running: its network namespace is the pod's. */
async function joinPod(pod: string): Promise<void> {
  const { podInfra } = await import('./pods.js');
  const infra = podInfra(pod);
  if (!infra) {
    const { NotFoundError } = await import('../errors.js');
    throw new NotFoundError(`no such pod: ${pod}`);
  }
  const { liveState } = await import('./state.js');
  if (liveState(infra).status !== 'running') {
    const { startContainer } = await import('./launch.js');
    await startContainer(infra.id, { attach: false, interactive: false });
  }
}
