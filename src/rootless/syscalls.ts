/**
 * The few syscalls Node does not expose, reached through koffi.
 * Loaded lazily: commands that only read state never pay for the FFI.
 */
import { loadKoffi } from '../runtime/sea.js';
import { parseIPv6 } from '../util/ipv6.js';

type Fn = (...args: unknown[]) => number;
interface Libc {
  flock: Fn;
  mknod: Fn;
  lsetxattr: Fn;
  lgetxattr: Fn;
  llistxattr: Fn;
  prctl: Fn;
  fcntl: Fn;
  socket: Fn;
  setsockopt: Fn;
  bind: Fn;
  listen: Fn;
  getsockname: Fn;
  close: Fn;
  pipe2: Fn;
  socketpair: Fn;
  waitpid: Fn;
  posix_spawn: Fn;
  posix_spawn_file_actions_init: Fn;
  posix_spawn_file_actions_adddup2: Fn;
  posix_spawn_file_actions_destroy: Fn;
  posix_spawnattr_init: Fn;
  posix_spawnattr_setflags: Fn;
  posix_spawnattr_destroy: Fn;
  errno: () => number;
}

let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  const koffi = loadKoffi();
  const lib = koffi.load('libc.so.6');
  const errnoLoc = lib.func('int *__errno_location(void)');
  libc = {
    flock: lib.func('int flock(int fd, int op)'),
    mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)'),
    llistxattr: lib.func('intptr_t llistxattr(const char *path, _Out_ void *list, size_t size)'),
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    bind: lib.func('int bind(int fd, const void *addr, uint32_t len)'),
    listen: lib.func('int listen(int fd, int backlog)'),
    getsockname: lib.func('int getsockname(int fd, _Inout_ void *addr, _Inout_ uint32_t *len)'),
    close: lib.func('int close(int fd)'),
    pipe2: lib.func('int pipe2(_Out_ int *fds, int flags)'),
    socketpair: lib.func('int socketpair(int domain, int type, int protocol, _Out_ int *fds)'),
    waitpid: lib.func('int waitpid(int pid, _Out_ int *status, int options)'),
    posix_spawn: lib.func('int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)'),
    posix_spawn_file_actions_init: lib.func('int posix_spawn_file_actions_init(void *actions)'),
    posix_spawn_file_actions_adddup2: lib.func('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)'),
    posix_spawn_file_actions_destroy: lib.func('int posix_spawn_file_actions_destroy(void *actions)'),
    posix_spawnattr_init: lib.func('int posix_spawnattr_init(void *attr)'),
    posix_spawnattr_setflags: lib.func('int posix_spawnattr_setflags(void *attr, short flags)'),
    posix_spawnattr_destroy: lib.func('int posix_spawnattr_destroy(void *attr)'),
    fcntl: lib.func('int fcntl(int fd, int cmd, ...)'),
    prctl: lib.func('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)'),
    errno: () => koffi.decode(errnoLoc(), 'int') as number,
  };
  return libc;
}

export class SyscallError extends Error {
  constructor(readonly call: string, readonly errno: number, path?: string) {
    super(`${call}${path ? ` ${path}` : ''}: errno ${errno}`);
  }
}

function check(call: string, rc: number, path?: string): void {
  if (rc < 0) throw new SyscallError(call, load().errno(), path);
}

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** Blocking flock on an open fd; the kernel drops it if the process dies, so no stale locks. */
export function flock(fd: number, op: number): void {
  check('flock', load().flock(fd, op));
}

const F_SETFD = 2;
const AF_UNIX = 1;

/**
 * A listening unix stream socket at path that is not close-on-exec, made without node:net: it is
 * for another program (the API listener, after an execve), and Node's event loop must never accept
 * a connection on it in between. The caller sets the umask and removes a stale socket first.
 */
export function listenUnixInheritable(path: string, backlog = 511): number {
  const lib = load();
  const name = Buffer.from(path);
  if (name.length >= 108) throw new SyscallError('bind', 36 /* ENAMETOOLONG */, path);
  const addr = Buffer.alloc(110);
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, 2);
  const fd = lib.socket(AF_UNIX, SOCK_STREAM, 0);
  check('socket', fd);
  for (const [call, rc] of [['bind', () => lib.bind(fd, addr, 2 + name.length + 1)], ['listen', () => lib.listen(fd, backlog)]] as const) {
    if (rc() < 0) {
      const errno = lib.errno();
      lib.close(fd);
      throw new SyscallError(call, errno, path);
    }
  }
  return fd;
}

/** Lets fd survive an execve (libuv opens every descriptor close-on-exec). */
export function clearCloexec(fd: number): void {
  check('fcntl', load().fcntl(fd, F_SETFD, 'int', 0));
}

const S_IFCHR = 0o020000;

/** Overlay's whiteout: a 0/0 character device, which Linux >= 5.8 lets an unprivileged user create. */
export function mknodWhiteout(path: string): void {
  check('mknod', load().mknod(path, S_IFCHR, 0), path);
}

const S_IFIFO = 0o010000;

export function mkfifo(path: string, mode: number): void {
  check('mknod', load().mknod(path, S_IFIFO | (mode & 0o7777), 0), path);
}

export function lsetxattr(path: string, name: string, value: Buffer): void {
  check('lsetxattr', load().lsetxattr(path, name, value, value.length, 0), path);
}

export function lgetxattr(path: string, name: string): Buffer | undefined {
  const buf = Buffer.alloc(4096);
  const n = load().lgetxattr(path, name, buf, buf.length);
  if (n < 0) return undefined;
  return buf.subarray(0, n);
}

/** Names of the extended attributes on path (not following a symlink); none where unsupported. */
export function llistxattr(path: string): string[] {
  const lib = load();
  let size = 1024;
  for (;;) {
    const buf = Buffer.alloc(size);
    const n = lib.llistxattr(path, buf, buf.length);
    if (n >= 0) return n === 0 ? [] : buf.toString('utf8', 0, n).split('\0').filter(Boolean);
    if (lib.errno() !== 34 /* ERANGE */ || size > 1 << 20) return [];
    size *= 4;
  }
}

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;

/**
 * Binds (and for TCP listens on) host:port the way the monitor will, then lets go: the port
 * actually bound (for port 0, the one the kernel chose), or the errno that says why not.
 * Synchronous and without node:net, whose listen() goes through the DNS module (~5 ms).
 */
export function probeBind(proto: 'tcp' | 'udp', host: string, port: number): { port: number } | { errno: number } {
  const lib = load();
  const v6 = host.includes(':');
  const addr = Buffer.alloc(v6 ? 28 : 16);
  addr.writeUInt16LE(v6 ? AF_INET6 : AF_INET, 0);
  addr.writeUInt16BE(port, 2);
  if (v6) {
    const bytes = parseIPv6(host);
    if (!bytes) return { errno: 99 };
    bytes.copy(addr, 8);
  } else {
    const parts = host.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) return { errno: 99 };
    Buffer.from(parts).copy(addr, 4);
  }
  const fd = lib.socket(v6 ? AF_INET6 : AF_INET, (proto === 'tcp' ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return { errno: lib.errno() };
  try {
    const one = Buffer.alloc(4);
    one.writeInt32LE(1);
    if (proto === 'tcp') lib.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4);
    if (lib.bind(fd, addr, addr.length) < 0 || (proto === 'tcp' && lib.listen(fd, 1) < 0)) return { errno: lib.errno() };
    const len = [addr.length];
    if (lib.getsockname(fd, addr, len) < 0) return { errno: lib.errno() };
    return { port: addr.readUInt16BE(2) };
  } finally {
    lib.close(fd);
  }
}

const O_CLOEXEC = 0o2000000;
const POSIX_SPAWN_SETSID = 0x80;

/**
 * Starts `path` in its own session with stdin/stdout/stderr on /dev/null and a pipe as fd 3; wait()
 * waits until it closes that pipe and exits, and returns what it wrote there and its exit status. For
 * the detached start of a container: glibc's posix_spawn (a vfork) costs a fraction of Node's
 * child_process, and this needs neither its module nor its stdio sockets.
 */
export function spawnWithFd3(path: string, argv: string[], env: NodeJS.ProcessEnv): { wait(): { output: string; status: number } } {
  const fs = process.getBuiltinModule('node:fs') as typeof import('node:fs');
  const lib = load();
  const fds = [0, 0];
  check('pipe2', lib.pipe2(fds, O_CLOEXEC));
  const [rd, wr] = fds as [number, number];
  const devnull = fs.openSync('/dev/null', 'r+');
  // Opaque glibc structs (80 and 336 bytes on x86_64): room to spare.
  const actions = Buffer.alloc(512);
  const attr = Buffer.alloc(1024);
  let pid = 0;
  try {
    lib.posix_spawn_file_actions_init(actions);
    lib.posix_spawnattr_init(attr);
    // dup2 clears close-on-exec on the copies; the originals stay close-on-exec.
    for (const [from, to] of [[devnull, 0], [devnull, 1], [devnull, 2], [wr, 3]] as const) check('posix_spawn', lib.posix_spawn_file_actions_adddup2(actions, from, to));
    lib.posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSID);
    const envp = Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
    const out = [0];
    const rc = lib.posix_spawn(out, path, actions, attr, [path, ...argv, null], [...envp, null]);
    if (rc !== 0) throw new SyscallError('posix_spawn', rc, path);
    pid = out[0]!;
  } finally {
    lib.posix_spawn_file_actions_destroy(actions);
    lib.posix_spawnattr_destroy(attr);
    fs.closeSync(devnull);
    fs.closeSync(wr);
  }
  return { wait: () => readFd3(rd, pid) };
}

/**
 * Starts `path` with a connected stream socket as its fd 3 (stdin and stdout on /dev/null, stderr
 * shared) and returns its pid and our end of the socket, a blocking descriptor for fs.readSync and
 * fs.writeSync: a synchronous conversation with a helper, without node:child_process.
 */
export function spawnWithSocket(path: string, argv: string[], env: NodeJS.ProcessEnv): { pid: number; fd: number } {
  const fs = process.getBuiltinModule('node:fs') as typeof import('node:fs');
  const lib = load();
  const fds = [0, 0];
  check('socketpair', lib.socketpair(1 /* AF_UNIX */, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
  const [ours, theirs] = fds as [number, number];
  const devnull = fs.openSync('/dev/null', 'r+');
  const actions = Buffer.alloc(512);
  const attr = Buffer.alloc(1024);
  try {
    lib.posix_spawn_file_actions_init(actions);
    lib.posix_spawnattr_init(attr);
    for (const [from, to] of [[devnull, 0], [devnull, 1], [theirs, 3]] as const) check('posix_spawn', lib.posix_spawn_file_actions_adddup2(actions, from, to));
    const envp = Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
    const out = [0];
    const rc = lib.posix_spawn(out, path, actions, attr, [path, ...argv, null], [...envp, null]);
    if (rc !== 0) {
      lib.close(ours);
      throw new SyscallError('posix_spawn', rc, path);
    }
    return { pid: out[0]!, fd: ours };
  } finally {
    lib.posix_spawn_file_actions_destroy(actions);
    lib.posix_spawnattr_destroy(attr);
    fs.closeSync(devnull);
    lib.close(theirs);
  }
}

function readFd3(rd: number, pid: number): { output: string; status: number } {
  const fs = process.getBuiltinModule('node:fs') as typeof import('node:fs');
  const lib = load();
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(4096);
  try {
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(rd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN' || (e as NodeJS.ErrnoException).code === 'EINTR') continue;
        throw e;
      }
      if (n === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
  } finally {
    fs.closeSync(rd);
  }
  const status = [0];
  while (lib.waitpid(pid, status, 0) < 0 && lib.errno() === 4 /* EINTR */);
  const st = status[0]!;
  return { output: Buffer.concat(chunks).toString('utf8'), status: (st & 0x7f) === 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f) };
}

const PR_SET_PDEATHSIG = 1;

/** Have the kernel send `signal` to this process when its parent dies. */
export function setParentDeathSignal(signal: number): void {
  check('prctl', load().prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0));
}
