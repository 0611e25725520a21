/**
 * podman's registries.conf (containers-registries.conf(5), v2 TOML): mirrors, insecure and blocked
 * registries, location rewrites and unqualified-search registries.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { configHome } from '../paths.js';

export interface MirrorConf {
  location: string;
  insecure: boolean;
}

export interface RegistryConf {
  prefix: string;
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrors: MirrorConf[];
}

export interface RegistriesConf {
  unqualifiedSearch: string[];
  registries: RegistryConf[];
  sources: string[];
}

export interface Endpoint {
  registry: string;
  repository: string;
  insecure: boolean;
  mirror: boolean;
}

type Toml = Record<string, unknown>;

function str(v: unknown, what: string, file: string): string {
  if (typeof v !== 'string') throw new ConfigError(`${file}: ${what} must be a string`);
  return v;
}

function bool(v: unknown, what: string, file: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new ConfigError(`${file}: ${what} must be true or false`);
  return v;
}

function strList(v: unknown, what: string, file: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ConfigError(`${file}: ${what} must be a list of strings`);
  return v as string[];
}

/** smol-toml is loaded only when a config file exists. */
async function loadToml(): Promise<(text: string) => Toml> {
  const { parse } = await import('smol-toml');
  return parse as (text: string) => Toml;
}

export function parseRegistriesConfWith(parseToml: (text: string) => Toml, text: string, file: string): RegistriesConf {
  let doc: Toml;
  try {
    doc = parseToml(text);
  } catch (e) {
    throw new ConfigError(`${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const conf: RegistriesConf = { unqualifiedSearch: strList(doc['unqualified-search-registries'], 'unqualified-search-registries', file), registries: [], sources: [file] };
  const regs = doc.registry ?? [];
  if (!Array.isArray(regs)) throw new ConfigError(`${file}: [[registry]] must be an array of tables`);
  for (const r of regs as Toml[]) {
    const location = r.location === undefined ? '' : str(r.location, 'registry.location', file);
    const prefix = r.prefix === undefined ? location : str(r.prefix, 'registry.prefix', file);
    if (!prefix) throw new ConfigError(`${file}: a [[registry]] needs a prefix or a location`);
    const mirrors = (Array.isArray(r.mirror) ? (r.mirror as Toml[]) : []).map((m) => ({
      location: str(m.location, 'registry.mirror.location', file),
      insecure: bool(m.insecure, 'registry.mirror.insecure', file),
    }));
    conf.registries.push({ prefix, location: location || prefix, insecure: bool(r.insecure, 'registry.insecure', file), blocked: bool(r.blocked, 'registry.blocked', file), mirrors });
  }
  // The v1 format, still found on older systems.
  const v1 = doc.registries as Record<string, { registries?: unknown }> | undefined;
  if (v1 && typeof v1 === 'object') {
    conf.unqualifiedSearch.push(...strList(v1.search?.registries, 'registries.search.registries', file));
    for (const loc of strList(v1.insecure?.registries, 'registries.insecure.registries', file)) {
      conf.registries.push({ prefix: loc, location: loc, insecure: true, blocked: false, mirrors: [] });
    }
    for (const loc of strList(v1.block?.registries, 'registries.block.registries', file)) {
      conf.registries.push({ prefix: loc, location: loc, insecure: false, blocked: true, mirrors: [] });
    }
  }
  return conf;
}

function candidates(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME ?? '';
  return [
    env.TSCTR_REGISTRIES_CONF ?? '',
    path.join(env.XDG_CONFIG_HOME || configHome(), 'tsctr', 'registries.conf'),
    path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'containers', 'registries.conf'),
  ].filter(Boolean);
}

const SYSTEM = '/etc/containers/registries.conf';
const SYSTEM_DIR = '/etc/containers/registries.conf.d';

export async function loadRegistriesConf(env: NodeJS.ProcessEnv = process.env): Promise<RegistriesConf> {
  const user = candidates(env).find((f) => fs.existsSync(f));
  const files = user ? [user] : [SYSTEM, ...dropIns()].filter((f) => fs.existsSync(f));
  const merged: RegistriesConf = { unqualifiedSearch: [], registries: [], sources: [] };
  if (files.length === 0) return merged;
  const parseToml = await loadToml();
  for (const f of files) {
    const c = parseRegistriesConfWith(parseToml, fs.readFileSync(f, 'utf8'), f);
    if (c.unqualifiedSearch.length) merged.unqualifiedSearch = c.unqualifiedSearch;
    // Later files override earlier ones for the same prefix.
    merged.registries = [...merged.registries.filter((r) => !c.registries.some((n) => n.prefix === r.prefix)), ...c.registries];
    merged.sources.push(f);
  }
  return merged;
}

function dropIns(): string[] {
  try {
    return fs.readdirSync(SYSTEM_DIR).filter((f) => f.endsWith('.conf')).sort().map((f) => path.join(SYSTEM_DIR, f));
  } catch {
    return [];
  }
}

function isLoopback(host: string): boolean {
  const h = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

/** Does `prefix` cover `name` (on a path-component boundary), with `*.example.com` wildcards? */
function prefixMatch(prefix: string, name: string): boolean {
  if (prefix.startsWith('*.')) {
    const host = name.split('/')[0]!;
    return host.endsWith(prefix.slice(1));
  }
  return name === prefix || name.startsWith(`${prefix}/`);
}

function hostOf(location: string): { registry: string; path: string } {
  const i = location.indexOf('/');
  return i < 0 ? { registry: location, path: '' } : { registry: location.slice(0, i), path: location.slice(i + 1) };
}

/** Where to fetch `domain/path` from: mirrors first, in order, then the (possibly rewritten) primary. */
export function endpointsFor(conf: RegistriesConf, domain: string, repoPath: string): Endpoint[] {
  const name = repoPath ? `${domain}/${repoPath}` : domain;
  const match = conf.registries
    .filter((r) => prefixMatch(r.prefix, name))
    .sort((a, b) => b.prefix.length - a.prefix.length)[0];
  const primaryHost = domain === 'docker.io' ? 'registry-1.docker.io' : domain;
  if (!match) return [{ registry: primaryHost, repository: repoPath, insecure: isLoopback(domain), mirror: false }];
  if (match.blocked) throw new ConfigError(`registry ${domain} is blocked in registries.conf`);
  const rest = match.prefix.startsWith('*.') ? repoPath : name.slice(match.prefix.length).replace(/^\//, '');
  const at = (location: string, insecure: boolean, mirror: boolean): Endpoint => {
    const { registry, path: base } = hostOf(location);
    const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
    return { registry: host, repository: [base, rest].filter(Boolean).join('/'), insecure: insecure || isLoopback(registry), mirror };
  };
  // A mirror of docker.io serves the same repository paths (library/nginx).
  const mirrors = match.mirrors.map((m) => at(m.location, m.insecure, true));
  return [...mirrors, at(match.location, match.insecure, false)];
}
