/**
 * The compose project after loading: every file merged, interpolated, validated, with short and long
 * syntax normalised to one shape. The runtime (compose up/down/...) reads only this, never the YAML.
 *
 * Field names are compose-spec's keys (snake_case), so that `compose config` prints the model as it
 * is and a reader of the spec knows what each field is. Paths are absolute (resolved against the
 * project directory), durations are milliseconds, sizes are bytes.
 */

export interface Project {
  /** Normalised: [a-z0-9_-], starting with a letter or digit. */
  name: string;
  /** Absolute; relative paths in the files are resolved against it. */
  working_dir: string;
  /** Absolute paths of the files read, in merge order (label com.docker.compose.project.config_files). */
  config_files: string[];
  /** Only the services enabled by the active profiles, in file order. */
  services: Record<string, Service>;
  /** Services left out because none of their profiles is active (`config --profiles` lists them too). */
  disabled_services: Record<string, Service>;
  networks: Record<string, Network>;
  volumes: Record<string, Volume>;
  configs: Record<string, FileObject>;
  secrets: Record<string, FileObject>;
  /** The active profiles (`--profile`, COMPOSE_PROFILES). */
  profiles: string[];
  /** The variables interpolation used: the process environment over `.env` / `--env-file`. */
  environment: Record<string, string>;
  /** What the user should be told, in order (unset variables, ignored `version`...), without the WARN prefix. */
  warnings: string[];
  /** Top-level keys and service keys that are valid compose but that the model does not carry (see unsupportedKeys). */
  unsupported: string[];
}

export type Protocol = 'tcp' | 'udp' | 'sctp';

export interface Port {
  /** The container port. */
  target: number;
  /** The host port or a range `8000-8010`, as compose keeps it; absent: an ephemeral port. */
  published?: string;
  host_ip?: string;
  protocol: Protocol;
  /** `ingress` unless the long syntax says `host`. */
  mode: string;
  name?: string;
  app_protocol?: string;
}

export interface ServiceVolume {
  type: 'volume' | 'bind' | 'tmpfs' | 'npipe' | 'cluster' | 'image';
  /** volume: the top-level volume's key (absent: anonymous); bind: an absolute host path. */
  source?: string;
  target: string;
  read_only: boolean;
  consistency?: string;
  bind?: { propagation?: string; create_host_path?: boolean; selinux?: 'z' | 'Z' };
  volume?: { nocopy?: boolean; subpath?: string };
  tmpfs?: { size?: number; mode?: number };
  image?: { subpath?: string };
}

export interface ServiceNetwork {
  aliases: string[];
  ipv4_address?: string;
  ipv6_address?: string;
  mac_address?: string;
  priority?: number;
  link_local_ips?: string[];
  driver_opts?: Record<string, string>;
  gw_priority?: number;
}

export type DependsCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface Dependency {
  condition: DependsCondition;
  /** Restart this service when the dependency is restarted by a compose operation. */
  restart: boolean;
  /** false: a missing or failed dependency is a warning, not an error. */
  required: boolean;
}

export interface Healthcheck {
  /** `["CMD", ...]`, `["CMD-SHELL", "cmd"]` or `["NONE"]`; absent: the image's. */
  test?: string[];
  interval?: number;
  timeout?: number;
  start_period?: number;
  start_interval?: number;
  retries?: number;
  /** true also for `test: ["NONE"]`. */
  disable: boolean;
}

export interface Build {
  /** Absolute path (or a URL, kept as written). */
  context: string;
  /** Relative to the context, as written (default `Dockerfile`); absent when dockerfile_inline is used. */
  dockerfile?: string;
  dockerfile_inline?: string;
  args: Record<string, string>;
  target?: string;
  labels: Record<string, string>;
  network?: string;
  no_cache?: boolean;
  pull?: boolean;
  tags?: string[];
  extra_hosts?: string[];
  shm_size?: number;
}

export interface Limits {
  /** Bytes. */
  memory?: number;
  /** A fraction of CPUs (`0.5`). */
  cpus?: number;
  pids?: number;
}

export interface Deploy {
  /** As written; use replicas() for the effective count. */
  replicas?: number;
  mode?: string;
  resources: { limits: Limits; reservations: Limits };
  restart_policy?: { condition?: string; delay?: number; max_attempts?: number; window?: number };
  labels: Record<string, string>;
}

export interface Ulimit {
  soft: number;
  hard: number;
}

export interface EnvFile {
  /** Absolute. */
  path: string;
  required: boolean;
}

/** A service's use of a top-level config or secret. */
export interface FileReference {
  source: string;
  /** Absolute path in the container: configs default to `/<source>`, secrets to `/run/secrets/<source>`. */
  target: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

export interface Service {
  /** Its key under `services:`. */
  name: string;
  image?: string;
  build?: Build;
  /** Absent: the image's CMD. A string in the file is split as a POSIX shell would (no expansion). */
  command?: string[];
  entrypoint?: string[];
  /** env_file contents first, then `environment:`; a bare name takes its value from the project environment (left out when unset). */
  environment: Record<string, string>;
  env_file: EnvFile[];
  ports: Port[];
  /** Container ports or ranges (`80`, `8000-8010/udp`), as strings. */
  expose: string[];
  volumes: ServiceVolume[];
  /** Keys of Project.networks; `default` when the file names none and network_mode is unset. */
  networks: Record<string, ServiceNetwork>;
  network_mode?: string;
  depends_on: Record<string, Dependency>;
  healthcheck?: Healthcheck;
  /** `no`, `always`, `on-failure[:N]`, `unless-stopped`. */
  restart?: string;
  deploy?: Deploy;
  scale?: number;
  user?: string;
  working_dir?: string;
  hostname?: string;
  domainname?: string;
  labels: Record<string, string>;
  init?: boolean;
  privileged?: boolean;
  tty?: boolean;
  stdin_open?: boolean;
  stop_signal?: string;
  /** Milliseconds. */
  stop_grace_period?: number;
  cap_add: string[];
  cap_drop: string[];
  read_only?: boolean;
  /** Mount points, optionally with options (`/run:size=64m`). */
  tmpfs: string[];
  /** `host:ip`, as docker's --add-host takes them. */
  extra_hosts: string[];
  dns: string[];
  dns_search: string[];
  dns_opt: string[];
  ulimits: Record<string, Ulimit>;
  logging?: { driver?: string; options: Record<string, string> };
  container_name?: string;
  profiles: string[];
  configs: FileReference[];
  secrets: FileReference[];
  /** Bytes. */
  mem_limit?: number;
  cpus?: number;
  pids_limit?: number;
  shm_size?: number;
  sysctls: Record<string, string>;
  security_opt: string[];
  devices: string[];
  pid?: string;
  ipc?: string;
  platform?: string;
  pull_policy?: string;
  links: string[];
  /** Other valid compose keys the model does not type, as the file gave them (after interpolation). */
  extra: Record<string, unknown>;
}

export interface Network {
  /** The engine's name: `name:`, or `<project>_<key>` (external: the key). */
  name: string;
  driver?: string;
  driver_opts: Record<string, string>;
  internal: boolean;
  external: boolean;
  enable_ipv6?: boolean;
  attachable?: boolean;
  ipam: { driver?: string; config: { subnet?: string; gateway?: string; ip_range?: string; aux_addresses?: Record<string, string> }[] };
  labels: Record<string, string>;
}

export interface Volume {
  /** The engine's name: `name:`, or `<project>_<key>` (external: the key). */
  name: string;
  driver?: string;
  driver_opts: Record<string, string>;
  external: boolean;
  labels: Record<string, string>;
}

export interface FileObject {
  name: string;
  /** Absolute path of the file whose content is mounted. */
  file?: string;
  /** The project variable whose value is the content. */
  environment?: string;
  /** Inline content (configs only). */
  content?: string;
  external: boolean;
  labels: Record<string, string>;
}

/** How many containers the service runs: `scale:`, else `deploy.replicas`, else 1. */
export function replicas(service: Service): number {
  return service.scale ?? service.deploy?.replicas ?? 1;
}

/** Keys present in the project that the model does not carry, as `services.web.devices`-style paths; the runtime warns about them. */
export function unsupportedKeys(project: Project): string[] {
  const out = [...project.unsupported];
  for (const s of Object.values(project.services)) for (const k of Object.keys(s.extra)) out.push(`services.${s.name}.${k}`);
  return out;
}
