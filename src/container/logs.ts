/**
 * Reading the k8s-file log the monitor writes: `<RFC3339Nano> <stream> <F|P> <text>`, where P marks
 * a piece of a line that continues in the next record.
 */
import fs from 'node:fs';
import { containerPaths } from '../paths.js';
import type { ContainerRecord } from './types.js';

export interface LogRecord {
  time: string;
  stream: 'stdout' | 'stderr';
  text: string; // with its newline when the record ends a line
}

export function parseLogLine(line: string): LogRecord | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0 || c < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const full = line.slice(b + 1, c) === 'F';
  return { time: line.slice(0, a), stream, text: line.slice(c + 1) + (full ? '\n' : '') };
}

export interface LogOptions {
  tail?: number; // lines, -1 = all
  since?: number; // epoch ms
  until?: number;
  timestamps?: boolean;
}

export function readLogRecords(c: ContainerRecord, from = 0): { records: LogRecord[]; offset: number } {
  let buf: Buffer;
  try {
    const fd = fs.openSync(containerPaths.log(c.id), 'r');
    try {
      const size = fs.fstatSync(fd).size;
      buf = Buffer.alloc(Math.max(0, size - from));
      fs.readSync(fd, buf, 0, buf.length, from);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return { records: [], offset: from };
  }
  // Only complete lines; a line being written stays for the next read.
  const end = buf.lastIndexOf(0x0a) + 1;
  const records = buf
    .subarray(0, end)
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map(parseLogLine)
    .filter((r): r is LogRecord => r !== undefined);
  return { records, offset: from + end };
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
