/**
 * The push side of the distribution spec, over a RegistryClient: whether the repository already
 * has a blob (HEAD), a cross-repository mount, a blob upload and a manifest PUT.
 *
 * An upload is a session: POST starts it and answers with its Location, each PATCH appends bytes
 * and answers with the next Location, and PUT ?digest= closes it. The whole blob goes in one
 * streamed PATCH, as docker sends it; a registry that refuses a body that large (413, often a
 * proxy's limit) gets it in chunks with Content-Range, and one without PATCH (405/501) gets it in
 * the closing PUT (a monolithic upload).
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { NetworkError, RegistryError } from '../errors.js';
import { sha256 } from '../util/digest.js';
import { log } from '../util/log.js';
import { headerValue, type RegistryClient, type RequestOptions } from './client.js';

/** What to upload: bytes in memory (configs) or a file (compressed layers). */
export type BlobSource = { buffer: Buffer } | { file: string; size: number };

export type OnBytes = (sent: number) => void;

/** A chunk size to fall back to when one PATCH of everything is refused as too large. */
const FALLBACK_CHUNK = 8 * 1024 * 1024;
const SMALLEST_CHUNK = 256 * 1024;
const UPLOAD_ATTEMPTS = 3;

function sizeOf(src: BlobSource): number {
  return 'buffer' in src ? src.buffer.length : src.size;
}

/** Bytes [start, end) of the source as a request body, counting what is read into `onBytes`. */
function slice(src: BlobSource, start: number, end: number, onBytes?: OnBytes): NonNullable<RequestOptions['body']> {
  if ('buffer' in src) return src.buffer.subarray(start, end);
  return () => {
    const stream = fs.createReadStream(src.file, { start, end: end - 1 });
    if (!onBytes) return stream;
    let sent = start;
    return Readable.from(
      (async function* () {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          sent += chunk.length;
          onBytes(sent);
          yield chunk;
        }
      })(),
    );
  };
}

function blobsPath(client: RegistryClient): string {
  return `/v2/${client.opts.repository}/blobs`;
}

/** HEAD: does this repository have the blob? (Other repositories of the registry do not count.) */
export async function blobExists(client: RegistryClient, digest: string): Promise<boolean> {
  const res = await client.request('HEAD', `${blobsPath(client)}/${digest}`);
  if (res.statusCode !== 404) await client.expectOk(res, `checking for blob ${digest} in ${client.name}`);
  await res.body.dump();
  return res.statusCode !== 404;
}

/**
 * Asks the registry to link a blob it holds in repository `from` into this one, without sending
 * it. A registry that cannot (no such blob there, no pull access to `from`, no mount support)
 * starts an ordinary upload instead, which is cancelled here: the caller uploads later, when it
 * has the bytes.
 */
export async function mountBlob(client: RegistryClient, digest: string, from: string): Promise<boolean> {
  const query = `mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
  const res = await client.request('POST', `${blobsPath(client)}/uploads/?${query}`, { headers: { 'content-length': '0' } });
  await client.expectOk(res, `mounting blob ${digest} from ${from} into ${client.name}`);
  await res.body.dump();
  if (res.statusCode === 201) return true;
  const location = headerValue(res, 'location');
  if (location) await cancelUpload(client, location);
  return false;
}

/** Best effort: an abandoned session only costs the registry until it expires it. */
async function cancelUpload(client: RegistryClient, location: string): Promise<void> {
  try {
    const res = await client.request('DELETE', client.resolve(location));
    await res.body.dump();
  } catch (e) {
    log.debug(`cancelling upload session: ${(e as Error).message}`);
  }
}

/** Adds a query parameter to a Location URL, leaving its own query (session state) as it was. */
export function withQuery(url: string, name: string, value: string): string {
  const hash = url.indexOf('#');
  const base = hash < 0 ? url : url.slice(0, hash);
  const sep = base.includes('?') ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?';
  return `${base}${sep}${name}=${encodeURIComponent(value)}`;
}

/** The end offset a Range header (`0-1023`, or `bytes=0-1023`) reports, if it has one. */
function rangeEnd(header: string | undefined): number | undefined {
  const m = header && /^(?:bytes=)?0-(\d+)$/.exec(header.trim());
  return m ? Number(m[1]) + 1 : undefined;
}

function requireLocation(client: RegistryClient, res: Dispatcher.ResponseData, what: string): string {
  const location = headerValue(res, 'location');
  if (!location) throw new RegistryError(`${client.name} sent no Location for ${what}`);
  return client.resolve(location);
}

/**
 * Uploads one blob. A broken connection restarts the upload in a new session (the registry may
 * hold part of the old one); a refusal is an error at once.
 */
export async function uploadBlob(client: RegistryClient, digest: string, src: BlobSource, onBytes?: OnBytes): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await uploadOnce(client, digest, src, onBytes);
    } catch (e) {
      if (!(e instanceof NetworkError) || attempt >= UPLOAD_ATTEMPTS) throw e;
      log.warn(`retrying the upload of ${digest.slice(7, 19)} to ${client.name}: ${e.message}`);
    }
  }
}

async function uploadOnce(client: RegistryClient, digest: string, src: BlobSource, onBytes?: OnBytes): Promise<void> {
  const size = sizeOf(src);
  const what = `blob ${digest.slice(7, 19)}`;
  const started = await client.request('POST', `${blobsPath(client)}/uploads/`, { headers: { 'content-length': '0' } });
  await client.expectOk(started, `starting an upload to ${client.name}`);
  await started.body.dump();
  let location = requireLocation(client, started, `the upload of ${what}`);
  // OCI 1.1: chunks other than the last must be at least this long.
  const minChunk = Number(headerValue(started, 'oci-chunk-min-length')) || 0;

  let offset = 0;
  let chunk = Infinity;
  let monolithic = false;
  while (offset < size) {
    const end = Math.min(size, offset + chunk);
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'content-length': String(end - offset) };
    if (chunk !== Infinity) headers['content-range'] = `${offset}-${end - 1}`;
    const res = await client.request('PATCH', location, { headers, body: slice(src, offset, end, onBytes) });
    if (res.statusCode === 413 && end - offset > Math.max(minChunk, SMALLEST_CHUNK)) {
      await res.body.dump();
      // Half of what was refused, at most FALLBACK_CHUNK to start with, never below the minimum.
      chunk = Math.max(minChunk, SMALLEST_CHUNK, Math.floor(Math.min(end - offset, 2 * FALLBACK_CHUNK) / 2));
      log.debug(`${client.name} refused a ${end - offset}-byte PATCH; sending ${chunk}-byte chunks`);
      continue;
    }
    if ((res.statusCode === 405 || res.statusCode === 501) && offset === 0) {
      await res.body.dump();
      monolithic = true;
      break;
    }
    await client.expectOk(res, `uploading ${what} to ${client.name}`);
    await res.body.dump();
    location = requireLocation(client, res, `the upload of ${what}`);
    // The registry says how much it has; it is the authority on where the next chunk starts.
    const have = rangeEnd(headerValue(res, 'range')) ?? end;
    if (have <= offset || have > size) throw new RegistryError(`${client.name} reported ${have} bytes received of ${what} after ${end} were sent`);
    offset = have;
  }

  const closing: RequestOptions = monolithic
    ? { headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) }, body: slice(src, 0, size, onBytes) }
    : { headers: { 'content-length': '0' } };
  const done = await client.request('PUT', withQuery(location, 'digest', digest), closing);
  if (done.statusCode === 404) {
    await done.body.dump();
    // A PUT retried after a dropped connection finds its session already closed if the first
    // attempt went through: what matters is whether the blob is there.
    if (await blobExists(client, digest)) return;
    throw new RegistryError(`completing the upload of ${what} to ${client.name}: the registry no longer knows the upload session (404)`);
  }
  await client.expectOk(done, `completing the upload of ${what} to ${client.name}`);
  await done.body.dump();
  const stored = headerValue(done, 'docker-content-digest');
  if (stored && stored !== digest) throw new RegistryError(`${client.name} stored ${what} as ${stored}, not ${digest}`);
}

/** PUT a manifest under a tag (or digest); returns its digest. */
export async function putManifest(client: RegistryClient, reference: string, mediaType: string, body: Buffer): Promise<string> {
  const res = await client.request('PUT', `/v2/${client.opts.repository}/manifests/${reference}`, {
    headers: { 'content-type': mediaType, 'content-length': String(body.length) },
    body,
  });
  await client.expectOk(res, `pushing the manifest of ${client.name}:${reference}`);
  await res.body.dump();
  const digest = sha256(body);
  const stored = headerValue(res, 'docker-content-digest');
  if (stored && stored !== digest) throw new RegistryError(`${client.name} stored the manifest as ${stored}, not ${digest}`);
  return digest;
}
