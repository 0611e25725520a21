import { StoreCorruptError } from '../errors.js';
import { atomicWriteFile, readFileIfExists } from '../util/fsutil.js';

export const SCHEMA_VERSION = 1;

interface Versioned {
  schemaVersion: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The shape every index has: `key` maps ids to records, each an object with its own id and, for
 * each name in `objects`, an object there. A file of another shape (edited by hand, written by
 * something else) is refused as a whole with one clear line, not met later as a TypeError.
 */
export interface Shape {
  key: string;
  objects?: string[];
}

/** Reads a versioned JSON document; a missing file is the empty document, a broken one a clear error. */
export function readJson<T extends Versioned>(file: string, empty: () => T, shape?: Shape): T {
  const raw = readFileIfExists(file);
  if (!raw) return empty();
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new StoreCorruptError(`store file ${file} is corrupt (not valid JSON); move it away or run 'tsctr system reset'`);
  }
  const v = (doc as Versioned | null)?.schemaVersion;
  if (typeof v !== 'number') {
    throw new StoreCorruptError(`store file ${file} is corrupt (no schemaVersion); move it away or run 'tsctr system reset'`);
  }
  if (v > SCHEMA_VERSION) {
    throw new StoreCorruptError(`store file ${file} has schema version ${v}, newer than this tsctr understands (${SCHEMA_VERSION}); upgrade tsctr`);
  }
  if (shape) {
    const corrupt = (why: string) => new StoreCorruptError(`store file ${file} is corrupt (${why}); move it away or run 'tsctr system reset'`);
    const records = (doc as Record<string, unknown>)[shape.key];
    if (!isObject(records)) throw corrupt(`"${shape.key}" is not an object`);
    for (const [id, r] of Object.entries(records)) {
      if (!isObject(r) || r.id !== id) throw corrupt(`record ${JSON.stringify(id)} is not a record of that id`);
      for (const k of shape.objects ?? []) if (!isObject(r[k])) throw corrupt(`record ${id.slice(0, 12)} has no "${k}" object`);
    }
  }
  return doc as T;
}

export function writeJson(file: string, doc: Versioned): void {
  atomicWriteFile(file, JSON.stringify(doc, null, 1) + '\n');
}
