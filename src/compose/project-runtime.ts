/**
 * The part of a compose project the runtime acts on: services with the keys tsctr runs, networks
 * and volumes, all resolved (interpolated, merged, defaults applied) by the loader. The runtime
 * reads nothing else, so the file side can change shape without touching up/down.
 */
export interface RtHealthcheck {
  test?: string[] | string;
  interval?: string;
  timeout?: string;
  retries?: number;
  startPeriod?: string;
  startInterval?: string;
  disable?: boolean;
}

export interface RtVolumeMount {
  type: 'volume' | 'bind' | 'tmpfs';
  /** A project volume's key, a host path (absolute), or '' (anonymous / tmpfs). */
  source: string;
  target: string;
  readOnly: boolean;
}

export interface RtPort {
  hostIp?: string;
  /** undefined: a random host port, or one of `range`. */
  published?: number;
  /**
   * A host port range for one container port (`8000-8002:80`): replica N publishes the range's Nth
   * port, as docker's allocator hands each container the next free one; never balanced.
   */
  range?: [number, number];
  target: number;
  protocol: 'tcp' | 'udp';
}

export interface RtService {
  name: string;
  image?: string;
  build?: { context: string; dockerfile?: string; dockerfileInline?: string; args: Record<string, string>; target?: string };
  /** `os/arch[/variant]` as parsePlatform writes it: the image must be of it (pulled for it). */
  platform?: string;
  command?: string[];
  entrypoint?: string[];
  environment: Record<string, string>;
  ports: RtPort[];
  volumes: RtVolumeMount[];
  tmpfs: string[];
  /** Project network key → its aliases on it. */
  networks: Record<string, string[]>;
  dependsOn: Record<string, 'service_started' | 'service_healthy' | 'service_completed_successfully'>;
  healthcheck?: RtHealthcheck;
  restart?: string;
  replicas: number;
  user?: string;
  workingDir?: string;
  hostname?: string;
  labels: Record<string, string>;
  init?: boolean;
  stopSignal?: string;
  stopGracePeriod?: string;
  capAdd: string[];
  capDrop: string[];
  readOnly?: boolean;
  extraHosts: string[];
  dns: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  /** `nofile=SOFT:HARD`, as --ulimit takes them. */
  ulimits?: string[];
  securityOpt?: string[];
  pidsLimit?: number;
  tty?: boolean;
  stdinOpen?: boolean;
  containerName?: string;
  memory?: string;
  cpus?: string;
  privileged?: boolean;
  /** `key=value`, as --sysctl takes them (domainname becomes kernel.domainname). */
  sysctls: string[];
  devices: string[];
  pid?: string;
  ipc?: string;
  shmSize?: string;
  logDriver?: string;
  /** `key=value`, as --log-opt takes them. */
  logOpt: string[];
  groupAdd: string[];
  userns?: string;
  oomScoreAdj?: string;
  memoryReservation?: string;
  memorySwap?: string;
  cpuShares?: string;
  cpusetCpus?: string;
  blkioWeight?: string;
  /** host, none, container:NAME, or service:NAME (that service's first container). */
  networkMode?: string;
  /**
   * Configs and secrets, bind-mounted read-only: a `file:` source without mode/uid/gid is the
   * user's own file (its own permissions); inline ones (`content`) and files to copy (`copy`) are
   * written by compose/inline-files.ts with `mode` (default 0444) and the owner `uid:gid` (container
   * ids, default 0:0), `source` then. `unavailable`: why it cannot be mounted (external, variable
   * unset): `up` refuses the service with it before creating anything.
   */
  files: RtFile[];
  /** The config hash docker compose labels the container with: recreate when it changes. */
  hash: string;
}

export interface RtFile {
  source?: string;
  content?: string;
  /** The `file:` source copied (mode/uid/gid asked for): read at `up`. */
  copy?: string;
  target: string;
  key: string;
  mode?: number;
  uid?: number;
  gid?: number;
  unavailable?: string;
}

export interface RtNetwork {
  /** The engine's name (project_key, or the external/explicit name). */
  name: string;
  external: boolean;
  internal: boolean;
  subnet?: string;
  gateway?: string;
}

export interface RtVolume {
  name: string;
  external: boolean;
}

export interface RtProject {
  name: string;
  workingDir: string;
  configFiles: string[];
  services: Record<string, RtService>;
  networks: Record<string, RtNetwork>;
  volumes: Record<string, RtVolume>;
  /** Keys tsctr does not act on, by path (`services.web.logging`): warned about, never silently dropped. */
  unsupported: string[];
}
