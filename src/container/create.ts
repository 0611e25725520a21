/**
 * `create` (and the first half of `run`): resolve the image and docker's override rules into a
 * container record, then claim the name and make the container's directories under the store lock.
 * Everything is validated before anything is written, so bad input changes nothing.
 */
import fs from 'node:fs';
import { TsctrError } from '../errors.js';
import { containerPaths, storePaths } from '../paths.js';
import { getImage, loadImages, readImageConfig } from '../image/store.js';
import { ensureDir } from '../util/fsutil.js';
import { resolvePorts } from '../net/setup.js';
import { log } from '../util/log.js';
import { assertNameFree, newContainerId, updateContainers, validName } from './store.js';
import { randomName } from './names.js';
import { ensureVolume, randomVolumeName } from './volumes.js';
import { compactOptions } from './run-args.js';
import { resolveUser } from './user.js';
import { parseSecurityOpts } from './security.js';
import { parseLogOpts } from './log-config.js';
import { signalNumber } from './signals.js';
import { resolveStorageDriver } from '../store/storage-driver.js';
import { resolveHealthcheck, type Healthcheck } from './health.js';
import {
  effectiveCaps, mergeEnv, parseEnv, parseLabels, parseNetwork, parsePorts, parseResources, parseRestart,
  parseMount, parseTmpfs, parseUlimit, parseVolume, type RunOptions,
} from './options.js';
import type { ContainerRecord, HostConfig } from './types.js';
import type { ImageRecord } from '../image/types.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function layersTopFirst(image: ImageRecord): string[] {
  return [...image.layers].reverse().map((d) => storePaths.layer(d));
}

/** The image the options name, looked up locally (pulling is the caller's business). */
export function localImage(name: string): ImageRecord | undefined {
  const doc = loadImages();
  try {
    return getImage(doc, name);
  } catch {
    return undefined;
  }
}

export async function createContainer(o: RunOptions, image: ImageRecord): Promise<ContainerRecord> {
  if (o.name !== undefined && !validName(o.name)) {
    throw new TsctrError(`Invalid container name (${o.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  if (o.pod) await (await import('../kube/pod.js')).joinPod(o, o.pod);
  if (o.detach && o.rm && o.restart && o.restart !== 'no') {
    throw new TsctrError('Conflicting options: --restart and --rm');
  }
  const imgConfig = readImageConfig(image).config ?? {};
  // docker: --entrypoint replaces the image's Entrypoint and drops its Cmd; a trailing command replaces Cmd.
  const entrypoint = o.entrypoint !== undefined ? (o.entrypoint === '' ? [] : [o.entrypoint]) : (imgConfig.Entrypoint ?? []);
  const cmd = o.command.length ? o.command : o.entrypoint !== undefined ? [] : (imgConfig.Cmd ?? []);
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) throw new TsctrError('no command specified', 125);

  const userSpec = o.user ?? imgConfig.User ?? '';
  resolveUser(userSpec, layersTopFirst(image)); // an unknown user fails now, not at every start
  const env = mergeEnv([DEFAULT_PATH, ...(imgConfig.Env ?? [])], parseEnv(o.env, o.envFile));
  const mounts = [...o.volumes.map(parseVolume), ...o.tmpfs.map(parseTmpfs), ...(o.mounts ?? []).map(parseMount)].map((m) =>
    m.type === 'volume' && !m.source ? { ...m, source: randomVolumeName(), anonymous: true } : m,
  );
  if (o.stopSignal !== undefined) signalNumber(o.stopSignal); // a name the kernel knows, now rather than at stop
  const resources = parseResources(o);
  const hostConfig: HostConfig = {
    mounts,
    readOnly: o.readOnly,
    init: o.init,
    ulimits: o.ulimits.map(parseUlimit),
    restart: parseRestart(o.restart),
    autoRemove: o.rm,
    network: parseNetwork(o.network),
    portBindings: limitPorts(parsePorts(o.publish)),
    ...resources,
    capAdd: o.capAdd,
    capDrop: o.capDrop,
    securityOpt: parseSecurityOpts(o.securityOpt),
    ...(o.logOpt?.length ? { logConfig: parseLogOpts(o.logOpt) } : {}),
    privileged: false,
  };
  effectiveCaps(o.capAdd, o.capDrop); // validates the names now rather than at start
  if (o.publishAll) {
    for (const p of Object.keys(imgConfig.ExposedPorts ?? {})) {
      const [port, proto] = p.split('/');
      hostConfig.portBindings.push({ hostIp: '', hostPort: 0, containerPort: Number(port), protocol: proto === 'udp' ? 'udp' : 'tcp' });
    }
  }
  if (hostConfig.portBindings.length && (hostConfig.network === 'none' || hostConfig.network === 'host' || hostConfig.network.startsWith('container:'))) {
    log.warn(`published ports are discarded when using ${hostConfig.network} network mode`);
    hostConfig.portBindings = [];
  }
  // A taken host port is found now, before anything is written (start checks again).
  await resolvePorts(hostConfig.portBindings.filter((b) => b.hostPort !== 0));
  const stopTimeout = o.stopTimeout ?? 10;
  if (!Number.isInteger(stopTimeout) || stopTimeout < -1) throw new TsctrError(`invalid --stop-timeout ${o.stopTimeout}`);

  const id = newContainerId();
  const record: ContainerRecord = {
    id,
    name: o.name ?? '',
    imageId: image.id,
    created: new Date().toISOString(),
    path: argv[0]!,
    args: argv.slice(1),
    config: {
      image: o.image,
      entrypoint: entrypoint.length ? entrypoint : null,
      cmd: cmd.length ? cmd : null,
      env,
      workingDir: o.workdir ?? (imgConfig.WorkingDir || '/'),
      user: userSpec,
      hostname: o.hostname ?? id.slice(0, 12),
      labels: { ...(imgConfig.Labels ?? {}), ...parseLabels(o.labels) },
      stopSignal: o.stopSignal ?? imgConfig.StopSignal ?? 'SIGTERM',
      stopTimeout,
      tty: o.tty,
      openStdin: o.interactive,
      exposedPorts: Object.keys(imgConfig.ExposedPorts ?? {}),
      ...healthcheckOf(resolveHealthcheck(o.health, imgConfig.Healthcheck)),
    },
    hostConfig,
    storage: await resolveStorageDriver(),
    createOptions: compactOptions(o),
  };
  if (!record.config.workingDir.startsWith('/')) throw new TsctrError(`the working directory '${record.config.workingDir}' is invalid, it needs to be an absolute path`);

  await updateContainers((doc) => {
    // The name is claimed under the lock: of two concurrent runs with one name, exactly one wins.
    if (o.name) assertNameFree(doc, o.name);
    else record.name = randomName((n) => Object.values(doc.containers).some((c) => c.name === n));
    // The image may have been removed since we looked it up.
    getImage(loadImages(), image.id);
    ensureDir(containerPaths.dir(id));
    ensureDir(containerPaths.upper(id), 0o755);
    ensureDir(containerPaths.work(id));
    for (const m of mounts) if (m.type === 'volume') ensureVolume(m.source);
    doc.containers[id] = record;
  });
  return record;
}

const healthcheckOf = (hc: Healthcheck | undefined) => (hc ? { healthcheck: hc } : {});

export function removeContainerDirs(id: string): string[] {
  return [containerPaths.dir(id), containerPaths.run(id)].filter((d) => fs.existsSync(d));
}

/** tsctr-ports holds one host socket per port and address family; the shim has room for 512. */
function limitPorts(bindings: ReturnType<typeof parsePorts>): ReturnType<typeof parsePorts> {
  if (bindings.length > 256) throw new TsctrError(`too many published ports (${bindings.length}): tsctr publishes at most 256 per container (each on IPv4 and IPv6)`);
  return bindings;
}
