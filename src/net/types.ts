/**
 * The network layer's own types. Containers hand the network code a NetRequest (built from their
 * record by the caller), so src/net never reads container records or imports container code.
 */

export interface PortBinding {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  /** `-p 8000-8002:80`: hostPort is the range's first port, this its last; the first free one is taken at start. */
  hostPortEnd?: number;
  /** The IPv6 twin of a binding to every address (`-p 8080:80` binds 0.0.0.0 and ::, as docker). */
  ipv6Twin?: boolean;
}

/** Shim spec entries (key, value); keys repeat. */
export type SpecEntries = [string, string][];

/** A container's place on one user-defined network, fixed at create (or connect) time. */
export interface Endpoint {
  network: string;
  networkId: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  aliases: string[];
  /** Set by `run --ip`: kept when the container is reconnected. */
  requestedIp?: string;
}

/** --dns, --dns-search, --dns-option and --add-host, as given. */
export interface DnsConfig {
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  extraHosts?: string[];
}

/** What a network mode needs to know about the container it sets up. */
export interface NetRequest {
  id: string;
  name: string;
  hostname: string;
  /** The recorded --network value ('default' resolved to the default mode already). */
  mode: string;
  portBindings: PortBinding[];
  endpoints: Endpoint[];
  dns: DnsConfig;
}

export interface NetworkPlan {
  spec: SpecEntries;
  ports: PortBinding[];
  /** Called once the container started or failed to (closes what the plan held open). */
  release?: () => void;
}

export interface PlanContext {
  /** The host pid of a running container, for container:NAME. */
  runningPid(name: string): number;
  /** The shim's uid/gid maps, for a helper that creates a user namespace. */
  idMaps(): { uid: string[]; gid: string[] };
  /** Running containers on user networks (other than this one), their init's host pid. */
  userNetworkPeers(): { pid: number; req: NetRequest }[];
}

/** docker's NetworkSettings.Networks entry. */
export interface EndpointSettings {
  IPAMConfig: { IPv4Address: string } | null;
  Links: null;
  Aliases: string[] | null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  MacAddress: string;
}

/**
 * One --network mode: slirp4netns, pasta, none, host, container:NAME, or user-defined networks.
 * Everything mode-specific lives behind this, one file per mode under modes/.
 */
export interface NetworkMode {
  readonly name: string;
  /** Whether -p means anything in this mode (else the ports are dropped with a warning). */
  readonly publishes: boolean;
  /** Spec entries (namespaces, helpers) and the host ports as bound. */
  plan(req: NetRequest, ctx: PlanContext): Promise<NetworkPlan>;
  /** Nameservers that go first in the container's resolv.conf (the mode's own resolver). */
  nameservers(req: NetRequest): string[];
  /** Whether the container keeps the host's nameservers after the mode's own (user networks: no). */
  readonly hostNameservers: boolean;
  /** The container's own address for /etc/hosts (127.0.1.1 where it has none of its own). */
  ownAddresses(req: NetRequest): string[];
  /** NetworkSettings.Networks for inspect. */
  settings(req: NetRequest): Record<string, EndpointSettings>;
  /** What ps shows in NETWORKS. */
  names(req: NetRequest): string[];
}
