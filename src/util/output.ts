/**
 * Writing a stream of bytes (an archive) to a file or to stdout. A file appears whole or not at
 * all: it is written under a temporary name beside it, synced, then renamed over the target; on
 * failure or interruption the temporary is removed and whatever was there before stays.
 */
import fs from 'node:fs';
import path from 'node:path';
import tty from 'node:tty';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TsctrError } from '../errors.js';
import { tmpName } from './fsutil.js';

const BATCH = 1 << 20;

/** Gathers small chunks (tar headers, padding) into writes of about a megabyte. */
export async function* batched(src: AsyncIterable<Buffer>, size = BATCH): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of src) {
    if (n === 0 && chunk.length >= size) {
      yield chunk;
      continue;
    }
    parts.push(chunk);
    n += chunk.length;
    if (n >= size) {
      yield Buffer.concat(parts, n);
      parts = [];
      n = 0;
    }
  }
  if (n) yield Buffer.concat(parts, n);
}

/** docker's refusal to write an archive to a terminal (`save`, `export` without -o). */
export function refuseTerminalStdout(): void {
  if (tty.isatty(1)) throw new TsctrError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
}

/**
 * Removes `file` if the process is told to stop (Ctrl-C, or SIGTERM forwarded by the parent of a
 * re-executed command) while it is being written; the returned function disarms that.
 */
export function removeOnSignal(file: string): () => void {
  // `on`, not `once`: Ctrl-C may arrive twice (from the terminal and passed on by the parent), and
  // a second one with no listener would kill the process before the file is gone.
  let stopping = false;
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => {
    const h = () => {
      if (stopping) return;
      stopping = true;
      fs.rmSync(file, { recursive: true, force: true });
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

async function writeAll(fh: fs.promises.FileHandle, chunk: Buffer): Promise<void> {
  for (let off = 0; off < chunk.length; ) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

/** Writes `data` to `file` atomically, or to stdout when no file is given. */
export async function writeOutput(file: string | undefined, data: AsyncIterable<Buffer>): Promise<void> {
  if (file === undefined) {
    // Not ended: stdout belongs to the process, and an error already written stays visible.
    await pipeline(Readable.from(batched(data)), process.stdout, { end: false });
    return;
  }
  const target = path.resolve(file);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(target);
  } catch {
    /* a new file */
  }
  if (st?.isDirectory()) throw new TsctrError(`${file} is a directory`);
  const tmp = tmpName(path.dirname(target), `.${path.basename(target)}`);
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(tmp, 'wx', 0o666);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new TsctrError(`cannot create ${file}: ${why}`);
  }
  const disarm = removeOnSignal(tmp);
  try {
    for await (const chunk of batched(data)) await writeAll(fh, chunk);
    await fh.sync();
    await fh.close();
    fs.renameSync(tmp, target);
  } catch (e) {
    await fh.close().catch(() => undefined);
    fs.rmSync(tmp, { force: true });
    throw e;
  } finally {
    disarm();
  }
}
