/** What tsctr remembers about a container (containers.json); live state comes from the monitor's files. */
import type { StorageDriver } from '../store/storage-driver.js';

import type { DnsConfig, Endpoint, PortBinding } from '../net/types.js';
import type { EndpointRequest } from '../net/endpoints.js';
export type { Endpoint, PortBinding } from '../net/types.js';

/** docker's Config.Healthcheck: durations in nanoseconds, 0 = the default. */
export interface Healthcheck {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface MountSpec {
  type: 'bind' | 'volume' | 'tmpfs';
  source: string; // host path, volume name, or '' for tmpfs
  destination: string;
  readOnly: boolean;
  options?: string; // tmpfs data
  /** A volume named by tsctr for `-v /path`, removed with the container by `rm -v`. */
  anonymous?: boolean;
  /** `-v name:/dst:nocopy`, `--mount ...,volume-nocopy`: a new volume starts empty (no copy-up). */
  noCopy?: boolean;
}

export interface ContainerConfig {
  image: string; // as the user named it
  entrypoint: string[] | null;
  cmd: string[] | null;
  env: string[];
  workingDir: string;
  user: string;
  hostname: string;
  labels: Record<string, string>;
  stopSignal: string;
  stopTimeout: number;
  tty: boolean;
  openStdin: boolean;
  exposedPorts: string[];
  /** docker's Config.Healthcheck: the image's HEALTHCHECK with the run flags over it (health.ts). */
  healthcheck?: Healthcheck;
}

export interface HostConfig {
  mounts: MountSpec[];
  readOnly: boolean;
  init: boolean;
  ulimits: { name: string; soft: number; hard: number }[];
  restart: { name: 'no' | 'always' | 'on-failure' | 'unless-stopped'; maxRetries: number };
  autoRemove: boolean;
  network: string; // default | pasta | slirp4netns | none | host | container:NAME | a user network's name (the first)
  portBindings: PortBinding[];
  memory: number;
  nanoCpus: number;
  pidsLimit: number;
  capAdd: string[];
  capDrop: string[];
  /** --security-opt as given (absent in records made before it existed). */
  securityOpt?: string[];
  privileged: boolean;
  /** --log-opt (absent in records made before it existed: the default cap). */
  logConfig?: LogConfig;
  /** --dns, --dns-search, --dns-option, --add-host (absent: none given). */
  dnsConfig?: DnsConfig;
  /** The rest of docker's run flags (run-flags.ts); each absent when not given, as in older records. */
  shmSize?: number;
  sysctls?: Record<string, string>;
  groupAdd?: string[];
  devices?: DeviceMapping[];
  /** '' (a user namespace of its own), keep-id; uidMap/gidMap: podman's CONTAINER:HOST:COUNT over the user's range. */
  usernsMode?: string;
  uidMap?: string[];
  gidMap?: string[];
  /** '' (its own), host, container:NAME; ipc also shareable, private. */
  pidMode?: string;
  ipcMode?: string;
  utsMode?: string;
  oomScoreAdj?: number;
  memoryReservation?: number;
  /** docker's: memory + swap; -1 unlimited swap, 0 unset. */
  memorySwap?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  blkioWeight?: number;
  /** --cidfile: where the id was written (docker's ContainerIDFile). */
  containerIdFile?: string;
  /** The API's HostConfig.ConsoleSize: a tty's size from its start, when no terminal of ours gives one. */
  consoleSize?: { rows: number; cols: number };
}

/** --device: a host device bound into the container (docker's HostConfig.Devices entry). */
export interface DeviceMapping {
  pathOnHost: string;
  pathInContainer: string;
  cgroupPermissions: string;
}

export interface ContainerRecord {
  id: string;
  name: string;
  imageId: string;
  created: string;
  path: string;
  args: string[];
  config: ContainerConfig;
  hostConfig: HostConfig;
  storage: StorageDriver;
  /** Set while a start is in progress or done; the monitor's files say whether it still runs. */
  startedAt?: string;
  /** Host ports as bound at the last start (a requested port 0 resolved to a real one). */
  ports?: PortBinding[];
  /**
   * The command line it was created with, the words after `run`/`create` (podman's CreateCommand:
   * `generate systemd --new` runs it again, inspect shows it). Absent for containers the engine
   * made itself (pod infra, play kube, build steps) and in records of tsctr before 0.x, which kept
   * `createOptions` instead (still read: nothing needs it).
   */
  createCommand?: string[];
  /** True once `stop` was asked for, so a restart policy does not bring it back. */
  stoppedByUser?: boolean;
  /** Its places on user-defined networks, in interface order (eth0, eth1, ...); absent: none. */
  endpoints?: Endpoint[];
}

/**
 * A container as the engine is asked to create it, in docker's terms: every choice made (flags
 * and image defaults merged by buildContainerSpec, or set by the engine's own callers), nothing
 * on disk yet. Creating it adds what needs the store, the clock or chance: the id, a random name
 * when none is given, the hostname (the id's first 12 characters when none is given), the names
 * of anonymous volumes (mounts of type volume with an empty source).
 */
export interface ContainerSpec extends Omit<ContainerConfig, 'hostname'>, HostConfig {
  name?: string;
  hostname?: string;
  /** Joins this pod: its network is the pod's infra container's, and it carries the pod's label. */
  pod?: string;
  /** The words after the verb, when a command line made it (ContainerRecord.createCommand). */
  createCommand?: string[];
  /** User networks to join, in interface order: addresses are allocated when the container is written. */
  endpointRequest?: EndpointRequest;
}

export interface ContainersDoc {
  schemaVersion: number;
  containers: Record<string, ContainerRecord>;
}

import type { ProcessId } from '../util/proc.js';
import type { LogConfig } from './log-config.js';

export type Status = 'created' | 'running' | 'exited';

export interface LiveState {
  status: Status;
  pid: number;
  monitorPid: number;
  /** The init and the monitor as their pid files name them (pid and start time), to signal only them. */
  init?: ProcessId;
  monitor?: ProcessId;
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  restarts: number;
  /** `pause`d (SIGSTOP) since this run started: shown as paused, still running underneath. */
  paused?: boolean;
}
