/**
 * Docker's image reference grammar and normalisation (distribution/reference ParseNormalizedNamed):
 * `nginx` is docker.io/library/nginx:latest. Parsed before any network call, so bad input costs
 * nothing, and with docker's error wording, which users paste into search engines.
 */
import { InvalidReferenceError } from '../errors.js';

export interface ImageReference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL = 'library/';
const MAX_PATH = 255;

// The regexps of distribution/reference, composed the same way.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const DOMAIN_RE = new RegExp(`^${HOST}(?::[0-9]+)?$`);
const REMAINDER_RE = new RegExp(`^(${COMPONENT}(?:/${COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`);

/** go-digest's algorithms, by hex length. */
const DIGEST_HEX: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** go-digest's Validate, with its messages (docker prints them as they are). */
function checkDigest(digest: string): void {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const size = DIGEST_HEX[algorithm];
  if (size === undefined) {
    const wellFormed = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest);
    throw new InvalidReferenceError(wellFormed ? 'unsupported digest algorithm' : 'invalid checksum digest format');
  }
  if (hex.length !== size) throw new InvalidReferenceError('invalid checksum digest length');
  if (!/^[a-f0-9]+$/.test(hex)) throw new InvalidReferenceError('invalid checksum digest format');
}

/**
 * The first path element is a registry if it could not be a Docker Hub namespace: it has a dot or
 * a port, is `localhost`, or has uppercase letters (namespaces cannot).
 */
function splitDomain(input: string): { domain: string; remainder: string } {
  const slash = input.indexOf('/');
  if (slash < 0) return { domain: DEFAULT_DOMAIN, remainder: OFFICIAL + input };
  const first = input.slice(0, slash);
  let rest = input.slice(slash + 1);
  let domain: string;
  if (first === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  else if (first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first) domain = first;
  else return { domain: DEFAULT_DOMAIN, remainder: input };
  if (domain === DEFAULT_DOMAIN && !rest.includes('/')) rest = OFFICIAL + rest;
  return { domain, remainder: rest };
}

export function parseReference(input: string, opts: { defaultTag?: boolean } = {}): ImageReference {
  const invalid = (detail?: string) => new InvalidReferenceError(detail ? `invalid reference format: ${detail}` : 'invalid reference format');
  if (!input) throw invalid();
  const { domain, remainder } = splitDomain(input);
  // Docker checks the case of everything up to the first colon, before the grammar.
  const colon = remainder.indexOf(':');
  const remote = colon < 0 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote) throw invalid(`repository name (${remote}) must be lowercase`);
  const m = REMAINDER_RE.exec(remainder);
  if (!m || !DOMAIN_RE.test(domain)) throw invalid();
  const [, path, tag, digest] = m as unknown as [string, string, string | undefined, string | undefined];
  if (path.length > MAX_PATH) throw new InvalidReferenceError(`repository name must not be more than ${MAX_PATH} characters`);
  if (digest) checkDigest(digest);
  const ref: ImageReference = { domain, path };
  if (tag) ref.tag = tag;
  if (digest) ref.digest = digest;
  if (!tag && !digest && opts.defaultTag !== false) ref.tag = 'latest';
  return ref;
}

/** Did the user name a registry, or is this a short name that search registries may resolve? */
export function isFullyQualified(input: string): boolean {
  const slash = input.indexOf('/');
  if (slash < 0) return false;
  const first = input.slice(0, slash);
  return first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first;
}

export function fullName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** docker's FamiliarName: no docker.io/, and no library/ unless the path is deeper than library/x. */
export function familiarName(ref: ImageReference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return fullName(ref);
  const short = ref.path.startsWith(OFFICIAL) ? ref.path.slice(OFFICIAL.length) : ref.path;
  return short.includes('/') ? ref.path : short;
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

/**
 * Re-home a short name onto another registry (podman's unqualified-search registries): docker.io
 * alone gets the implicit library/ namespace, which the parse of `nginx` added and others drop.
 */
export function withDomain(ref: ImageReference, domain: string): ImageReference {
  let path = ref.path;
  const implicitLibrary = ref.domain === DEFAULT_DOMAIN && path.startsWith(OFFICIAL) && !path.slice(OFFICIAL.length).includes('/');
  if (domain !== DEFAULT_DOMAIN && implicitLibrary) path = path.slice(OFFICIAL.length);
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL + path;
  return { ...ref, domain, path };
}
