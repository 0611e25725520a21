/** HTTP as a test's client: pages behind published ports, and requests to an API on a unix socket. */
import http from 'node:http';
import { sleep } from './wait.js';

export interface GetOptions {
  /** How long to keep asking (at least one request is made). */
  ms?: number;
  /** The pause between two requests. */
  every?: number;
  /** How long one request may take. */
  timeout?: number;
  /** Only an HTTP 200 counts as the answer (a server still starting may answer 5xx). */
  only200?: boolean;
  /** The answer has to say this much (a page still being written, a replica not yet up). */
  want?: (body: string) => boolean;
}

/**
 * GET `target` (a URL, or a port of 127.0.0.1) again and again while nothing answers (refused,
 * reset, timed out) or the answer is not the one wanted: the body of the first that is. Throws with
 * the last reason once `ms` have passed.
 */
export async function getBody(target: string | number, o: GetOptions = {}): Promise<string> {
  const url = typeof target === 'number' ? `http://127.0.0.1:${target}/` : target;
  const deadline = Date.now() + (o.ms ?? 10_000);
  let last = 'no request made';
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(o.timeout ?? 2000) });
      const body = await res.text();
      if (o.only200 && res.status !== 200) last = `HTTP ${res.status}`;
      else if (o.want && !o.want(body)) last = `unwanted answer ${JSON.stringify(body.slice(0, 200))}`;
      else return body;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() >= deadline) throw new Error(`no answer from ${url}: ${last}`);
    await sleep(o.every ?? 100);
  }
}

/** getBody, but '' when nothing (wanted) answered in time: for asserting that nothing serves any more. */
export function getBodyOrEmpty(target: string | number, o: GetOptions = {}): Promise<string> {
  return getBody(target, o).catch(() => '');
}

/**
 * One GET of / at host:port on a fresh connection (no keep-alive, so that a balancer picks a backend
 * each time), not retried: the body, trimmed. Rejects on anything but a 200, or after 5 s.
 */
export function getOnce(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/', agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** One request, on a connection of its own, to an HTTP server on a unix socket (the API service): the status and the body. */
export function unixRequest(socketPath: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ socketPath, method, path: p, agent: false, headers: data ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: b }));
    });
    req.on('error', reject);
    req.end(data);
  });
}
