/**
 * Random bytes for IDs, names and temporary files, read from the kernel: loading node:crypto costs
 * ~2 ms, a fair share of a `run`, and none of these needs more than /dev/urandom gives.
 */
import fs from 'node:fs';

export function randomBytes(n: number): Buffer {
  const buf = Buffer.alloc(n);
  const fd = fs.openSync('/dev/urandom', 'r');
  try {
    for (let got = 0; got < n; ) got += fs.readSync(fd, buf, got, n - got, null);
  } finally {
    fs.closeSync(fd);
  }
  return buf;
}

export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** Uniform in [0, max), max < 2^32 (rejection sampling: no modulo bias). */
export function randomInt(max: number): number {
  const limit = Math.floor(0x100000000 / max) * max;
  for (;;) {
    const v = randomBytes(4).readUInt32LE(0);
    if (v < limit) return v % max;
  }
}
