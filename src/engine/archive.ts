/**
 * The API's `archive` use cases (`docker cp` through the socket): a path's stat, a tar of it, and
 * a tar extracted into a directory, all inside the running container (tar and stat run there, as
 * `tsctr cp` does). The shim's exec wants real pipes, so a `cat` on the host relays between them
 * and the Node streams of the request and response.
 */
import type { Readable, Writable } from 'node:stream';

export interface PathStat {
  name: string;
  size: number;
  /** Go's os.FileMode bits, as docker sends them. */
  mode: number;
  mtime: string;
  linkTarget: string;
}

interface Piped {
  stdin?: Readable;
  stdout?: Writable;
}

/** Runs a command in the container with Node streams as its stdin/stdout; its exit code and stderr. */
async function execPiped(query: string, command: string[], io: Piped): Promise<{ code: number; stderr: string }> {
  const { spawn } = await import('node:child_process');
  const { execInContainer } = await import('../container/exec.js');
  const relay = spawn('cat', [], { stdio: ['pipe', 'pipe', 'ignore'] });
  const relayDone = new Promise<void>((r) => relay.on('close', () => r()));
  let code: number;
  if (io.stdin) {
    io.stdin.pipe(relay.stdin!);
    relay.stdin!.on('error', () => undefined);
    code = await execInContainer(query, { command, interactive: true, tty: false, detach: false, env: [], envFile: [], stdio: [relay.stdout!, 'ignore', 'ignore'] });
    io.stdin.unpipe(relay.stdin!);
    relay.kill();
  } else {
    relay.stdout!.pipe(io.stdout!, { end: false });
    relay.stdin!.on('error', () => undefined);
    code = await execInContainer(query, { command, interactive: false, tty: false, detach: false, env: [], envFile: [], stdio: ['ignore', relay.stdin!, 'ignore'] });
  }
  await relayDone;
  return { code, stderr: '' };
}

/** Go's FileMode from a st_mode (its type bits differ from the kernel's). */
function goMode(stMode: number): number {
  const perm = stMode & 0o777;
  const special = (stMode & 0o4000 ? 1 << 23 : 0) | (stMode & 0o2000 ? 1 << 22 : 0) | (stMode & 0o1000 ? 1 << 20 : 0);
  const type = stMode & 0o170000;
  const t = type === 0o040000 ? 1 << 31 : type === 0o120000 ? 1 << 27 : type === 0o010000 ? 1 << 25 : type === 0o140000 ? 1 << 24 : type === 0o020000 ? (1 << 26) | (1 << 21) : type === 0o060000 ? 1 << 26 : 0;
  return (t | special | perm) >>> 0;
}

/** lstat of a path in the container; undefined when there is none. */
export async function statContainerPath(query: string, p: string): Promise<PathStat | undefined> {
  const { PassThrough } = await import('node:stream');
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const { code } = await execPiped(query, ['sh', '-c', 'stat -c "%s %f %Y" -- "$1" && { [ -L "$1" ] && readlink -- "$1" || true; }', 'stat', p], { stdout: out });
  if (code !== 0) return undefined;
  const [line = '', link = ''] = text.split('\n');
  const [size, hex, mtime] = line.trim().split(' ');
  const name = p.replace(/\/+$/, '').split('/').pop() || '/';
  return { name, size: Number(size), mode: goMode(parseInt(hex ?? '0', 16)), mtime: new Date(Number(mtime) * 1000).toISOString(), linkTarget: link.trim() };
}

/** A tar of the path (its last component at the top, as `docker cp` expects) written to `out`. */
export async function archiveContainerPath(query: string, p: string, out: Writable): Promise<void> {
  const { TsctrError } = await import('../errors.js');
  const trimmed = p.replace(/\/+$/, '') || '/';
  const dir = trimmed === '/' ? '/' : trimmed.slice(0, trimmed.lastIndexOf('/')) || '/';
  const base = trimmed === '/' ? '.' : trimmed.slice(trimmed.lastIndexOf('/') + 1);
  const { code } = await execPiped(query, ['tar', '-cf', '-', '-C', dir, base], { stdout: out });
  if (code === 127) throw new TsctrError('copying needs tar inside the container, and it has none');
  if (code !== 0) throw new TsctrError(`copying failed inside the container (tar exit ${code})`);
}

/** Extracts a tar stream into a directory of the container. */
export async function extractIntoContainer(query: string, dir: string, tar: Readable): Promise<void> {
  const { TsctrError } = await import('../errors.js');
  const { code } = await execPiped(query, ['tar', '-xf', '-', '-C', dir], { stdin: tar });
  if (code === 127) throw new TsctrError('copying needs tar inside the container, and it has none');
  if (code !== 0) throw new TsctrError(`extracting into ${dir} failed inside the container (tar exit ${code})`);
}
