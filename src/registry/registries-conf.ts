/**
 * podman's registries.conf (containers-registries.conf(5)): mirrors, insecure and blocked
 * registries, location rewrites and unqualified-search registries, with containers/image's
 * matching and validation rules so that a file written for podman means the same here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { ConfigError } from '../errors.js';

export interface MirrorConf {
  location: string;
  insecure: boolean;
  /** `pull-from-mirror`: which references this mirror serves. */
  pullFromMirror?: 'all' | 'digest-only' | 'tag-only';
}

export interface RegistryConf {
  prefix: string;
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrors: MirrorConf[];
  mirrorByDigestOnly?: boolean;
}

export interface RegistriesConf {
  unqualifiedSearch: string[];
  registries: RegistryConf[];
  sources: string[];
}

export interface Endpoint {
  /** host[:port] to contact. */
  registry: string;
  /** The repository path there. */
  repository: string;
  /** Plain HTTP (and unverified TLS) allowed. */
  insecure: boolean;
  mirror: boolean;
}

type Table = Record<string, unknown>;

interface Parsed {
  conf: RegistriesConf;
  /** The key was present (even as []): a later file's list replaces, an absent one keeps. */
  searchSet: boolean;
}

function parseFile(text: string, file: string, toml: (text: string) => Table = parseToml as (text: string) => Table): Parsed {
  const fail = (msg: string) => new ConfigError(`${file}: ${msg}`);
  let doc: Table;
  try {
    doc = toml(text);
  } catch (e) {
    throw fail((e as Error).message.split('\n')[0]!);
  }
  const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
  const str = (v: unknown, what: string, dflt?: string): string => {
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'string') throw fail(`${what} must be a string`);
    return v;
  };
  const bool = (v: unknown, what: string): boolean => {
    if (v === undefined) return false;
    if (typeof v !== 'boolean') throw fail(`${what} must be true or false`);
    return v;
  };
  const list = (v: unknown, what: string): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw fail(`${what} must be a list of strings`);
    return v as string[];
  };
  const tables = (v: unknown, what: string): Table[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every(isTable)) throw fail(`${what} must be an array of tables ([[${what}]])`);
    return v;
  };
  /** containers/image's parseLocation: no trailing slash, no URL scheme. */
  const location = (v: string): string => {
    if (/^https?:\/\//.test(v)) throw fail(`invalid location '${v}': URI schemes are not supported`);
    return v.replace(/\/+$/, '');
  };

  const searchSet = doc['unqualified-search-registries'] !== undefined;
  const conf: RegistriesConf = {
    unqualifiedSearch: list(doc['unqualified-search-registries'], 'unqualified-search-registries').map(location),
    registries: [],
    sources: [file],
  };
  for (const r of tables(doc.registry, 'registry')) {
    const loc = location(str(r.location, 'registry.location', ''));
    const prefix = r.prefix === undefined ? loc : location(str(r.prefix, 'registry.prefix'));
    if (!prefix) throw fail('invalid condition: both location and prefix are unset');
    const wildcard = prefix.startsWith('*.');
    if (!loc && !wildcard) throw fail('invalid condition: location is unset and prefix is not in the format: *.example.com');
    if (wildcard && /[/@:]/.test(prefix)) {
      throw fail(`Wildcarded prefix should be in the format: *.example.com. Current prefix "${prefix}" is incorrectly formatted`);
    }
    const byDigest = bool(r['mirror-by-digest-only'], 'registry.mirror-by-digest-only');
    const mirrors = tables(r.mirror, 'registry.mirror').map((m): MirrorConf => {
      const mloc = location(str(m.location, 'registry.mirror.location', ''));
      if (!mloc) throw fail('invalid condition: mirror location is unset');
      const mirror: MirrorConf = { location: mloc, insecure: bool(m.insecure, 'registry.mirror.insecure') };
      if (m['pull-from-mirror'] !== undefined) {
        const pfm = str(m['pull-from-mirror'], 'registry.mirror.pull-from-mirror');
        if (pfm !== 'all' && pfm !== 'digest-only' && pfm !== 'tag-only') throw fail(`unsupported pull-from-mirror value "${pfm}" for mirror "${mloc}"`);
        if (byDigest) throw fail(`cannot set mirror usage mirror-by-digest-only for the registry ("${prefix}") and pull-from-mirror for per-mirror ("${mloc}") at the same time`);
        mirror.pullFromMirror = pfm;
      }
      return mirror;
    });
    const reg: RegistryConf = { prefix, location: loc, insecure: bool(r.insecure, 'registry.insecure'), blocked: bool(r.blocked, 'registry.blocked'), mirrors };
    if (byDigest) reg.mirrorByDigestOnly = true;
    conf.registries.push(reg);
  }

  // The v1 format, still found on older systems: lists of hosts, one table per property.
  if (doc.registries !== undefined) {
    if (doc.registry !== undefined || searchSet) throw fail('mixing sysregistry v1/v2 is not supported');
    if (!isTable(doc.registries)) throw fail('registries must be a table');
    const v1 = doc.registries;
    const section = (name: string): string[] => {
      const t = v1[name];
      if (t === undefined) return [];
      if (!isTable(t)) throw fail(`registries.${name} must be a table`);
      return list(t.registries, `registries.${name}.registries`).map(location);
    };
    conf.unqualifiedSearch = section('search');
    const byHost = new Map<string, RegistryConf>();
    const entry = (host: string) => byHost.get(host) ?? byHost.set(host, { prefix: host, location: host, insecure: false, blocked: false, mirrors: [] }).get(host)!;
    for (const host of section('insecure')) entry(host).insecure = true;
    for (const host of section('block')) entry(host).blocked = true;
    conf.registries.push(...byHost.values());
    return { conf, searchSet: v1.search !== undefined };
  }

  checkConflicts(conf.registries, fail);
  return { conf, searchSet };
}

/** One location listed twice must agree on insecure and blocked (containers/image refuses otherwise). */
function checkConflicts(registries: RegistryConf[], fail: (msg: string) => Error): void {
  const seen = new Map<string, RegistryConf>();
  for (const r of registries) {
    const key = r.location || r.prefix;
    const other = seen.get(key);
    if (other && other.location === r.location && other.insecure !== r.insecure) throw fail(`registry '${key}' is defined multiple times with conflicting 'insecure' setting`);
    if (other && other.blocked !== r.blocked) throw fail(`registry '${key}' is defined multiple times with conflicting 'blocked' setting`);
    seen.set(key, r);
  }
}

export function parseRegistriesConf(text: string, file: string): RegistriesConf {
  return parseFile(text, file).conf;
}

/** The same, with the TOML parser given (kept for callers that pass their own). */
export function parseRegistriesConfWith(toml: (text: string) => Table, text: string, file: string): RegistriesConf {
  return parseFile(text, file, toml).conf;
}

/** Where the system-wide configuration lives; a parameter so that tests need not touch /etc. */
export interface SystemConfPaths {
  file: string;
  dir: string;
}

const SYSTEM: SystemConfPaths = { file: '/etc/containers/registries.conf', dir: '/etc/containers/registries.conf.d' };

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new ConfigError(`${file}: ${(e as Error).message}`);
  }
}

/**
 * The first user-level file that exists wins alone (as podman's per-user registries.conf does);
 * otherwise the system file plus its drop-ins, later files overriding earlier ones per prefix.
 */
export function loadRegistriesConf(env: NodeJS.ProcessEnv = process.env, system: SystemConfPaths = SYSTEM): RegistriesConf {
  const home = env.HOME || os.homedir();
  const userFiles = [
    env.TSCTR_REGISTRIES_CONF,
    env.CONTAINERS_REGISTRIES_CONF,
    path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'tsctr', 'registries.conf'),
    path.join(home, '.config', 'containers', 'registries.conf'),
  ];
  for (const f of userFiles) {
    const text = f ? readIfExists(f) : undefined;
    if (text !== undefined) return parseFile(text, f!).conf;
  }
  const merged: RegistriesConf = { unqualifiedSearch: [], registries: [], sources: [] };
  for (const f of [system.file, ...dropIns(system.dir)]) {
    const text = readIfExists(f);
    if (text === undefined) continue;
    const { conf, searchSet } = parseFile(text, f);
    if (searchSet) merged.unqualifiedSearch = conf.unqualifiedSearch;
    merged.registries = [...merged.registries.filter((r) => !conf.registries.some((n) => n.prefix === r.prefix)), ...conf.registries];
    merged.sources.push(f);
  }
  return merged;
}

function dropIns(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.conf'))
      .sort()
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/** Docker treats loopback registries as insecure by default (127.0.0.0/8); so do we, with ::1 and localhost. */
function isLoopback(hostPort: string): boolean {
  const host = hostPort.startsWith('[') ? hostPort.slice(1, hostPort.indexOf(']')) : hostPort.replace(/:\d*$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * containers/image's refMatchingPrefix: where the prefix ends in `name` when it matches on a
 * component boundary, else -1. `*.example.com` matches any subdomain's host, never example.com.
 */
function prefixEnd(name: string, prefix: string): number {
  if (prefix.startsWith('*.')) {
    const suffix = prefix.slice(1);
    const at = name.indexOf(suffix);
    if (at < 0 || name.slice(0, at).includes('/')) return -1;
    const end = at + suffix.length;
    return end === name.length || '/:@'.includes(name[end]!) ? end : -1;
  }
  if (name === prefix) return prefix.length;
  return name.startsWith(prefix) && '/:@'.includes(name[prefix.length] ?? 'x') ? prefix.length : -1;
}

function apiHost(host: string): string {
  return host === 'docker.io' ? 'registry-1.docker.io' : host;
}

/**
 * Where to fetch `domain/path` from: the mirrors of the longest matching prefix first, in order,
 * then its location, each with the matched prefix replaced. `digest` says the reference is
 * by digest, which mirror-by-digest-only and pull-from-mirror care about.
 */
export function endpointsFor(conf: RegistriesConf, domain: string, repoPath: string, opts: { digest?: boolean } = {}): Endpoint[] {
  const name = repoPath ? `${domain}/${repoPath}` : domain;
  let best: RegistryConf | undefined;
  for (const r of conf.registries) {
    if (prefixEnd(name, r.prefix) >= 0 && r.prefix.length > (best?.prefix.length ?? 0)) best = r;
  }
  if (!best) return [{ registry: apiHost(domain), repository: repoPath, insecure: isLoopback(domain), mirror: false }];
  if (best.blocked) throw new ConfigError(`registry ${best.prefix} is blocked in registries.conf`);
  const match = best;
  const rest = name.slice(prefixEnd(name, match.prefix));
  const at = (location: string, insecure: boolean, mirror: boolean): Endpoint => {
    // A wildcard entry without a location keeps the name as it is.
    const rewritten = location ? location + rest : name;
    const slash = rewritten.indexOf('/');
    const host = slash < 0 ? rewritten : rewritten.slice(0, slash);
    const repository = slash < 0 ? '' : rewritten.slice(slash + 1);
    return { registry: apiHost(host), repository, insecure: insecure || isLoopback(host), mirror };
  };
  const digest = opts.digest === true;
  const mirrors = match.mirrors.filter((m) =>
    match.mirrorByDigestOnly ? digest : m.pullFromMirror === 'digest-only' ? digest : m.pullFromMirror === 'tag-only' ? !digest : true,
  );
  return [...mirrors.map((m) => at(m.location, m.insecure, true)), at(match.location, match.insecure, false)];
}
