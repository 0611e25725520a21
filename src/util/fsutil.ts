import fs from 'node:fs';
import path from 'node:path';
import { TsctrError } from '../errors.js';
import { startTimeOf } from './proc.js';

/** Private by default: one user's state is nobody else's business. */
export function ensureDir(dir: string, mode = 0o700): void {
  fs.mkdirSync(dir, { recursive: true, mode });
}

/**
 * A name for a file or directory about to be created exclusively ('wx', mkdir): the pid keeps
 * processes apart, the random part a process's own names and what a dead process with the same
 * pid left. Not a secret (the store is private), so Math.random: no syscall on a hot path.
 */
export function tmpName(dir: string, prefix: string): string {
  return path.join(dir, `${prefix}.${process.pid}.${Math.random().toString(36).slice(2, 10)}`);
}

/**
 * Write-then-rename, so a reader never sees a half-written file. With `durable` (the default) the
 * data is fsynced first, so a crash leaves either the old or the new content; files regenerated at
 * every container start skip that cost.
 */
export function atomicWriteFile(file: string, data: string | Buffer, mode = 0o600, durable = true): void {
  const tmp = tmpName(path.dirname(file), `.${path.basename(file)}`);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    fs.writeFileSync(fd, data);
    if (durable) fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}

export function readFileIfExists(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export function pathExists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Is a process with this pid alive? A zombie is not: it has exited, nobody reaped it yet. */
export function pidAlive(pid: number): boolean {
  return startTimeOf(pid) !== undefined;
}

/** An archive or tarball to read: docker's words for a missing one; a directory is none either. */
export function checkInputFile(file: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new TsctrError(`open ${file}: no such file or directory`);
  }
  if (st.isDirectory()) throw new TsctrError(`${file} is a directory, not an archive`);
}
