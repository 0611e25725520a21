/**
 * From a parsed `run`/`create` command line and the image's configuration to a ContainerSpec:
 * docker's override rules and every check of the flags, as a pure function — it reads no file,
 * no store, no clock and no random source (the host it needs is passed in as a HostView), so it is
 * tested without a disk and bad input is refused before anything is written. What needs the store
 * or chance (the id, a random name, anonymous volumes' names) is the create step's (engine/create.ts).
 */
import { TsctrError } from '../errors.js';
import {
  effectiveCaps, mergeEnv, parseEnv, parseLabels, parseMount, parseNetwork, parsePorts, parseResources, parseRestart,
  parseTmpfs, parseUlimit, parseVolume, refuseKernelDestination, VOLUME_NAME, type CreateOptions, type HostView,
} from './options.js';
import { parseSecurityOpts } from './security.js';
import path from 'node:path';
import { parseLogOpts, type LogConfig } from './log-config.js';
import {
  checkDetachKeys, parseBoolFlag, parseDevices, parseGroupAdd, parseLabelFiles, parseLogDriver, parseMoreResources, parseNamespaceModes,
  parseOomScoreAdj, parseShmSize, parseSysctls, parseUserns, PROXY_VARS,
} from './run-flags.js';
import { signalNumber } from './signals.js';
import { validName } from './store.js';
import { POD_LABEL, infraName } from './pods.js';
import { checkEndpointFlags, splitNetworkValues } from '../net/endpoints.js';
import { parseDnsConfig } from '../net/dns-options.js';
import { resolveHealthcheck, type Healthcheck } from './health.js';
import type { ContainerRecord, ContainerSpec, HostConfig, PortBinding } from './types.js';
import type { ContainerConfig as ImageRunConfig } from '../image/types.js';

/** docker's PATH for images that set none. */
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** tsctr-ports holds one host socket per port and address family; the shim has room for 512. */
const MAX_PORTS = 256;

/** A bare `run IMAGE`: the image's own command, environment, user, directory, labels and stop signal. */
export function imageDefaults(image: string, img: ImageRunConfig): ContainerSpec {
  return {
    image,
    entrypoint: img.Entrypoint?.length ? img.Entrypoint : null,
    cmd: img.Cmd?.length ? img.Cmd : null,
    env: mergeEnv([DEFAULT_PATH, ...(img.Env ?? [])], []),
    workingDir: img.WorkingDir || '/',
    user: img.User ?? '',
    labels: { ...(img.Labels ?? {}) },
    stopSignal: img.StopSignal ?? 'SIGTERM',
    stopTimeout: 10,
    tty: false,
    openStdin: false,
    exposedPorts: Object.keys(img.ExposedPorts ?? {}),
    mounts: [],
    readOnly: false,
    init: false,
    ulimits: [],
    restart: { name: 'no', maxRetries: 0 },
    autoRemove: false,
    network: 'default',
    portBindings: [],
    memory: 0,
    nanoCpus: 0,
    pidsLimit: 0,
    capAdd: [],
    capDrop: [],
    securityOpt: [],
    privileged: false,
  };
}

export function buildContainerSpec(o: CreateOptions, img: ImageRunConfig, host: HostView): ContainerSpec {
  if (o.name !== undefined && !validName(o.name)) {
    throw new TsctrError(`Invalid container name (${o.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  const labels = parseLabels([...parseLabelFiles(o.labelFile, host.readFile), ...o.label]);
  let net = splitNetworkValues(o.network);
  if (o.pod !== undefined) {
    // A pod's member uses the pod's network and published ports; the pod itself is checked when created.
    if (o.publish.length || o.publishAll) throw new TsctrError('published ports belong to the pod: give them to pod create, not to the container');
    const podNetwork = `container:${infraName(o.pod)}`;
    const given = o.network.find((n) => n !== podNetwork);
    if (given) throw new TsctrError(`a container of pod ${o.pod} uses the pod's network; --network ${given} conflicts`);
    net = { mode: podNetwork, networks: [] };
    labels[POD_LABEL] = o.pod;
  }
  // User networks: whether they exist and --ip fits is the create step's (it reads the network store).
  const endpointRequest = { networks: net.networks, aliases: o.networkAlias, ...(o.ip !== undefined ? { ip: o.ip } : {}), ...(o.macAddress !== undefined ? { mac: o.macAddress } : {}) };
  checkEndpointFlags(endpointRequest);
  const dnsConfig = parseDnsConfig(o);
  if (o.detach && o.rm && o.restart && o.restart !== 'no') {
    throw new TsctrError('Conflicting options: --restart and --rm');
  }
  const base = imageDefaults(o.image, img);
  // docker: --entrypoint replaces the image's Entrypoint and drops its Cmd; a trailing command replaces Cmd.
  const entrypoint = o.entrypoint !== undefined ? (o.entrypoint === '' ? [] : [o.entrypoint]) : (img.Entrypoint ?? []);
  const cmd = o.command.length ? o.command : o.entrypoint !== undefined ? [] : (img.Cmd ?? []);
  if (entrypoint.length + cmd.length === 0) throw new TsctrError('no command specified', 125);

  const proxies = parseBoolFlag(o.httpProxy, '--http-proxy', true) ? PROXY_VARS.filter((k) => host.env[k] !== undefined).map((k) => `${k}=${host.env[k]}`) : [];
  const env = mergeEnv(base.env, [...proxies, ...parseEnv(o.env, o.envFile, host, o.envHost)]);
  const mounts = [...o.volume.map((v) => parseVolume(v, host)), ...o.tmpfs.map(parseTmpfs), ...o.mount.map((m) => parseMount(m, host))].map((m) =>
    m.type === 'volume' && !m.source ? { ...m, anonymous: true } : m,
  );
  if (o.stopSignal !== undefined) signalNumber(o.stopSignal); // a name the kernel knows, now rather than at stop
  const resources = parseResources(o);
  const more = moreHostConfig(o, host, parseNetwork(net.mode ?? net.networks[0]), resources.memory);
  if (more.usernsMode || more.uidMap || more.gidMap) {
    // These join a user namespace that already exists (another container's, or the user networks' holder's), with its maps.
    const joins = net.networks.length ? `--network ${net.networks[0]}` : net.mode?.startsWith('container:') ? `--network ${net.mode}` : more.pidMode?.startsWith('container:') ? `--pid ${more.pidMode}` : more.ipcMode?.startsWith('container:') ? `--ipc ${more.ipcMode}` : undefined;
    if (joins) throw new TsctrError(`${more.usernsMode ? `--userns ${more.usernsMode}` : '--uidmap/--gidmap'} cannot be used with ${joins}: the container joins a user namespace that exists already, with its own id maps`);
  }
  const ulimits = o.ulimit.map(parseUlimit);
  const restart = parseRestart(o.restart);
  const portBindings = [...parsePorts(o.publish), ...(o.publishAll ? exposedBindings(img) : [])];
  checkPortCount(portBindings);
  const spec: ContainerSpec = {
    ...base,
    ...(o.name !== undefined ? { name: o.name } : {}),
    ...(o.hostname !== undefined ? { hostname: o.hostname } : {}),
    ...(o.pod !== undefined ? { pod: o.pod } : {}),
    entrypoint: entrypoint.length ? entrypoint : null,
    cmd: cmd.length ? cmd : null,
    env,
    workingDir: o.workdir ?? base.workingDir,
    user: o.user ?? base.user,
    labels: { ...base.labels, ...labels },
    stopSignal: o.stopSignal ?? base.stopSignal,
    stopTimeout: parseStopTimeout(o.stopTimeout),
    tty: o.tty,
    openStdin: o.interactive,
    mounts,
    readOnly: o.readOnly,
    init: o.init,
    ulimits,
    restart,
    autoRemove: o.rm,
    network: parseNetwork(net.mode ?? net.networks[0]),
    ...(net.networks.length ? { endpointRequest } : {}),
    ...(dnsConfig ? { dnsConfig } : {}),
    ...healthcheckOf(o, img),
    portBindings,
    ...resources,
    capAdd: o.capAdd,
    capDrop: o.capDrop,
    securityOpt: parseSecurityOpts(o.securityOpt),
    ...logConfigOf(o),
    ...more,
    privileged: o.privileged,
  };
  effectiveCaps(o.capAdd, o.capDrop); // validates the names now rather than at start
  checkSpec(spec);
  return spec;
}

/** --log-driver and --log-opt: stored only when given (the default cap otherwise). */
function logConfigOf(o: CreateOptions): { logConfig?: LogConfig } {
  const driver = parseLogDriver(o.logDriver);
  if (!o.logOpt.length && !driver) return {};
  const lc = o.logOpt.length ? parseLogOpts(o.logOpt) : { type: 'k8s-file' as const, config: {} };
  return { logConfig: { ...lc, type: driver ?? lc.type } };
}

/** The flags of run-flags.ts, each in the spec only when given. */
function moreHostConfig(o: CreateOptions, host: HostView, network: string, memory: number): Partial<HostConfig> {
  checkDetachKeys(o.detachKeys);
  const ns = parseNamespaceModes(o);
  const shmSize = parseShmSize(o.shmSize);
  const sysctls = parseSysctls(o.sysctl, { network, ...ns });
  const groupAdd = parseGroupAdd(o.groupAdd);
  const devices = parseDevices(o.device, host.device);
  const oomScoreAdj = parseOomScoreAdj(o.oomScoreAdj);
  if (ns.utsMode === 'host' && o.hostname !== undefined) throw new TsctrError('Conflicting options: hostname and the UTS mode');
  if (ns.ipcMode === 'host' && shmSize !== undefined) throw new TsctrError('--shm-size cannot be used with --ipc host: /dev/shm is the host\'s');
  if (o.cidfile === '') throw new TsctrError('invalid argument "" for "--cidfile" flag: the file name is empty');
  return {
    ...parseUserns(o.userns, o.uidmap, o.gidmap),
    ...ns,
    ...(shmSize !== undefined ? { shmSize } : {}),
    ...(sysctls ? { sysctls } : {}),
    ...(groupAdd ? { groupAdd } : {}),
    ...(devices ? { devices } : {}),
    ...(oomScoreAdj !== undefined ? { oomScoreAdj } : {}),
    ...parseMoreResources(o, memory),
    ...(o.cidfile !== undefined ? { containerIdFile: path.resolve(host.cwd, o.cidfile) } : {}),
  };
}

/** docker's: the run flags over the image's HEALTHCHECK; none when neither has a test. */
function healthcheckOf(o: CreateOptions, img: ImageRunConfig): { healthcheck?: Healthcheck } {
  const flags = {
    cmd: o.healthCmd, interval: o.healthInterval, timeout: o.healthTimeout, retries: o.healthRetries,
    startPeriod: o.healthStartPeriod, startInterval: o.healthStartInterval, none: o.noHealthcheck || undefined,
  };
  const hc = resolveHealthcheck(flags, img.Healthcheck);
  return hc ? { healthcheck: hc } : {};
}

/** -P: every port the image exposes, on a random host port. */
function exposedBindings(img: ImageRunConfig): PortBinding[] {
  return Object.keys(img.ExposedPorts ?? {}).map((p) => {
    const [port, proto] = p.split('/');
    return { hostIp: '', hostPort: 0, containerPort: Number(port), protocol: proto === 'udp' ? 'udp' : 'tcp' };
  });
}

function parseStopTimeout(value: string | undefined): number {
  if (value === undefined) return 10;
  const n = Number(value);
  if (!Number.isInteger(n) || n < -1) throw new TsctrError(`invalid --stop-timeout ${n}`);
  return n;
}

function checkPortCount(bindings: PortBinding[]): void {
  if (bindings.length > MAX_PORTS) {
    throw new TsctrError(`too many published ports (${bindings.length}): tsctr publishes at most ${MAX_PORTS} per container (each on IPv4 and IPv6)`);
  }
}

/**
 * What holds for every spec, however it was made (flags, kube YAML, a pod, a build step): the
 * flags' parsers check the same on their way, this is for the engine's typed callers.
 */
export function checkSpec(spec: ContainerSpec): void {
  if (spec.name !== undefined && !validName(spec.name)) {
    throw new TsctrError(`Invalid container name (${spec.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  if (!spec.entrypoint?.length && !spec.cmd?.length) throw new TsctrError('no command specified', 125);
  for (const m of spec.mounts) {
    if (!m.destination.startsWith('/')) throw new TsctrError(`invalid mount destination '${m.destination}': it must be an absolute path`);
    refuseKernelDestination(`${m.source}:${m.destination}`, m.destination);
    if (m.type === 'volume' && m.source && !VOLUME_NAME.test(m.source)) throw new TsctrError(`invalid volume name "${m.source}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (m.type === 'bind' && !m.source.startsWith('/')) throw new TsctrError(`invalid bind source '${m.source}': it must be an absolute path`);
  }
  if (spec.memory && spec.memory < 6 * 1024 * 1024) throw new TsctrError('Minimum memory limit allowed is 6MB');
  effectiveCaps(spec.capAdd, spec.capDrop);
  // Not the stop signal: an image's may be one signals.ts has no name for (SIGRTMIN+3), and refusing it would refuse the image.
  checkPortCount(spec.portBindings);
  if (!spec.workingDir.startsWith('/')) throw new TsctrError(`the working directory '${spec.workingDir}' is invalid, it needs to be an absolute path`);
  if (!Number.isInteger(spec.stopTimeout) || spec.stopTimeout < -1) throw new TsctrError(`invalid --stop-timeout ${spec.stopTimeout}`);
}

/** Network modes whose ports are not the container's own to publish. */
export function publishesPorts(network: string): boolean {
  return !(network === 'none' || network === 'host' || network.startsWith('container:'));
}

/** What the create step decided, for the record. */
export interface Materialised {
  id: string;
  name: string;
  imageId: string;
  created: string;
  storage: ContainerRecord['storage'];
}

/** The stored record of a spec: the spec's docker-like fields in docker's Config/HostConfig split. */
export function recordOf(spec: ContainerSpec, m: Materialised): ContainerRecord {
  const { name: _name, hostname, pod: _pod, endpointRequest: _endpoints, createCommand, image, entrypoint, cmd, env, workingDir, user, labels, stopSignal, stopTimeout, tty, openStdin, exposedPorts, healthcheck, ...hostConfig } = spec;
  const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
  return {
    id: m.id,
    name: m.name,
    imageId: m.imageId,
    created: m.created,
    path: argv[0]!,
    args: argv.slice(1),
    config: {
      image, entrypoint, cmd, env, workingDir, user, hostname: hostname ?? m.id.slice(0, 12), labels, stopSignal, stopTimeout, tty, openStdin, exposedPorts,
      ...(healthcheck ? { healthcheck } : {}),
    },
    hostConfig,
    storage: m.storage,
    ...(createCommand ? { createCommand } : {}),
  };
}
