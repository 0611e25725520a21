/**
 * The client of a container monitor's attach.sock (made when it runs detached with -i, or with a
 * tty): `attach`'s stdin (ours, or an API connection's) goes to the container's stdin, with docker's
 * detach keys watched for on the way, and the tty's size is set through it (src/shim/attach.c).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
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

/** attach.sock's frames (src/shim/attach.c): u8 type, u8 0, u16 length (little-endian), payload. */
const CLAIM = 1;
const DATA = 2;
const RESIZE = 3;
const DATA_MAX = 4096;
/** The claim's answer when the container runs attached to its caller, who has its stdin. */
const CALLERS_STDIN = "error the container's stdin is its caller's";

function frame(type: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(4);
  head[0] = type;
  head.writeUInt16LE(payload.length, 2);
  return Buffer.concat([head, payload]);
}

/** A RESIZE frame: the same bytes go to the monitor's socket and to exec's resize pipe. */
export function resizeFrame(rows: number, cols: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt16LE(Math.min(Math.max(Math.trunc(rows), 1), 65535), 0);
  body.writeUInt16LE(Math.min(Math.max(Math.trunc(cols), 1), 65535), 2);
  return frame(RESIZE, body);
}

/** Reads one line off the socket (the monitor's answers are single short lines). */
function readLine(s: net.Socket): Promise<string | undefined> {
  return new Promise((resolve) => {
    let got = '';
    const done = (line: string | undefined) => {
      s.off('data', onData);
      s.off('end', onEnd);
      s.off('error', onEnd);
      s.pause();
      resolve(line);
    };
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      const nl = got.indexOf('\n');
      if (nl >= 0) done(got.slice(0, nl));
    };
    const onEnd = () => done(undefined);
    s.on('data', onData);
    s.once('end', onEnd);
    s.once('error', onEnd);
    s.resume();
  });
}

interface MonitorConn {
  sock: net.Socket;
  /** The monitor speaks the framed protocol ("ok 2"); an older one takes raw stdin bytes only. */
  framed: boolean;
}

/** Connects to the monitor's socket; undefined when there is none (or nobody listens). */
async function connectMonitor(sockPath: string): Promise<MonitorConn | undefined> {
  if (!fs.existsSync(sockPath)) return undefined;
  // The run dir's path may exceed sun_path's 107 bytes: connect through a descriptor of the dir.
  let dirFd: number;
  try {
    dirFd = fs.openSync(sockPath.slice(0, sockPath.lastIndexOf('/')), 'r');
  } catch {
    return undefined; // the container went meanwhile
  }
  try {
    const sock = await new Promise<net.Socket | undefined>((resolve, reject) => {
      const s = net.createConnection(`/proc/self/fd/${dirFd}/${path.basename(sockPath)}`);
      s.once('connect', () => resolve(s));
      s.once('error', (e: NodeJS.ErrnoException) =>
        e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? resolve(undefined) : reject(new TsctrError(`connect to the container's monitor: ${e.message}`)),
      );
    });
    if (!sock) return undefined;
    const line = await readLine(sock);
    if (line === undefined) {
      sock.destroy();
      throw new ConflictError('cannot attach: the container is exiting');
    }
    if (line !== 'ok' && line !== 'ok 2') {
      sock.destroy();
      throw new ConflictError(`cannot attach: ${line.replace(/^error /, '')}`);
    }
    sock.on('error', () => {}); // the container exited under us: the log says the rest
    return { sock, framed: line === 'ok 2' };
  } finally {
    fs.closeSync(dirFd);
  }
}

/**
 * Sets the container's tty size through its monitor; false when it has no socket (no tty, not
 * running) or an older monitor. Resolves once the monitor has applied it (it closes after our end).
 */
export async function resizeTty(sockPath: string, rows: number, cols: number): Promise<boolean> {
  const conn = await connectMonitor(sockPath).catch(() => undefined);
  if (!conn) return false;
  if (!conn.framed) {
    conn.sock.destroy();
    return false;
  }
  await new Promise<void>((resolve) => {
    const stuck = setTimeout(() => conn.sock.destroy(), 2000); // a monitor that never answers
    conn.sock.once('close', () => {
      clearTimeout(stuck);
      resolve();
    });
    conn.sock.resume(); // its EOF comes after it read our frame and our end
    conn.sock.end(resizeFrame(rows, cols));
  });
  return true;
}

export interface StdinLink {
  /** Resolves when the detach keys were typed. */
  detached: Promise<void>;
  /** Sets the container's tty size (nothing with an older monitor). */
  resize(rows: number, cols: number): void;
  /** Stops reading the input (our stdin: restores the terminal), closes the socket. */
  close(): void;
}

export interface LinkOptions {
  /** Where the bytes come from; default our stdin (then made raw for a tty, and destroyed at close). */
  input?: NodeJS.ReadableStream;
  /** Watch for these detach keys (none: every byte goes through). */
  keys?: number[];
}

/**
 * Connects to the monitor, takes the container's stdin and starts copying the input into it;
 * undefined when the container has no socket (run attached, or started by an older tsctr): attach
 * then shows output only. Refused (another client has it): ConflictError.
 */
export async function linkStdin(sockPath: string, tty: boolean, o: LinkOptions = {}): Promise<StdinLink | undefined> {
  const conn = await connectMonitor(sockPath);
  if (!conn) return undefined;
  const { sock, framed } = conn;
  if (framed) {
    sock.write(frame(CLAIM));
    const line = await readLine(sock);
    if (line === CALLERS_STDIN) {
      sock.destroy();
      return undefined; // run attached (`run -it` in a terminal): output only, as without a socket
    }
    if (line !== 'ok') {
      sock.destroy();
      throw new ConflictError(line === undefined ? 'cannot attach stdin: the container is exiting' : `cannot attach stdin: ${line.replace(/^error /, '')}`);
    }
  }
  const ours = !o.input;
  const input = o.input ?? process.stdin;
  const raw = ours && tty && process.stdin.isTTY === true;
  if (raw) process.stdin.setRawMode(true);
  const filter = o.keys ? detachFilter(o.keys) : (chunk: Buffer) => ({ out: chunk, detach: false });
  let onDetach = () => {};
  const detached = new Promise<void>((r) => (onDetach = r));
  const send = (data: Buffer) => {
    if (!framed) return sock.write(data);
    let ok = true;
    for (let i = 0; i < data.length; i += DATA_MAX) ok = sock.write(frame(DATA, data.subarray(i, i + DATA_MAX))) && ok;
    return ok;
  };
  const onData = (chunk: Buffer | string) => {
    const { out, detach } = filter(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    if (out.length && !send(out)) {
      input.pause(); // a container that does not read its stdin holds the client back, not our memory
      sock.once('drain', () => input.resume());
    }
    if (detach) onDetach();
  };
  // The input ended: the client goes, the container's stdin stays open for the next (docker -di).
  const onEnd = () => sock.end();
  input.on('data', onData);
  input.once('end', onEnd);
  input.once('error', onEnd);
  input.resume();
  return {
    detached,
    resize(rows, cols) {
      if (framed && !sock.destroyed) sock.write(resizeFrame(rows, cols));
    },
    close() {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onEnd);
      if (ours) {
        if (raw) process.stdin.setRawMode(false);
        process.stdin.pause();
        process.stdin.destroy();
      }
      sock.destroy();
    },
  };
}
