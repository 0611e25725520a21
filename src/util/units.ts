/**
 * docker/go-units: sizes and durations exactly as docker prints and parses them, plus the Go
 * float formatting (%e %f %g) they rest on, so that `77.8MB` and `1e+03kB` come out as docker's.
 */
import { TsctrError } from '../errors.js';

// ---- Go's strconv float formatting -------------------------------------------------------------

/** A decimal: value = 0.d × 10^dp, d without trailing zeros ('' is zero). */
interface Digits {
  d: string;
  dp: number;
}

/** The exact decimal expansion of a finite double (every double has one), via BigInt. */
function exactDigits(v: number): Digits {
  if (v === 0) return { d: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(v));
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e = -1074;
  if (biased !== 0) {
    mant |= 1n << 52n;
    e = biased - 1075;
  }
  // mant × 2^e = mant × 5^-e × 10^e
  const s = e >= 0 ? (mant << BigInt(e)).toString() : (mant * 5n ** BigInt(-e)).toString();
  const dp = e >= 0 ? s.length : s.length + e;
  return { d: s.replace(/0+$/, ''), dp };
}

/** The shortest digits that read back as v (what Go's precision -1 and JS's String both use). */
function shortestDigits(v: number): Digits {
  if (v === 0) return { d: '', dp: 0 };
  const [m, x] = Math.abs(v).toExponential().split('e') as [string, string];
  return { d: m.replace('.', '').replace(/0+$/, ''), dp: Number(x) + 1 };
}

/** Keep n significant digits, ties to even (Go rounds the exact value that way; JS rounds ties up). */
function roundDigits({ d, dp }: Digits, n: number): Digits {
  if (d.length <= n) return { d, dp };
  if (n < 0) return { d: '', dp };
  const next = d.charCodeAt(n) - 48;
  const tie = next === 5 && d.length === n + 1;
  const up = next > 5 || (next === 5 && !tie) || (tie && n > 0 && (d.charCodeAt(n - 1) - 48) % 2 === 1);
  let kept = d.slice(0, n);
  if (up) {
    const bumped = (BigInt(kept || '0') + 1n).toString();
    if (bumped.length > kept.length) dp++;
    kept = bumped.slice(0, Math.max(n, 1));
  }
  return { d: kept.replace(/0+$/, ''), dp };
}

function fmtE({ d, dp }: Digits, prec: number, verb: 'e' | 'E' = 'e'): string {
  const first = d[0] ?? '0';
  const rest = prec > 0 ? `.${d.slice(1, prec + 1).padEnd(prec, '0')}` : '';
  const exp = d ? dp - 1 : 0;
  return `${first}${rest}${verb}${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

function fmtF({ d, dp }: Digits, prec: number): string {
  const int = dp > 0 ? d.slice(0, dp).padEnd(dp, '0') : '0';
  let frac = '';
  for (let i = 0; i < prec; i++) frac += dp + i >= 0 ? (d[dp + i] ?? '0') : '0';
  return prec > 0 ? `${int}.${frac}` : int;
}

/** Go's strconv.FormatFloat(v, verb, prec, 64); prec -1 means the shortest exact representation. */
export function formatFloat(v: number, verb: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const sign = v < 0 || Object.is(v, -0) ? '-' : '';
  const shortest = prec < 0;
  if (verb === 'e' || verb === 'E') {
    const digs = shortest ? shortestDigits(v) : roundDigits(exactDigits(v), prec + 1);
    return sign + fmtE(digs, shortest ? Math.max(digs.d.length - 1, 0) : prec, verb);
  }
  if (verb === 'f') {
    const exact = exactDigits(v);
    const digs = shortest ? shortestDigits(v) : roundDigits(exact, exact.dp + prec);
    return sign + fmtF(digs, shortest ? Math.max(digs.d.length - digs.dp, 0) : prec);
  }
  let p = prec === 0 ? 1 : prec;
  const digs = shortest ? shortestDigits(v) : roundDigits(exactDigits(v), p);
  if (!digs.d) return `${sign}0`;
  const nd = digs.d.length;
  let eprec = p;
  if (shortest) {
    eprec = 6;
    p = nd;
  } else if (eprec > nd && nd >= digs.dp) {
    eprec = nd;
  }
  const exp = digs.dp - 1;
  if (exp < -4 || exp >= eprec) return sign + fmtE(digs, Math.min(p, nd) - 1, verb === 'G' ? 'E' : 'e');
  return sign + fmtF(digs, Math.max((p > digs.dp ? nd : p) - digs.dp, 0));
}

// ---- sizes ------------------------------------------------------------------------------------

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_ABBRS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function scaled(size: number, base: number, abbrs: string[], prec: number): string {
  let i = 0;
  while (size >= base && i < abbrs.length - 1) {
    size /= base;
    i++;
  }
  return `${formatFloat(size, 'g', prec)}${abbrs[i]}`;
}

/** docker's sizes (HumanSizeWithPrecision(n, 3)): decimal units, three significant digits. */
export function humanSize(bytes: number): string {
  return scaled(bytes, 1000, DECIMAL, 3);
}

/** go-units BytesSize (docker stats): binary units, four significant digits. */
export function bytesSize(bytes: number): string {
  return scaled(bytes, 1024, BINARY_ABBRS, 4);
}

const BINARY: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** docker's RAMInBytes: `512m`, `1g`, `1.5GiB`, `100 kb`, `1024`; binary units whatever the case. */
export function parseBytes(s: string): number {
  // go-units splits at the last digit, dot or space: the number before, the suffix after.
  let sep = -1;
  for (let i = s.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(s[i]!)) {
      sep = i;
      break;
    }
  }
  if (sep < 0) throw new TsctrError(`invalid size: '${s}'`);
  const num = s[sep] === ' ' ? s.slice(0, sep) : s.slice(0, sep + 1);
  const sfx = s.slice(sep + 1);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) throw new TsctrError(`strconv.ParseFloat: parsing "${num}": invalid syntax`);
  const size = Number(num);
  if (size < 0) throw new TsctrError(`invalid size: '${s}'`);
  const lower = sfx.toLowerCase();
  const mul = lower === '' || lower === 'b' ? 1 : BINARY[lower[0]!];
  if (mul === undefined || sfx.length > 3 || (lower.length === 2 && lower[1] !== 'b') || (lower.length === 3 && lower.slice(1) !== 'ib')) {
    throw new TsctrError(`invalid suffix: '${sfx.length > 3 ? sfx : lower}'`);
  }
  return Math.trunc(size * mul);
}

// ---- durations and times ----------------------------------------------------------------------

/** go-units HumanDuration, as in `Up 5 minutes` and `2 days ago`. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, '\u00b5s': 1e-3, '\u03bcs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration (`1m30s`, `1.5h`, `-300ms`), in milliseconds. A bare number needs a unit, as in Go. */
export function parseDuration(s: string): number {
  const invalid = (why = 'invalid duration') => new TsctrError(`time: ${why} "${s}"`);
  let rest = s;
  let sign = 1;
  if (rest[0] === '-' || rest[0] === '+') {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (!rest) throw invalid();
  let total = 0;
  while (rest) {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    if (!m[1] && !m[2]) throw invalid();
    rest = rest.slice(m[0].length);
    const unit = /^[^\d.]*/.exec(rest)![0];
    if (!unit) throw invalid('missing unit in duration');
    // Go names the unknown unit; we keep the one wording that all callers can recognise.
    const mul = GO_UNITS[unit];
    if (mul === undefined) throw invalid();
    total += Number(`${m[1] || '0'}.${m[2] || '0'}`) * mul;
    rest = rest.slice(unit.length);
  }
  return sign * total;
}

/** Calendar fields, with the zone if one was given; docker's local-time rule applies otherwise. */
const TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|[+-]\d{2}:\d{2})?$/;

function parseTime(s: string): number | undefined {
  const m = TIME.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h = 0, mi = 0, sec = 0] = m.slice(1, 7).map((x) => Number(x ?? 0)) as number[];
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > new Date(Date.UTC(y!, mo!, 0)).getUTCDate() || h > 23 || mi > 59 || sec > 59) return undefined;
  const zone = m[8];
  if (!zone) return new Date(y!, mo! - 1, d!, h, mi, sec, ms).getTime();
  const offset = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  return Date.UTC(y!, mo! - 1, d!, h, mi, sec, ms) - offset * 60_000;
}

/**
 * docker's --since/--until (GetTimestamp), as epoch ms: a Go duration before `now` (whole seconds,
 * as docker), an RFC 3339 time or date (local time when no zone is given), or unix seconds[.nanos].
 */
export function parseSince(s: string, now: number): number {
  if (s !== '0') {
    try {
      return Math.floor((now - parseDuration(s)) / 1000) * 1000;
    } catch {
      // not a duration
    }
  }
  const t = parseTime(s);
  if (t !== undefined) return t;
  if (/^\+?\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  throw new TsctrError(`failed to parse value as time or duration: "${s}"`);
}
