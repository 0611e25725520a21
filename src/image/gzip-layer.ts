/**
 * A stored layer compressed for push: its exact tar (rebuilt from the layer directory, checked
 * against the diffID as it streams) through gzip into a file under tmp/, hashed on the way. The
 * settings are fixed (level 6, no name or time in the header, as node writes it), so the same
 * layer always gives the same blob, and pushing it twice to a registry finds it there the second
 * time. Must run as root in the user namespace, like everything that reads layer files.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { storePaths } from '../paths.js';
import { tmpName } from '../util/fsutil.js';
import { layerTar } from './layers.js';

export interface GzipBlob {
  /** Under storePaths.tmp(), named so that garbage collection removes it if we die. */
  file: string;
  digest: string;
  size: number;
}

const GZIP_LEVEL = 6;

export async function gzipLayer(diffId: string): Promise<GzipBlob> {
  const file = tmpName(storePaths.tmp(), 'push');
  const hash = crypto.createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    await pipeline(Readable.from(layerTar(diffId)), zlib.createGzip({ level: GZIP_LEVEL }), tap, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  } catch (e) {
    fs.rmSync(file, { force: true });
    throw e;
  }
  return { file, digest: `sha256:${hash.digest('hex')}`, size };
}
