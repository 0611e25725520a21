/** docker/go-units: sizes and durations as docker prints and parses them. */
import { TsctrError } from '../errors.js';

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** Go's %.3g: three significant digits, no trailing zeros. */
function g3(n: number): string {
  return String(Number(n.toPrecision(3)));
}

export function humanSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < DECIMAL.length - 1) {
    size /= 1000;
    i++;
  }
  return `${g3(size)}${DECIMAL[i]}`;
}

export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

const BINARY: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** docker's RAMInBytes: `512m`, `1g`, `1.5GiB`, `1024`. */
export function parseBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgtp])?(?:i?b)?$/i.exec(s.trim());
  if (!m) throw new TsctrError(`invalid size: '${s}'`);
  return Math.floor(Number(m[1]) * BINARY[(m[2] ?? 'b').toLowerCase()]!);
}

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, \u00b5s: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds. */
export function parseDuration(s: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * GO_UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (!s || matched !== s.length) throw new TsctrError(`invalid duration: "${s}"`);
  return total;
}

/** --since/--until: a Go duration before now, an RFC 3339 time or date, or unix seconds. */
export function parseSince(s: string, now: number): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  if (/^\d+(\.\d+)?(ns|us|\u00b5s|ms|s|m|h)/.test(s)) return now - parseDuration(s);
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new TsctrError(`invalid time "${s}": use a duration (10m), an RFC 3339 time, or unix seconds`);
  return t;
}
