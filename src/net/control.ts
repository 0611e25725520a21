/**
 * A client of the network holder's control socket (AF_UNIX SOCK_SEQPACKET: one message per request
 * and per reply). Node's net module has no SEQPACKET, so this goes through koffi, synchronously,
 * with a receive timeout so a wedged holder cannot hang the CLI.
 */
import { TsctrError } from '../errors.js';
import { loadKoffi } from '../runtime/sea.js';

type Fn = (...args: unknown[]) => number;
interface Sock {
  socket: Fn;
  connect: Fn;
  send: Fn;
  recv: Fn;
  setsockopt: Fn;
  close: Fn;
  errno: () => number;
}

let lib: Sock | undefined;

function load(): Sock {
  if (lib) return lib;
  const l = loadKoffi().load('libc.so.6');
  const errnoLoc = l.func('int *__errno_location(void)');
  const koffi = loadKoffi();
  lib = {
    socket: l.func('int socket(int domain, int type, int protocol)'),
    connect: l.func('int connect(int fd, const void *addr, uint32_t len)'),
    send: l.func('intptr_t send(int fd, const void *buf, size_t len, int flags)'),
    recv: l.func('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)'),
    setsockopt: l.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    close: l.func('int close(int fd)'),
    errno: () => koffi.decode(errnoLoc(), 'int') as number,
  };
  return lib;
}

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const MSG_NOSIGNAL = 0x4000;
const EINTR = 4;

export class ControlConnection {
  private constructor(private fd: number) {}

  /** undefined when nothing listens there (no holder, or one that just exited). */
  static open(socketPath: string, timeoutSec = 20): ControlConnection | undefined {
    const l = load();
    const fd = l.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new TsctrError(`socket: errno ${l.errno()}`);
    const addr = Buffer.alloc(110);
    addr.writeUInt16LE(AF_UNIX, 0);
    if (Buffer.byteLength(socketPath) > 107) throw new TsctrError(`socket path too long: ${socketPath}`);
    addr.write(socketPath, 2);
    if (l.connect(fd, addr, 2 + Buffer.byteLength(socketPath) + 1) < 0) {
      l.close(fd);
      return undefined;
    }
    const tv = Buffer.alloc(16);
    tv.writeBigInt64LE(BigInt(timeoutSec), 0);
    l.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16);
    return new ControlConnection(fd);
  }

  /** One request, one reply: the reply's data after `ok`, or a TsctrError with the holder's message. */
  request(fields: string[]): string {
    const l = load();
    if (this.fd < 0) throw new TsctrError('network holder connection closed');
    const msg = Buffer.from(fields.join('\t'));
    if (l.send(this.fd, msg, msg.length, MSG_NOSIGNAL) < 0) throw new TsctrError(`network holder: send failed (errno ${l.errno()})`);
    const buf = Buffer.alloc(65536);
    let n: number;
    while ((n = l.recv(this.fd, buf, buf.length, 0)) < 0 && l.errno() === EINTR);
    if (n < 0) throw new TsctrError(`network holder did not answer (errno ${l.errno()})`);
    if (n === 0) throw new TsctrError('network holder closed the connection');
    const reply = buf.subarray(0, n).toString('utf8').replace(/\n$/, '');
    if (reply === 'ok' || reply.startsWith('ok ') || reply.startsWith('ok\n')) return reply.slice(3);
    throw new TsctrError(reply.startsWith('error ') ? `network holder: ${reply.slice(6)}` : `network holder: unexpected reply ${JSON.stringify(reply)}`);
  }

  close(): void {
    if (this.fd >= 0) load().close(this.fd);
    this.fd = -1;
  }
}
