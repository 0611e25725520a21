/**
 * The outer tar of an image archive (`save`): directories and files whose sizes are known before
 * their bytes are read (layer tars are rebuilt from the store as they are written). Entries are
 * owned by root, mode 0644/0755, dated 1970, so the same images always give the same archive.
 */
import { ArchiveError } from '../errors.js';
import { END_OF_ARCHIVE, entryHeader, padding } from '../overlay/tar-writer.js';

export type OuterMember =
  | { path: string; dir: true }
  | { path: string; dir?: false; size: number; data: () => AsyncIterable<Buffer> };

/** A member whose bytes are already in memory (JSON documents). */
export function memberOf(path: string, data: Buffer | string): OuterMember {
  const buf = Buffer.from(data);
  return { path, size: buf.length, data: async function* () { yield buf; } };
}

/** Passes exactly `size` bytes through: a header promised that many, so more or fewer would corrupt the archive. */
async function* exactly(src: AsyncIterable<Buffer>, size: number, path: string): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const chunk of src) {
    n += chunk.length;
    if (n > size) throw new ArchiveError(`${path} grew while it was written (more than ${size} bytes)`);
    yield chunk;
  }
  if (n !== size) throw new ArchiveError(`${path} is ${n} bytes, ${size} were expected`);
}

export async function* outerTar(members: OuterMember[]): AsyncGenerator<Buffer> {
  for (const m of members) {
    if (m.dir) {
      yield entryHeader({ path: `${m.path}/`, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 0 });
      continue;
    }
    yield entryHeader({ path: m.path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: m.size });
    yield* exactly(m.data(), m.size, m.path);
    yield padding(m.size);
  }
  yield END_OF_ARCHIVE;
}
