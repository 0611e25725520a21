import { StoreCorruptError } from '../errors.js';
import { atomicWriteFile, readFileIfExists } from '../util/fsutil.js';

export const SCHEMA_VERSION = 1;

interface Versioned {
  schemaVersion: number;
}

/** Reads a versioned JSON document; a missing file is the empty document, a broken one a clear error. */
export function readJson<T extends Versioned>(file: string, empty: () => T): T {
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
  return doc as T;
}

export function writeJson(file: string, doc: Versioned): void {
  atomicWriteFile(file, JSON.stringify(doc, null, 1) + '\n');
}
