/**
 * Reading the log the monitor writes (src/shim/log.c): `<time> <stream> <F|P> <text>` records,
 * where P marks a piece of a line that continues in the next record. The time is RFC 3339 with
 * nanoseconds at the start of a file, then `+N` (nanoseconds after the record before) or `=`
 * (the same); the stream is `o`/`e` (`stdout`/`stderr` in logs written before the compact form).
 * Rotated files (`ctr.log.1` is the newest of them) are read oldest first.
 */
import fs from 'node:fs';
import { containerPaths } from '../paths.js';
import { TsctrError } from '../errors.js';
import type { ContainerRecord } from './types.js';

export interface LogRecord {
  time: string;
  stream: 'stdout' | 'stderr';
  text: string; // with its newline when the record ends a line
}

const STREAMS: Record<string, 'stdout' | 'stderr'> = { o: 'stdout', e: 'stderr', stdout: 'stdout', stderr: 'stderr' };

const NS = 1_000_000_000n;

/** Nanoseconds since the epoch of an RFC 3339 time with up to 9 fraction digits. */
function nanos(time: string): bigint {
  const dot = time.indexOf('.');
  const secs = Date.parse(dot < 0 ? time : `${time.slice(0, dot)}Z`) / 1000;
  const frac = dot < 0 ? '0' : time.slice(dot + 1, -1).padEnd(9, '0').slice(0, 9);
  return Number.isFinite(secs) ? BigInt(secs) * NS + BigInt(frac) : 0n;
}

function rfc3339(ns: bigint): string {
  return `${new Date(Number(ns / NS) * 1000).toISOString().slice(0, 19)}.${(ns % NS).toString().padStart(9, '0')}Z`;
}

/** One record; `previousTime` is what `=` and `+N` count from. */
export function parseLogLine(line: string, previousTime = ''): LogRecord | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0 || c < 0) return undefined;
  const stream = STREAMS[line.slice(a + 1, b)];
  if (!stream) return undefined;
  let time = line.slice(0, a);
  if (time === '=') time = previousTime;
  else if (time[0] === '+') time = previousTime && rfc3339(nanos(previousTime) + BigInt(time.slice(1)));
  const full = line.slice(b + 1, c) === 'F';
  return { time, stream, text: line.slice(c + 1) + (full ? '\n' : '') };
}

/** Where a follower is: which file (by inode), how far in, and the last record's time. */
export interface LogCursor {
  ino: number;
  offset: number;
  time: string;
}

function readFile(file: string, from: number, time: string): { records: LogRecord[]; cursor: LogCursor } | undefined {
  let buf: Buffer;
  let ino: number;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const st = fs.fstatSync(fd);
      ino = st.ino;
      buf = Buffer.alloc(Math.max(0, st.size - from));
      fs.readSync(fd, buf, 0, buf.length, from);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  // Only complete lines; a line being written stays for the next read.
  const end = buf.lastIndexOf(0x0a) + 1;
  const records: LogRecord[] = [];
  for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
    const r = line ? parseLogLine(line, time) : undefined;
    if (r) {
      records.push(r);
      time = r.time;
    }
  }
  return { records, cursor: { ino, offset: from + end, time } };
}

const inoOf = (file: string) => fs.statSync(file, { throwIfNoEntry: false })?.ino;

/**
 * Every record there is (no cursor), or what came after the cursor: across a rotation the rest
 * of the file it was in (now `ctr.log.1`), then the new file from its start.
 */
export function readLogRecords(c: ContainerRecord, cursor?: LogCursor): { records: LogRecord[]; cursor: LogCursor } {
  // docker's words: --log-driver none keeps nothing to read.
  if (c.hostConfig.logConfig?.type === 'none') throw new TsctrError('configured logging driver does not support reading');
  const file = containerPaths.log(c.id);
  let records: LogRecord[] = [];
  let time = cursor?.time ?? '';
  let last: LogCursor | undefined;
  const take = (name: string, from: number) => {
    const r = readFile(name, from, time);
    if (!r) return;
    records = records.length ? records.concat(r.records) : r.records;
    time = r.cursor.time;
    last = r.cursor;
  };
  if (!cursor) {
    let n = 0;
    while (inoOf(`${file}.${n + 1}`) !== undefined) n++;
    for (let k = n; k >= 1; k--) take(`${file}.${k}`, 0);
  } else if (inoOf(file) !== cursor.ino) {
    if (inoOf(`${file}.1`) === cursor.ino) take(`${file}.1`, cursor.offset);
    cursor = undefined;
  } else if ((fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0) < cursor.offset) {
    cursor = undefined; // truncated (max-file 1): it starts again
  }
  last = undefined; // the cursor is always the current file's
  take(file, cursor?.offset ?? 0);
  return { records, cursor: last ?? cursor ?? { ino: 0, offset: 0, time } };
}

export interface LogOptions {
  tail?: number; // lines, -1 = all
  since?: number; // epoch ms
  until?: number;
  timestamps?: boolean;
}

/** Applies --since/--until/--tail (tail counts whole lines, as docker does). */
export function selectRecords(records: LogRecord[], o: LogOptions): LogRecord[] {
  let out = records.filter((r) => (o.since === undefined || Date.parse(r.time) >= o.since) && (o.until === undefined || Date.parse(r.time) <= o.until));
  if (o.tail !== undefined && o.tail >= 0) {
    let lines = 0;
    let i = out.length;
    while (i > 0) {
      if (out[i - 1]!.text.endsWith('\n')) {
        if (lines === o.tail) break;
        lines++;
      }
      i--;
    }
    out = out.slice(i);
  }
  return out;
}

export function formatRecord(r: LogRecord, timestamps: boolean): string {
  return timestamps ? `${r.time} ${r.text}` : r.text;
}
