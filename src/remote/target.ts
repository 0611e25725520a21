/**
 * Where a remote engine is: `--url`/`TSCTR_HOST` (CONTAINER_HOST as podman reads it) and docker's
 * TLS client flags, checked and turned into a typed target before anything connects. Pure: a bad
 * URL is the user's error (125) and costs nothing.
 */
import { TsctrError } from '../errors.js';

export interface TlsFiles {
  /** --tlscacert: the CA the server's certificate must chain to. */
  ca?: string;
  /** --tlscert/--tlskey: our client certificate. */
  cert?: string;
  key?: string;
}

export type RemoteTarget =
  | { kind: 'ssh'; user?: string; host: string; port?: number; socket?: string; url: string }
  | { kind: 'unix'; path: string; url: string }
  | { kind: 'tcp'; host: string; port: number; tls?: TlsFiles & { verify: boolean }; url: string };

export interface TargetOptions extends TlsFiles {
  tlsverify?: boolean;
  /** --insecure-tcp: plain tcp:// accepted (with a warning). */
  insecureTcp?: boolean;
}

const bad = (url: string, why: string) => new TsctrError(`invalid remote URL "${url}": ${why}`);

/** Characters that would reach the ssh command line as options or shell words. */
const SAFE_SSH = /^[A-Za-z0-9._@%+-]+$/;

export function parseTarget(url: string, o: TargetOptions = {}): RemoteTarget {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(url);
  if (!m) throw bad(url, 'use ssh://[user@]host[:port][/socket], unix:///path or tcp://host:port');
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  const tlsGiven = o.tlsverify || o.ca || o.cert || o.key;
  if (scheme === 'unix') {
    if (!rest.startsWith('/')) throw bad(url, 'a unix socket needs an absolute path (unix:///path)');
    if (tlsGiven) throw bad(url, 'TLS flags apply to tcp:// only');
    return { kind: 'unix', path: rest, url };
  }
  if (scheme === 'ssh') {
    if (tlsGiven) throw bad(url, 'TLS flags apply to tcp:// only');
    const slash = rest.indexOf('/');
    const authority = slash < 0 ? rest : rest.slice(0, slash);
    const socket = slash < 0 || slash === rest.length - 1 ? undefined : rest.slice(slash);
    const at = authority.lastIndexOf('@');
    const user = at < 0 ? undefined : decodeURIComponent(authority.slice(0, at));
    const hostPort = at < 0 ? authority : authority.slice(at + 1);
    const hp = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d+))?$/.exec(hostPort);
    if (!hp) throw bad(url, 'no host');
    const host = hp[1]!.replace(/^\[(.*)\]$/, '$1');
    // Everything goes to ssh as separate arguments, but a leading '-' would still be an option to it.
    if (!SAFE_SSH.test(host) && !/^[0-9a-fA-F:.]+$/.test(host)) throw bad(url, `bad host "${host}"`);
    if (user !== undefined && (!user || !SAFE_SSH.test(user) || user.startsWith('-'))) throw bad(url, `bad user "${user}"`);
    if (host.startsWith('-')) throw bad(url, `bad host "${host}"`);
    if (socket !== undefined && !/^\/[A-Za-z0-9._/@%+-]+$/.test(socket)) throw bad(url, `bad socket path "${socket}"`);
    const port = hp[2] === undefined ? undefined : Number(hp[2]);
    if (port !== undefined && (port < 1 || port > 65535)) throw bad(url, `bad port ${hp[2]}`);
    return { kind: 'ssh', host, url, ...(user !== undefined ? { user } : {}), ...(port !== undefined ? { port } : {}), ...(socket ? { socket } : {}) };
  }
  if (scheme === 'tcp') {
    const hp = /^(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d+)\/?$/.exec(rest);
    if (!hp) throw bad(url, 'use tcp://host:port');
    const port = Number(hp[2]);
    if (port < 1 || port > 65535) throw bad(url, `bad port ${hp[2]}`);
    const host = hp[1]!.replace(/^\[(.*)\]$/, '$1');
    if (!tlsGiven) {
      if (!o.insecureTcp) throw bad(url, 'tcp:// needs TLS (--tlsverify --tlscacert --tlscert --tlskey), or --insecure-tcp for an unencrypted, unauthenticated connection');
      return { kind: 'tcp', host, port, url };
    }
    if ((o.cert === undefined) !== (o.key === undefined)) throw bad(url, '--tlscert and --tlskey go together');
    if (o.tlsverify && !o.ca) throw bad(url, '--tlsverify needs --tlscacert');
    return { kind: 'tcp', host, port, url, tls: { verify: !!o.tlsverify, ...(o.ca ? { ca: o.ca } : {}), ...(o.cert ? { cert: o.cert } : {}), ...(o.key ? { key: o.key } : {}) } };
  }
  throw bad(url, `unknown scheme "${scheme}" (ssh, unix or tcp)`);
}

/** The ssh command line that reaches the remote service (docker's: ssh … -- docker system dial-stdio). */
export function sshArgv(t: Extract<RemoteTarget, { kind: 'ssh' }>): string[] {
  return [
    // No terminal, no stdin games; a dead connection is noticed rather than hanging.
    '-T', '-o', 'BatchMode=yes', '-o', 'ServerAliveInterval=15',
    ...(t.port !== undefined ? ['-p', String(t.port)] : []),
    '--',
    t.user !== undefined ? `${t.user}@${t.host}` : t.host,
    'tsctr', 'system', 'dial-stdio', ...(t.socket ? ['--socket', t.socket] : []),
  ];
}

/**
 * docker's defaults for --tlsverify: ca.pem, cert.pem and key.pem in $DOCKER_CERT_PATH (or
 * ~/.docker), for each file not given and present there.
 */
export function defaultCerts(o: TargetOptions, certDir: string, exists: (f: string) => boolean): TargetOptions {
  if (!o.tlsverify) return o;
  const file = (n: string) => `${certDir.replace(/\/$/, '')}/${n}`;
  const out = { ...o };
  if (out.ca === undefined && exists(file('ca.pem'))) out.ca = file('ca.pem');
  if (out.cert === undefined && out.key === undefined && exists(file('cert.pem')) && exists(file('key.pem'))) {
    out.cert = file('cert.pem');
    out.key = file('key.pem');
  }
  return out;
}
