/**
 * Registry credentials in the auth file format docker and podman share:
 * {"auths": {"host": {"auth": base64("user:pass")}}}. We write podman's persistent location and read
 * every place either tool writes, so a `docker login` or `podman login` done earlier just works.
 */
import fs from 'node:fs';
import path from 'node:path';
import { configHome } from '../paths.js';
import { ConfigError } from '../errors.js';
import { atomicWriteFile, ensureDir, readFileIfExists } from '../util/fsutil.js';

export interface Credentials {
  username: string;
  password: string;
}

interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
  [k: string]: unknown;
}

/** Docker Hub is filed under its legacy v1 URL in ~/.docker/config.json. */
const HUB_KEYS = ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/'];

export function writableAuthFile(explicit?: string): string {
  return explicit || process.env.REGISTRY_AUTH_FILE || path.join(configHome(), 'containers', 'auth.json');
}

function readableAuthFiles(explicit?: string): string[] {
  if (explicit) return [explicit];
  const files: string[] = [];
  if (process.env.REGISTRY_AUTH_FILE) files.push(process.env.REGISTRY_AUTH_FILE);
  if (process.env.XDG_RUNTIME_DIR) files.push(path.join(process.env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  files.push(path.join(configHome(), 'containers', 'auth.json'));
  const dockerDir = process.env.DOCKER_CONFIG || path.join(process.env.HOME || '', '.docker');
  files.push(path.join(dockerDir, 'config.json'));
  return files;
}

function load(file: string): AuthFile {
  const raw = readFileIfExists(file);
  if (!raw) return {};
  try {
    const doc = JSON.parse(raw.toString('utf8')) as AuthFile;
    return doc && typeof doc === 'object' ? doc : {};
  } catch {
    throw new ConfigError(`auth file ${file} is not valid JSON`);
  }
}

function keysFor(registry: string): string[] {
  const host = normaliseRegistryKey(registry);
  return HUB_KEYS.includes(host) ? HUB_KEYS : [host, `https://${host}`, `http://${host}`];
}

export function normaliseRegistryKey(registry: string): string {
  return registry.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
}

function decode(entry: { auth?: string; username?: string; password?: string }): Credentials | undefined {
  if (entry.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = text.indexOf(':');
    if (i > 0) return { username: text.slice(0, i), password: text.slice(i + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  return undefined;
}

export function lookupCredentials(registry: string, authFile?: string): Credentials | undefined {
  const keys = keysFor(registry);
  for (const file of readableAuthFiles(authFile)) {
    const auths = load(file).auths ?? {};
    for (const k of keys) {
      const entry = auths[k];
      const creds = entry && decode(entry);
      if (creds) return creds;
    }
  }
  return undefined;
}

export function storeCredentials(registry: string, creds: Credentials, authFile?: string): string {
  const file = writableAuthFile(authFile);
  ensureDir(path.dirname(file));
  const doc = load(file);
  doc.auths ??= {};
  doc.auths[normaliseRegistryKey(registry)] = {
    auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64'),
  };
  atomicWriteFile(file, JSON.stringify(doc, null, '\t') + '\n', 0o600);
  return file;
}

/** Returns whether anything was removed. */
export function removeCredentials(registry: string, authFile?: string): boolean {
  const file = writableAuthFile(authFile);
  if (!fs.existsSync(file)) return false;
  const doc = load(file);
  let removed = false;
  for (const k of keysFor(registry)) {
    if (doc.auths && k in doc.auths) {
      delete doc.auths[k];
      removed = true;
    }
  }
  if (removed) atomicWriteFile(file, JSON.stringify(doc, null, '\t') + '\n', 0o600);
  return removed;
}
