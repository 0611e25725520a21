/**
 * Random access to the members of an image archive (`load`), which is untrusted and may list its
 * members in any order: a first pass over the file notes every member and keeps the small JSON
 * ones (manifests, configs, indexes) in memory; a second pass streams the members asked for
 * (layers) straight to their consumer. Nothing of the archive is written to disk as it is, so a
 * member named `../x` or a symlink pointing anywhere cannot reach outside: names are resolved
 * here, inside the archive, the way docker resolves them in its extraction directory (absolute
 * links and `..` stop at the archive's root). The whole archive may be gzip- or zstd-compressed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ArchiveError, LayerError } from '../errors.js';
import { readTar, type EntryType, type TarEntry } from '../overlay/tar-reader.js';
import { decompressed } from '../util/compression.js';

/** What is kept in memory: the largest manifest or config containers/image accepts is 4 MiB. */
const MAX_METADATA_MEMBER = 4 * 1024 * 1024;
const MAX_METADATA_TOTAL = 64 * 1024 * 1024;
const MAX_MEMBERS = 100_000;
const MAX_LINK_HOPS = 40;

export interface ArchiveMember {
  /** Position among the archive's entries: the same in every pass. */
  index: number;
  name: string;
  type: EntryType;
  size: number;
  linkname: string;
  /** The content, for small members that look like JSON. */
  data?: Buffer;
}

function normalizeName(raw: string, label: string): string {
  if (raw.includes('\0')) throw new ArchiveError(`${label} has a member name with a NUL byte`);
  const rel = path.posix.normalize(raw.replace(/^\/+/, '') || '.');
  if (rel === '..' || rel.startsWith('../')) throw new ArchiveError(`${label} has a member "${raw}" that points outside the archive`);
  return rel === '.' ? '' : rel.replace(/\/+$/, '');
}

/** JSON by its name, or by its first byte that is not white space being `{` or `[`. */
function looksLikeMetadata(name: string, first: Buffer): boolean {
  if (name.endsWith('.json') || name === 'oci-layout' || name === 'repositories') return true;
  for (const b of first) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b === 0x7b || b === 0x5b;
  }
  return true; // only white space so far: too short to tell, and small anyway
}

/** The archive's tar reader errors speak of layers; here the archive itself is meant. */
function asArchiveError(e: unknown, label: string): unknown {
  if (e instanceof LayerError) return new ArchiveError(`${label} is not a valid archive: ${e.message.replace(/ in layer\b| layer\b/g, '')}`);
  return e;
}

export class ArchiveReader {
  private constructor(
    private readonly file: string,
    readonly label: string,
    private readonly members: Map<string, ArchiveMember>,
  ) {}

  /** One pass over the archive's entries; the file is closed however the pass ends. */
  private static async *entries(file: string, label: string): AsyncGenerator<TarEntry> {
    const input = fs.createReadStream(file, { highWaterMark: 1 << 20 });
    try {
      yield* readTar(decompressed(input, label));
    } finally {
      input.destroy();
    }
  }

  /** The first pass: every member's name, type and size; small JSON members' content. */
  static async open(file: string, label: string): Promise<ArchiveReader> {
    const members = new Map<string, ArchiveMember>();
    let index = 0;
    let kept = 0;
    try {
      for await (const e of ArchiveReader.entries(file, label)) {
        if (index >= MAX_MEMBERS) throw new ArchiveError(`${label} has more than ${MAX_MEMBERS} members`);
        const name = normalizeName(e.path, label);
        const linkname = e.type === 'hardlink' ? normalizeName(e.linkname, label) : e.linkname;
        const m: ArchiveMember = { index: index++, name, type: e.type, size: e.size, linkname };
        if (e.type === 'file' && e.size > 0 && e.size <= MAX_METADATA_MEMBER) {
          const chunks: Buffer[] = [];
          let n = 0;
          for await (const c of e.body) {
            if (n === 0 && !looksLikeMetadata(name, c)) break;
            chunks.push(Buffer.from(c));
            n += c.length;
          }
          if (n === e.size) {
            kept += n;
            if (kept > MAX_METADATA_TOTAL) throw new ArchiveError(`${label} has more than ${MAX_METADATA_TOTAL >> 20} MiB of metadata`);
            m.data = Buffer.concat(chunks, n);
          }
        }
        members.set(name, m); // a later member of the same name replaces an earlier one, as on extraction
      }
    } catch (e) {
      throw asArchiveError(e, label);
    }
    if (index === 0) throw new ArchiveError(`${label} is empty`);
    return new ArchiveReader(file, label, members);
  }

  /** The regular file a name leads to, through symlinks and hard links inside the archive. */
  find(name: string): ArchiveMember | undefined {
    let hops = 0;
    let pending = name.split('/');
    let done: string[] = [];
    for (;;) {
      while (pending.length) {
        const c = pending.shift()!;
        if (c === '' || c === '.') continue;
        if (c === '..') {
          done.pop();
          continue;
        }
        const m = this.members.get([...done, c].join('/'));
        if (m?.type === 'symlink') {
          if (++hops > MAX_LINK_HOPS) throw new ArchiveError(`${this.label}: too many levels of symbolic links at ${name}`);
          if (m.linkname.startsWith('/')) done = [];
          pending = [...m.linkname.split('/'), ...pending];
          continue;
        }
        done.push(c);
      }
      const m = this.members.get(done.join('/'));
      if (m?.type !== 'hardlink') return m?.type === 'file' ? m : undefined;
      if (++hops > MAX_LINK_HOPS) throw new ArchiveError(`${this.label}: too many levels of links at ${name}`);
      pending = m.linkname.split('/');
      done = [];
    }
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  member(name: string): ArchiveMember {
    const m = this.find(name);
    if (!m) throw new ArchiveError(`${this.label} has no ${name}`);
    return m;
  }

  /** A small member's content (manifests, configs, indexes). */
  bytes(name: string): Buffer {
    const m = this.member(name);
    if (m.data) return m.data;
    if (m.size === 0) return Buffer.alloc(0);
    throw new ArchiveError(`${this.label}: ${name} is not a metadata document (${m.size} bytes${m.size > MAX_METADATA_MEMBER ? ', too large' : ''})`);
  }

  json(name: string): unknown {
    try {
      return JSON.parse(this.bytes(name).toString('utf8'));
    } catch (e) {
      if (e instanceof ArchiveError) throw e;
      throw new ArchiveError(`${this.label}: ${name} is not valid JSON`);
    }
  }

  /**
   * The second pass: hands the body of each wanted member (by index) to its consumer, in archive
   * order, and stops after the last one.
   */
  async stream(wanted: Map<number, (body: AsyncIterable<Buffer>, m: ArchiveMember) => Promise<void>>): Promise<void> {
    if (wanted.size === 0) return;
    const byIndex = new Map([...this.members.values()].map((m) => [m.index, m]));
    let index = 0;
    let left = wanted.size;
    for await (const e of ArchiveReader.entries(this.file, this.label)) {
      const consume = wanted.get(index);
      const m = byIndex.get(index++);
      if (!consume) continue;
      if (!m || m.type !== 'file' || e.type !== 'file' || e.size !== m.size) throw new ArchiveError(`${this.label} changed while it was read`);
      await consume(e.body, m);
      if (--left === 0) return;
    }
    throw new ArchiveError(`${this.label} changed while it was read (it ended early)`);
  }
}
