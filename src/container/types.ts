/** What tsctr remembers about a container (containers.json); live state comes from the monitor's files. */
import type { StorageDriver } from '../store/storage-driver.js';
import type { RunOptions } from './options.js';

export interface PortBinding {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  /** The IPv6 twin of a binding to every address (`-p 8080:80` binds 0.0.0.0 and ::, as docker). */
  ipv6Twin?: boolean;
}

export interface MountSpec {
  type: 'bind' | 'volume' | 'tmpfs';
  source: string; // host path, volume name, or '' for tmpfs
  destination: string;
  readOnly: boolean;
  options?: string; // tmpfs data
  /** A volume named by tsctr for `-v /path`, removed with the container by `rm -v`. */
  anonymous?: boolean;
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
  healthcheck?: import('./health.js').Healthcheck;
}

export interface HostConfig {
  mounts: MountSpec[];
  readOnly: boolean;
  init: boolean;
  ulimits: { name: string; soft: number; hard: number }[];
  restart: { name: 'no' | 'always' | 'on-failure' | 'unless-stopped'; maxRetries: number };
  autoRemove: boolean;
  network: string; // pasta | slirp4netns | none | host | container:NAME
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
  /** The options it was created with (for `generate systemd --new`, `generate kube`). */
  createOptions?: Partial<RunOptions>;
  /** True once `stop` was asked for, so a restart policy does not bring it back. */
  stoppedByUser?: boolean;
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
