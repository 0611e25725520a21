/**
 * `system service tcp://HOST:PORT`: the address and the TLS that guards it. A TCP port is reachable
 * by every local user (and more, on another address), and whoever talks to the API controls the
 * user's containers and files; so TCP is served only with TLS client verification (docker's
 * `--tlsverify`: a client must present a certificate signed by the given CA, or the handshake
 * fails), unless the user says `--insecure-tcp` out loud and gets a warning.
 *
 * Loaded only for tcp:// (TLS pulls in node:tls and node:crypto): the unix socket's start-up
 * stays as it was.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { TsctrError, errorMessage } from '../errors.js';
import { log } from '../util/log.js';

export interface TcpAddress {
  host: string;
  port: number;
}

/** PEM contents, checked; `ca` set = clients must present a certificate signed by it. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

/** docker's daemon flags (`dockerd --tls --tlsverify --tlscacert --tlscert --tlskey`) plus ours. */
export interface TcpFlags {
  tls: boolean;
  tlsverify: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  insecureTcp: boolean;
}

export interface TcpListen {
  address: TcpAddress;
  /** `tcp://HOST:PORT (tlsverify)`: what `tsctr info` shows. */
  describe: string;
  tls?: TlsMaterial;
  /** What the user should know before anyone connects (printed by the command). */
  warnings: string[];
}

/** `tcp://HOST:PORT`, `tcp://[::1]:PORT`; docker's defaults: host 127.0.0.1, port 2376 with TLS, 2375 without. */
export function parseTcpUri(uri: string, withTls: boolean): TcpAddress {
  const m = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]*)(?::(\d*))?\/?$/.exec(uri);
  if (!m) throw new TsctrError(`invalid URI "${uri}": use tcp://HOST:PORT`);
  const host = m[1]!.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = m[2] ? Number(m[2]) : withTls ? 2376 : 2375;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TsctrError(`invalid port in "${uri}": 1-65535`);
  if (m[1]!.startsWith('[') && net.isIPv6(host) === false) throw new TsctrError(`invalid IPv6 address in "${uri}"`);
  return { host, port };
}

/** The URL a client uses (`tsctr info`, the warnings). */
export function tcpUrl(a: TcpAddress): string {
  return `tcp://${net.isIPv6(a.host) ? `[${a.host}]` : a.host}:${a.port}`;
}

/** docker's defaults for the three files: $DOCKER_CERT_PATH or ~/.docker, {ca,cert,key}.pem. */
function certDir(): string {
  return process.env.DOCKER_CERT_PATH || path.join(os.homedir(), '.docker');
}

/** Reads a file the user named, through one descriptor (the mode checked is the file's that is read). */
function readFlagFile(flag: string, file: string, secret: boolean): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO named here must not hang the open; it is refused below.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw new TsctrError(`${flag} ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : errorMessage(e)}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new TsctrError(`${flag} ${file}: not a regular file`);
    // A private key others can read is no secret: refuse it, as ssh refuses such an identity file.
    if (secret && st.mode & 0o077) {
      throw new TsctrError(`${flag} ${file} is accessible by others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}): chmod 600 it`);
    }
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Loads and checks the PEM files: parseable, the key is the certificate's, the CA holds a certificate. */
export function loadTls(files: { ca?: string; cert: string; key: string }): TlsMaterial {
  const cert = readFlagFile('--tlscert', files.cert, false);
  const key = readFlagFile('--tlskey', files.key, true);
  const ca = files.ca === undefined ? undefined : readFlagFile('--tlscacert', files.ca, false);
  let x509: crypto.X509Certificate;
  try {
    x509 = new crypto.X509Certificate(cert);
  } catch (e) {
    throw new TsctrError(`--tlscert ${files.cert}: not a PEM certificate (${errorMessage(e)})`);
  }
  let pkey: crypto.KeyObject;
  try {
    pkey = crypto.createPrivateKey(key);
  } catch (e) {
    throw new TsctrError(`--tlskey ${files.key}: not a PEM private key (${errorMessage(e)})`);
  }
  if (!x509.checkPrivateKey(pkey)) throw new TsctrError(`--tlskey ${files.key} is not the key of --tlscert ${files.cert}`);
  if (ca !== undefined) {
    try {
      new crypto.X509Certificate(ca);
    } catch (e) {
      throw new TsctrError(`--tlscacert ${files.ca}: not a PEM certificate (${errorMessage(e)})`);
    }
  }
  try {
    tls.createSecureContext({ cert, key, ca, minVersion: 'TLSv1.2' });
  } catch (e) {
    throw new TsctrError(`cannot use the TLS files: ${errorMessage(e)}`);
  }
  if (Date.parse(x509.validTo) < Date.now()) log.warn(`--tlscert ${files.cert} expired on ${x509.validTo}: clients will refuse it`);
  return { cert, key, ca };
}

/**
 * The flags' policy. `--tlsverify` (with the CA, the server's certificate and key): clients must
 * present a certificate the CA signed. `--tls` alone encrypts but lets anyone in, so it is as open
 * as plain TCP and needs `--insecure-tcp` too; `--insecure-tcp` alone serves plain HTTP. `where`
 * names the listener in the messages.
 */
export function tlsPolicy(f: TcpFlags, where: string): { tls?: TlsMaterial; warnings: string[]; mode: string } {
  if (f.tlsverify && f.insecureTcp) throw new TsctrError('--tlsverify and --insecure-tcp contradict each other: choose one');
  if (!f.tlsverify && !f.insecureTcp) {
    throw new TsctrError(
      `${where} needs --tlsverify --tlscacert CA --tlscert CERT --tlskey KEY (clients must present a certificate signed by CA), or --insecure-tcp to let anyone who can connect control your containers`,
    );
  }
  const dir = certDir();
  const files = { cert: f.tlscert ?? path.join(dir, 'cert.pem'), key: f.tlskey ?? path.join(dir, 'key.pem') };
  if (f.tlsverify) return { tls: loadTls({ ...files, ca: f.tlscacert ?? path.join(dir, 'ca.pem') }), warnings: [], mode: 'tlsverify' };
  if (f.tls) {
    return {
      tls: loadTls(files),
      warnings: [`serving the API on ${where} with TLS but without client verification (--tls without --tlsverify): anyone who can connect controls your containers, as you`],
      mode: 'tls without client verification',
    };
  }
  return { warnings: [`serving the API on ${where} without TLS (--insecure-tcp): anyone who can connect controls your containers, as you; use --tlsverify`], mode: 'insecure-tcp' };
}

/** `tcp://…` and the flags: where to listen, with which TLS, and what to warn about. */
export function tcpListen(uri: string, f: TcpFlags): TcpListen {
  const address = parseTcpUri(uri, f.tls || f.tlsverify);
  const { mode, ...policy } = tlsPolicy(f, tcpUrl(address));
  return { address, describe: `${tcpUrl(address)} (${mode})`, ...policy };
}

/**
 * The HTTP server for a TCP listener: HTTPS when `tls` is set. Half-open stays allowed (as Node's
 * http server has it): a hijacked client (docker exec, attach) closes its writing side at the end
 * of stdin and still reads the output.
 */
export function createTcpServer(t: TlsMaterial | undefined, options: http.ServerOptions): http.Server {
  if (!t) return http.createServer(options);
  const server = https.createServer({
    ...options,
    allowHalfOpen: true,
    cert: t.cert,
    key: t.key,
    minVersion: 'TLSv1.2',
    // Without a CA (--tls alone) no client certificate is asked for.
    ...(t.ca ? { ca: t.ca, requestCert: true, rejectUnauthorized: true } : {}),
    // A connection that never finishes its handshake does not hold a socket for long.
    handshakeTimeout: 10_000,
  });
  server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
    log.debug(`api: TLS handshake with ${socket.remoteAddress}:${socket.remotePort} refused: ${err.message}`);
    socket.destroy();
  });
  return server;
}

/** Listens on exactly the address given. */
export async function listenTcp(server: http.Server, a: TcpAddress): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => reject(new TsctrError(`cannot listen on ${tcpUrl(a)}: ${e.code === 'EADDRINUSE' ? 'address already in use' : e.message}`));
    server.once('error', onError).listen({ host: a.host, port: a.port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
