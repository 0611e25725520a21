/**
 * Byte streams to a remote engine: the unix socket, TCP (TLS unless opted out), or the stdin and
 * stdout of `ssh … tsctr system dial-stdio`, as docker's CLI does for ssh:// (the system ssh does
 * the authentication, with the user's keys, agent and config). Each is a Duplex that node's HTTP
 * client can speak over (http.ts).
 */
import { Duplex } from 'node:stream';
import { TsctrError } from '../errors.js';
import { sshArgv, type RemoteTarget } from './target.js';

/** What node's HTTP agent calls on a socket; a child's pipes have none of it. */
function socketLike(d: Duplex): Duplex {
  const self = d as Duplex & Record<string, unknown>;
  for (const m of ['setKeepAlive', 'setNoDelay', 'setTimeout', 'ref', 'unref']) if (typeof self[m] !== 'function') self[m] = () => d;
  return d;
}

/**
 * A new connection. Errors surface on the stream ('error'), as a socket's do; for ssh, what ssh
 * wrote on stderr becomes the message (its own words: "Connection refused", "Permission denied").
 */
export async function openStream(t: RemoteTarget): Promise<Duplex> {
  if (t.kind === 'unix') return (await import('node:net')).connect(t.path);
  if (t.kind === 'tcp') {
    if (!t.tls) return (await import('node:net')).connect(t.port, t.host);
    const fs = await import('node:fs');
    const read = (f: string | undefined, what: string) => {
      if (f === undefined) return undefined;
      try {
        return fs.readFileSync(f);
      } catch (e) {
        throw new TsctrError(`cannot read ${what} ${f}: ${(e as Error).message}`);
      }
    };
    const ca = read(t.tls.ca, '--tlscacert');
    const cert = read(t.tls.cert, '--tlscert');
    const key = read(t.tls.key, '--tlskey');
    return (await import('node:tls')).connect({
      host: t.host,
      port: t.port,
      servername: /^[\d.:]+$/.test(t.host) ? undefined : t.host,
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      // docker's --tls without --tlsverify: encrypted, the server's certificate not checked.
      rejectUnauthorized: t.tls.verify,
    });
  }
  const { spawn } = await import('node:child_process');
  // A process group of its own (as docker's ssh helper): the ^C typed at an attached `run` goes to
  // the container (--sig-proxy), not to the ssh that carries it.
  const child = spawn('ssh', sshArgv(t), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
  // The child's output ends the stream only once ssh has exited, and how: a failed connection is
  // then an error with ssh's own words, not a connection closed for no reason.
  const d = new Duplex({
    read: () => void child.stdout.resume(),
    // A write to an ssh that is gone fails with EPIPE; its exit (below) says why.
    write: (chunk: Buffer, _enc, cb) => void child.stdin.write(chunk, () => cb()),
    final: (cb) => {
      child.stdin.end();
      cb();
    },
    destroy: (err, cb) => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      cb(err);
    },
  });
  child.stdout.on('data', (c: Buffer) => d.push(c) || child.stdout.pause());
  child.stdin.on('error', () => undefined); // ssh gone: its exit says why
  const fail = (why: string) => {
    const said = stderr.trim().split('\n').filter(Boolean).pop();
    d.destroy(new TsctrError(`cannot connect to ${t.url}: ${said || why}`));
  };
  child.once('error', (e) => fail(`ssh: ${e.message}`));
  child.once('close', (code, signal) => {
    if (code || (signal && !d.destroyed)) fail(`ssh exited with ${code ? `status ${code}` : signal}`);
    else d.push(null);
  });
  // The agent unrefs a connection it keeps for later: an idle ssh must not keep the command alive.
  const handles = [child, child.stdin, child.stdout, child.stderr] as { ref(): void; unref(): void }[];
  Object.assign(d, { ref: () => (handles.forEach((h) => h.ref()), d), unref: () => (handles.forEach((h) => h.unref()), d) });
  return socketLike(d);
}
