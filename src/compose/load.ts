/**
 * A compose project from its files, as docker compose v2 loads it: find the files (or take `-f`),
 * read `.env` / `--env-file`, then per file parse the YAML, interpolate the values, validate against
 * the compose-spec schema; then merge the files in order, decide the project name and normalise
 * (normalize.ts). Every error is one ComposeError naming the file (and the line, when the YAML knows
 * it); nothing here creates anything.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import { readEnvFile } from './env-file.js';
import { ComposeError } from './errors.js';
import { interpolateTree, InterpolationError } from './interpolate.js';
import { mergeTrees, type Tags } from './merge.js';
import type { Project } from './model.js';
import { normalizeProject } from './normalize.js';
import { isMap, type Tree } from './tree.js';

export interface LoadOptions {
  /** `-f`, in order; none: discovery from cwd upwards (or COMPOSE_FILE). */
  files?: string[];
  /** `-p`. */
  projectName?: string;
  /** `--env-file`, in order (later ones win); none: `.env` in the project directory, if there is one. */
  envFiles?: string[];
  /** `--profile`; none: COMPOSE_PROFILES. */
  profiles?: string[];
  /** `--project-directory`; default: the directory of the first file. */
  projectDirectory?: string;
  cwd: string;
  env: Record<string, string | undefined>;
}

export const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];
export const OVERRIDE_FILES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yaml', 'docker-compose.override.yml'];

/** A compose file is text written by a person; anything bigger is a mistake or an attack. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;
/** YAML aliases may expand a small file into a huge tree (billion laughs): the parser refuses beyond this. */
const MAX_ALIAS_COUNT = 1000;
/** Deeper than any compose file needs; a deeper tree is refused before anything walks it recursively. */
const MAX_DEPTH = 64;

export async function loadProject(opts: LoadOptions): Promise<Project> {
  const cwd = path.resolve(opts.cwd);
  const warnings: string[] = [];
  // COMPOSE_FILE and COMPOSE_PROFILES may come from a .env in the working directory too.
  const cwdDotEnv = opts.envFiles?.length ? {} : readDotEnvIfAny(path.join(cwd, '.env'), opts.env);
  const early = (name: string) => opts.env[name] ?? cwdDotEnv[name];

  const files = resolveFiles(opts, cwd, early, warnings);
  const workingDir = opts.projectDirectory ? path.resolve(cwd, opts.projectDirectory) : path.dirname(files[0]!);

  // The interpolation environment: the process environment wins over the env files.
  let fileEnv: Record<string, string> = {};
  if (opts.envFiles?.length) {
    for (const f of opts.envFiles) fileEnv = { ...fileEnv, ...readEnvFile(path.resolve(cwd, f), (n) => opts.env[n] ?? fileEnv[n]) };
  } else {
    fileEnv = readDotEnvIfAny(path.join(workingDir, '.env'), opts.env);
  }
  const environment: Record<string, string> = { ...fileEnv };
  for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) environment[k] = v;
  const lookup = (n: string) => (Object.prototype.hasOwnProperty.call(environment, n) ? environment[n] : undefined);

  const unset = new Set<string>();
  let merged: Tree = {};
  for (const file of files) {
    const { tree, tags } = await readComposeFile(file, lookup, (n) => unset.add(n));
    merged = mergeTrees(merged, tree, tags);
  }
  for (const n of unset) warnings.unshift(`The "${n}" variable is not set. Defaulting to a blank string.`);

  const name = projectName(opts.projectName, environment.COMPOSE_PROJECT_NAME, merged.name, workingDir);
  const profiles = opts.profiles?.length ? opts.profiles : (environment.COMPOSE_PROFILES ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  return normalizeProject(merged, { name, workingDir, configFiles: files, environment, profiles, warnings });
}

function readDotEnvIfAny(file: string, env: Record<string, string | undefined>): Record<string, string> {
  try {
    if (!fs.statSync(file).isFile()) return {};
  } catch {
    return {};
  }
  return readEnvFile(file, (n) => env[n]);
}

function resolveFiles(opts: LoadOptions, cwd: string, early: (n: string) => string | undefined, warnings: string[]): string[] {
  if (opts.files?.length) return opts.files.map((f) => path.resolve(cwd, f));
  const fromEnv = early('COMPOSE_FILE');
  if (fromEnv) {
    const sep = early('COMPOSE_PATH_SEPARATOR') ?? ':';
    return fromEnv.split(sep).filter(Boolean).map((f) => path.resolve(cwd, f));
  }
  // As docker compose: the nearest directory, from the project directory (or cwd) upwards, that has a compose file.
  const start = opts.projectDirectory ? path.resolve(cwd, opts.projectDirectory) : cwd;
  for (let dir = start; ; dir = path.dirname(dir)) {
    const found = DEFAULT_FILES.filter((f) => isFile(path.join(dir, f)));
    if (found.length) {
      if (found.length > 1) warnings.push(`Found multiple config files with supported names: ${found.map((f) => path.join(dir, f)).join(', ')}\nUsing ${path.join(dir, found[0]!)}`);
      const files = [path.join(dir, found[0]!)];
      const override = OVERRIDE_FILES.find((f) => isFile(path.join(dir, f)));
      if (override) files.push(path.join(dir, override));
      return files;
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new ComposeError('no configuration file provided: not found');
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** docker compose's rule: lower case, only [a-z0-9_-], starting with a letter or digit. */
export function normalizeProjectName(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
}

const VALID_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** `-p`, then COMPOSE_PROJECT_NAME, then `name:`, then the project directory's name. */
export function projectName(flag: string | undefined, env: string | undefined, top: unknown, workingDir: string): string {
  const explicit = flag || env || (typeof top === 'string' && top ? top : undefined);
  if (explicit !== undefined) {
    if (!VALID_NAME.test(explicit)) {
      throw new ComposeError(`invalid project name "${explicit}": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`);
    }
    return explicit;
  }
  const name = normalizeProjectName(path.basename(workingDir));
  if (!name) throw new ComposeError(`project name could not be derived from the directory "${workingDir}": use -p`);
  return name;
}

/**
 * `mode: 0440` is octal in compose files (docker compose's YAML reader keeps YAML 1.1's leading-zero
 * octal), whereas YAML 1.2 would read 440.
 */
const LEADING_ZERO_OCTAL = {
  identify: (v: unknown) => typeof v === 'number' && Number.isInteger(v),
  default: true,
  tag: 'tag:yaml.org,2002:int',
  format: 'OCT',
  test: /^0[0-7]+$/,
  resolve: (s: string) => parseInt(s, 8),
};

interface ParsedFile {
  tree: Tree;
  tags: Tags;
}

/** One file: parsed, interpolated, validated. Errors name the file and, when known, the line. */
export async function readComposeFile(file: string, lookup: (n: string) => string | undefined, onUnset: (n: string) => void): Promise<ParsedFile> {
  const text = readText(file);
  const { parseDocument, LineCounter, isMap: isYamlMap, isSeq, isScalar, isPair } = await import('yaml');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, merge: true, uniqueKeys: true, prettyErrors: false, customTags: (tags) => [LEADING_ZERO_OCTAL, ...tags] });
  const firstError = doc.errors[0];
  if (firstError) {
    const pos = lines.linePos(firstError.pos[0]);
    // The parser reports its own stack overflow as an error of the document.
    const why = /call stack/i.test(firstError.message) ? 'nested too deeply' : firstError.message.split('\n')[0];
    throw new ComposeError(`${file}: ${pos ? `line ${pos.line}: ` : ''}${why}`);
  }

  // Node positions for messages, and the `!reset` / `!override` tags merge needs, by path.
  const tags: Tags = { reset: [], override: [] };
  const lineOf = new Map<string, number>();
  const keyLineOf = new Map<string, number>();
  const walk = (node: unknown, p: (string | number)[], depth: number): void => {
    if (depth > MAX_DEPTH) throw new ComposeError(`${file}: line ${lineAt(node)}: nested deeper than ${MAX_DEPTH} levels`);
    if (!node || typeof node !== 'object') return;
    const n = node as { tag?: string; range?: [number, number, number] };
    const key = JSON.stringify(p);
    if (n.range) lineOf.set(key, lines.linePos(n.range[0]).line);
    if (n.tag === '!reset') tags.reset.push(p);
    if (n.tag === '!override') tags.override.push(p);
    if (isYamlMap(node)) {
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const k = isScalar(item.key) ? String(item.key.value) : String(item.key);
        const kr = (item.key as { range?: [number, number, number] } | null)?.range;
        if (kr) keyLineOf.set(JSON.stringify([...p, k]), lines.linePos(kr[0]).line);
        walk(item.value, [...p, k], depth + 1);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...p, i], depth + 1));
    }
  };
  const lineAt = (node: unknown) => {
    const r = (node as { range?: [number, number, number] } | null)?.range;
    return r ? lines.linePos(r[0]).line : 0;
  };
  walk(doc.contents, [], 0);

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw new ComposeError(`${file}: ${errorMessage(err).split('\n')[0]}`);
  }
  if (raw === null || raw === undefined) raw = {};
  if (!isMap(raw)) throw new ComposeError(`${file}: Top-level object must be a mapping`);
  // `!reset` takes away what earlier files set; this file's own value for it does not count.
  for (const p of tags.reset) removeAt(raw, p);

  let tree: Tree;
  try {
    tree = interpolateTree(raw, lookup, onUnset) as Tree;
  } catch (err) {
    if (err instanceof InterpolationError) throw new ComposeError(`${file}: ${err.message}`);
    throw err;
  }

  const { validateTree } = await import('./validate.js');
  const problem = await validateTree(tree);
  if (problem) {
    const line = (problem.key !== undefined ? keyLineOf.get(JSON.stringify([...problem.path, problem.key])) : undefined) ?? nearestLine(lineOf, problem.path);
    throw new ComposeError(`${file}: ${line ? `line ${line}: ` : ''}${problem.message}`);
  }
  return { tree, tags };
}

function nearestLine(lineOf: Map<string, number>, p: (string | number)[]): number | undefined {
  for (let n = p.length; n >= 0; n--) {
    const l = lineOf.get(JSON.stringify(p.slice(0, n)));
    if (l) return l;
  }
  return undefined;
}

function removeAt(tree: Tree, p: (string | number)[]): void {
  let cur: unknown = tree;
  for (const k of p.slice(0, -1)) cur = Array.isArray(cur) ? cur[k as number] : isMap(cur) ? cur[String(k)] : undefined;
  const last = p[p.length - 1];
  if (last !== undefined && isMap(cur)) delete cur[String(last)];
}

function readText(file: string): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ComposeError(`open ${file}: no such file or directory`);
    throw new ComposeError(`open ${file}: ${errorMessage(err)}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new ComposeError(`${file}: not a regular file`);
    if (st.size > MAX_FILE_BYTES) throw new ComposeError(`${file}: larger than ${MAX_FILE_BYTES} bytes`);
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}
