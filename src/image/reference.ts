/**
 * Docker's image reference grammar and normalisation (distribution/reference): `nginx` is
 * docker.io/library/nginx:latest. Parsed before any network call, so bad input costs nothing.
 */
import { InvalidReferenceError } from '../errors.js';

export interface ImageReference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

function invalid(detail?: string): InvalidReferenceError {
  return new InvalidReferenceError(detail ? `invalid reference format: ${detail}` : 'invalid reference format');
}

/** A first component is a registry host if it has a dot or a port, or is `localhost`. */
function looksLikeDomain(s: string): boolean {
  return s.includes('.') || s.includes(':') || s === 'localhost' || /^\[.*\]/.test(s);
}

function validDomain(d: string): boolean {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+)(?::(\d+))?$/.exec(d);
  if (!m) return false;
  const host = m[1]!;
  if (host.startsWith('[')) return true;
  return host.split('.').every((c) => DOMAIN_COMPONENT.test(c));
}

function split(input: string): { name: string; tag?: string; digest?: string } {
  let name = input;
  let digest: string | undefined;
  const at = name.indexOf('@');
  if (at >= 0) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid();
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest)) throw invalid();
  }
  let tag: string | undefined;
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
    if (!TAG.test(tag)) throw invalid();
  }
  return { name, tag, digest };
}

export function parseReference(input: string, opts: { defaultTag?: boolean } = {}): ImageReference {
  if (!input || input.length > 512) throw invalid();
  const { name, tag, digest } = split(input);
  if (!name || name.length > 255) throw invalid(name ? 'repository name must not be more than 255 characters' : undefined);
  const parts = name.split('/');
  let domain = DEFAULT_DOMAIN;
  if (parts.length > 1 && looksLikeDomain(parts[0]!)) {
    domain = parts.shift()!;
    if (!validDomain(domain)) throw invalid();
  }
  if (parts.some((p) => p !== p.toLowerCase()) && parts.every((p) => COMPONENT.test(p.toLowerCase()))) {
    throw invalid(`repository name (${parts.join('/')}) must be lowercase`);
  }
  if (parts.length === 0 || !parts.every((p) => COMPONENT.test(p))) throw invalid();
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && parts.length === 1) parts.unshift('library');
  const ref: ImageReference = { domain, path: parts.join('/') };
  if (tag) ref.tag = tag;
  if (digest) ref.digest = digest;
  if (!tag && !digest && opts.defaultTag !== false) ref.tag = 'latest';
  return ref;
}

export function isFullyQualified(input: string): boolean {
  const name = input.split('@')[0]!;
  const slash = name.indexOf('/');
  return slash > 0 && looksLikeDomain(name.slice(0, slash));
}

export function fullName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

export function familiarName(ref: ImageReference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return fullName(ref);
  return ref.path.startsWith('library/') && ref.path.split('/').length === 2 ? ref.path.slice(8) : ref.path;
}

function suffix(ref: ImageReference): string {
  return `${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

export function formatReference(ref: ImageReference): string {
  return `${fullName(ref)}${suffix(ref)}`;
}

export function familiarString(ref: ImageReference): string {
  return `${familiarName(ref)}${suffix(ref)}`;
}

/** Re-home an unqualified name onto another registry (unqualified-search registries). */
export function withDomain(ref: ImageReference, domain: string): ImageReference {
  let path = ref.path;
  if (ref.domain === DEFAULT_DOMAIN && path.startsWith('library/') && domain !== DEFAULT_DOMAIN) path = path.slice(8);
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  return { ...ref, domain, path };
}
