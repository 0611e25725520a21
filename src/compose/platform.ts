/**
 * A service's `platform:` (docker compose pulls that platform and the engine refuses an image of
 * another). Accepted when the host runs it — amd64 variants (microarchitecture levels v2..v4) up to
 * what this CPU has — or when the image is of it: a multi-arch image is pulled for it; a
 * single-platform image of another platform, or a build for a foreign platform (the builder builds
 * for the host), is an error naming the service.
 */
import fs from 'node:fs';
import { TsctrError } from '../errors.js';
import { ensureImage } from '../container/ensure-image.js';
import { localImage } from '../container/create.js';
import { formatPlatform, hostPlatform, parsePlatform, platformMatches, type Platform } from '../image/platform.js';
import { readImageConfig } from '../image/store.js';
import type { ImageRecord } from '../image/types.js';
import type { RtProject, RtService } from './project-runtime.js';
import { serviceImage } from './service-spec.js';

const AMD64_LEVELS: string[][] = [
  [],
  ['cx16', 'lahf_lm', 'popcnt', 'sse4_1', 'sse4_2', 'ssse3'],
  ['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave'],
  ['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl'],
];

/** v1..v4 (amd64), v5..v8 (arm); an absent variant is the baseline. */
function level(arch: string, variant: string | undefined): number {
  const m = /^v?(\d+)/.exec(variant ?? '');
  if (m) return Number(m[1]);
  return arch === 'arm' ? 7 : arch === 'arm64' ? 8 : 1;
}

/** The amd64 microarchitecture level this CPU supports (x86-64-v1..v4), from /proc/cpuinfo's flags. */
export function amd64Level(cpuinfo = readCpuinfo()): number {
  const flags = new Set((/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? '').trim().split(/\s+/));
  let n = 1;
  while (n < AMD64_LEVELS.length && AMD64_LEVELS[n]!.every((f) => flags.has(f))) n++;
  return n;
}

function readCpuinfo(): string {
  try {
    return fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

/** Whether code built for `have` runs where `want` is asked: same OS and architecture, a variant no newer. */
export function satisfies(want: Platform, have: Platform): boolean {
  const w = parsePlatform(formatPlatform(want));
  const h = parsePlatform(formatPlatform(have));
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  if (w.architecture === 'amd64' || w.architecture === 'arm') return level(h.architecture, h.variant) <= level(w.architecture, w.variant);
  return platformMatches(w, h);
}

/** Whether this machine runs `want` natively (an amd64 host at the level its CPU has). */
export function hostRuns(want: Platform, host = hostPlatform(), amd64 = () => amd64Level()): boolean {
  return satisfies(host.architecture === 'amd64' ? { ...host, variant: `v${amd64()}` } : host, want);
}

export function imagePlatform(image: ImageRecord): Platform {
  const variant = readImageConfig(image).variant;
  return { os: image.os, architecture: image.architecture, ...(variant ? { variant } : {}) };
}

/** A build makes an image for the host only: a service that builds for another platform is refused. */
export function checkBuildPlatform(s: RtService): void {
  if (!s.build || !s.platform) return;
  if (!hostRuns(parsePlatform(s.platform))) {
    throw new TsctrError(`service "${s.name}": platform ${s.platform}: tsctr builds images for this host's platform (${formatPlatform(hostPlatform())}) only`);
  }
}

/** The image a service's containers run: present (or pulled), and of its platform when it names one. */
export async function serviceImageRecord(p: RtProject, s: RtService): Promise<ImageRecord> {
  const name = serviceImage(p, s);
  if (!s.platform) return ensureImage(name, 'missing');
  const want = parsePlatform(s.platform);
  const have = localImage(name);
  if (have && satisfies(want, imagePlatform(have))) return have;
  if (s.build && (have || !s.image)) {
    checkBuildPlatform(s);
    if (have) throw new TsctrError(`service "${s.name}": image ${name} is ${formatPlatform(imagePlatform(have))}, not the service's platform ${s.platform}`);
  }
  // An index lists amd64 once, without a level: any level runs the baseline build.
  const pullFor = want.architecture === 'amd64' ? { os: want.os, architecture: 'amd64' } : want;
  let got: ImageRecord;
  try {
    got = await ensureImage(name, have ? 'always' : 'missing', formatPlatform(pullFor));
  } catch (e) {
    throw new TsctrError(`service "${s.name}": platform ${s.platform}: ${(e as Error).message}`);
  }
  if (!satisfies(want, imagePlatform(got))) {
    throw new TsctrError(`service "${s.name}": image ${name} is ${formatPlatform(imagePlatform(got))} only, not the service's platform ${s.platform}`);
  }
  return got;
}
