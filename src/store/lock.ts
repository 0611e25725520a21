import fs from 'node:fs';
import path from 'node:path';
import { flock, LOCK_EX, LOCK_UN } from '../rootless/syscalls.js';
import { ensureDir } from '../util/fsutil.js';

/**
 * An exclusive flock around a read-modify-write. flock (not a pid file) because the kernel
 * releases it when the holder dies, even by SIGKILL: there is never a stale lock to break.
 */
export async function withLock<T>(lockFile: string, fn: () => T | Promise<T>): Promise<T> {
  ensureDir(path.dirname(lockFile));
  const fd = fs.openSync(lockFile, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    flock(fd, LOCK_EX);
    try {
      return await fn();
    } finally {
      flock(fd, LOCK_UN);
    }
  } finally {
    fs.closeSync(fd);
  }
}
