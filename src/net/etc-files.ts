/**
 * The contents of a container's /etc/hosts and /etc/resolv.conf, as docker writes them: pure
 * functions of the mode's addresses and resolvers, the host's resolv.conf and --dns/--add-host.
 */
import type { DnsConfig } from './types.js';

export interface HostsInput {
  hostname: string;
  name: string;
  /** The container's own addresses (127.0.1.1 where it has none of its own). */
  addresses: string[];
  /** --add-host HOST:IP, host-gateway already resolved. */
  extraHosts: { host: string; ip: string }[];
}

export function hostsFile(h: HostsInput): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  for (const e of h.extraHosts) lines.push(`${e.ip}\t${e.host}`);
  // docker names the container by its hostname and, where it differs, its name.
  const names = [h.hostname, ...(h.name && h.name !== h.hostname ? [h.name] : [])].join(' ');
  for (const a of h.addresses) lines.push(`${a}\t${names}`);
  return lines.join('\n') + '\n';
}

/**
 * `nameserver` lines: --dns replaces everything; otherwise the mode's own resolver first (podman
 * does so for slirp4netns), then, where the mode keeps them, the host's minus loopback ones (a stub
 * resolver on the host is not reachable from inside); a mode that forwards itself (user networks)
 * keeps only its own. search/options: --dns-search/--dns-option
 * replace the host's.
 */
export function resolvConf(hostText: string, modeServers: string[], keepHostServers: boolean, dns: DnsConfig): string {
  const lines = hostText.split('\n').map((l) => l.replace(/\s+$/, ''));
  const hostServers = lines.filter((l) => /^\s*nameserver\s+/.test(l) && !/^\s*nameserver\s+(127\.|::1)/.test(l));
  const search = dns.dnsSearch?.length ? [`search ${dns.dnsSearch.join(' ')}`] : lines.filter((l) => /^\s*(search|domain)\s/.test(l));
  const options = dns.dnsOptions?.length ? [`options ${dns.dnsOptions.join(' ')}`] : lines.filter((l) => /^\s*options\s/.test(l));
  // A mode with its own forwarding resolver (user networks) keeps it even with --dns: it forwards there.
  const own = modeServers.map((s) => `nameserver ${s}`);
  let servers = !keepHostServers ? own : dns.dns?.length ? dns.dns.map((s) => `nameserver ${s}`) : [...own, ...hostServers];
  if (servers.length === 0) servers = ['nameserver 8.8.8.8'];
  return [...search, ...servers, ...options].join('\n') + '\n';
}
