/**
 * `.env`, `--env-file` and a service's `env_file`, read as compose reads them: `KEY=VALUE` lines,
 * `export ` allowed, `#` comments, single quotes literal, double quotes with escapes (`\n`, `\t`,
 * `\\`, `\"`) and variables, unquoted values trimmed, cut at ` #`, with variables. A variable refers
 * to a key set earlier in the file or to the lookup. A bare `KEY` takes the lookup's value (left out
 * when there is none).
 */
import fs from 'node:fs';
import { ComposeError as ConfigError } from './errors.js';
import { interpolateString, type Lookup } from './interpolate.js';

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** An env file is small; a bigger one is a mistake (or /dev/zero). */
const MAX_BYTES = 4 * 1024 * 1024;

export function readEnvFile(file: string, lookup: Lookup = () => undefined): Record<string, string> {
  let text: string;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw new ConfigError(`env file ${file}: not a regular file`);
      if (st.size > MAX_BYTES) throw new ConfigError(`env file ${file}: larger than ${MAX_BYTES} bytes`);
      text = fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError(`env file ${file} not found: stat ${file}: no such file or directory`);
    throw new ConfigError(`env file ${file}: ${(err as Error).message}`);
  }
  return parseEnv(text, lookup, file);
}

export function parseEnv(text: string, lookup: Lookup = () => undefined, file = '.env'): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const look: Lookup = (n) => (Object.prototype.hasOwnProperty.call(out, n) ? out[n] : lookup(n));
  let i = 0;
  let line = 1;
  const src = text.replace(/\r\n?/g, '\n');
  const bad = (why: string) => new ConfigError(`${file}: line ${line}: ${why}`);
  while (i < src.length) {
    let eol = src.indexOf('\n', i);
    if (eol < 0) eol = src.length;
    let raw = src.slice(i, eol).trim();
    if (raw === '' || raw.startsWith('#')) {
      i = eol + 1;
      line++;
      continue;
    }
    if (raw.startsWith('export ')) raw = raw.slice(7).trimStart();
    const eq = raw.indexOf('=');
    const key = (eq < 0 ? raw : raw.slice(0, eq)).trim();
    if (!KEY.test(key)) throw bad(`unexpected character in variable name ${JSON.stringify(key)}`);
    if (eq < 0) {
      const v = lookup(key);
      if (v !== undefined) out[key] = v;
      i = eol + 1;
      line++;
      continue;
    }
    // The value starts after `=` in the source, since a quoted value may span lines.
    let p = i + src.slice(i, eol).indexOf('=') + 1;
    while (src[p] === ' ' || src[p] === '\t') p++;
    const q = src[p];
    if (q === "'" || q === '"') {
      let v = '';
      let j = p + 1;
      for (; j < src.length && src[j] !== q; j++) {
        if (src[j] === '\n') line++;
        if (q === '"' && src[j] === '\\' && j + 1 < src.length) {
          const e = src[++j]!;
          v += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === '\\' || e === '"' || e === '$' ? (e === '$' ? '$$' : e) : `\\${e}`;
        } else v += src[j];
      }
      if (j >= src.length) throw bad(`unterminated quoted value for ${key}`);
      out[key] = q === '"' ? interpolateString(v, look) : v;
      let next = src.indexOf('\n', j);
      if (next < 0) next = src.length;
      i = next + 1;
      line++;
      continue;
    }
    let v = src.slice(p, eol);
    const hash = v.search(/\s#/);
    if (hash >= 0) v = v.slice(0, hash);
    out[key] = interpolateString(v.trim(), look);
    i = eol + 1;
    line++;
  }
  return { ...out };
}
