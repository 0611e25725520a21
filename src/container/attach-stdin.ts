/**
 * `attach`'s stdin: our stdin goes to the container's through its monitor's socket (attach.sock,
 * made when it runs detached with -i), with docker's detach keys watched for on the way.
 */
import fs from 'node:fs';
import net from 'node:net';
import { ConflictError, TsctrError } from '../errors.js';

/** docker's default: ctrl-p, ctrl-q. */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** docker's syntax: comma-separated single characters or `ctrl-<a-z@[\]^_>`. */
export function parseDetachKeys(spec: string): number[] {
  const bad = () => new TsctrError(`invalid detach keys (${spec}): use comma-separated letters or ctrl-<a-z@[\\]^_>`);
  if (spec === '') throw bad();
  return spec.split(',').map((k) => {
    if (k.length === 1) return k.charCodeAt(0);
    const m = /^ctrl-([a-z@[\\\]^_])$/i.exec(k);
    if (!m) throw bad();
    const ch = m[1]!.toLowerCase();
    // ctrl-a..z are 1..26; ctrl-@ [ \ ] ^ _ are 0 and 27..31: the character's code minus 64
    return ch >= 'a' && ch <= 'z' ? ch.charCodeAt(0) - 96 : ch.charCodeAt(0) - 64;
  });
}

/**
 * Passes bytes on until the detach sequence has been typed; a partial match is held back and
 * passed on when the next byte does not continue it (docker's escape proxy).
 */
export function detachFilter(keys: number[]): (chunk: Buffer) => { out: Buffer; detach: boolean } {
  let matched = 0;
  return (chunk) => {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === keys[matched]) {
        if (++matched === keys.length) return { out: Buffer.from(out), detach: true };
        continue;
      }
      out.push(...keys.slice(0, matched));
      matched = 0;
      if (b === keys[0]) matched = 1; // keys.length > 1 here: a single key would have matched
      else out.push(b);
    }
    return { out: Buffer.from(out), detach: false };
  };
}

export interface StdinLink {
  /** Resolves when the detach keys were typed. */
  detached: Promise<void>;
  /** Stops reading our stdin, restores the terminal, closes the socket. */
  close(): void;
}

/**
 * Connects to the monitor and starts copying our stdin; undefined when the container has no
 * socket (run attached, or started by an older tsctr): attach then shows output only.
 */
export async function linkStdin(sockPath: string, tty: boolean, keys: number[]): Promise<StdinLink | undefined> {
  if (!fs.existsSync(sockPath)) return undefined;
  // The run dir's path may exceed sun_path's 107 bytes: connect through a descriptor of the dir.
  const dirFd = fs.openSync(sockPath.slice(0, sockPath.lastIndexOf('/')), 'r');
  let sock: net.Socket;
  try {
    sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.createConnection(`/proc/self/fd/${dirFd}/attach.sock`);
      let got = '';
      const onData = (d: Buffer) => {
        got += d.toString('latin1');
        const nl = got.indexOf('\n');
        if (nl < 0) return;
        s.off('data', onData);
        s.pause();
        const line = got.slice(0, nl);
        if (line === 'ok') resolve(s);
        else {
          s.destroy();
          reject(new ConflictError(`cannot attach stdin: ${line.replace(/^error /, '')}`));
        }
      };
      s.on('data', onData);
      s.once('error', (e: NodeJS.ErrnoException) =>
        e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? resolve(undefined as unknown as net.Socket) : reject(new TsctrError(`connect to the container's monitor: ${e.message}`)),
      );
      s.once('end', () => reject(new ConflictError('cannot attach stdin: the container is exiting')));
    });
  } finally {
    fs.closeSync(dirFd);
  }
  if (!sock) return undefined;
  sock.on('error', () => {}); // the container exited under us: the log says the rest
  const stdin = process.stdin;
  const raw = tty && stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  const filter = detachFilter(keys);
  let onDetach = () => {};
  const detached = new Promise<void>((r) => (onDetach = r));
  stdin.on('data', (chunk: Buffer) => {
    const { out, detach } = filter(chunk);
    if (out.length) sock.write(out);
    if (detach) onDetach();
  });
  // Our stdin ended: the client goes, the container's stdin stays open for the next (docker -di).
  stdin.on('end', () => sock.end());
  stdin.on('error', () => sock.end());
  return {
    detached,
    close() {
      stdin.removeAllListeners('data');
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      stdin.destroy();
      sock.destroy();
    },
  };
}
