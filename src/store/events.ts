/**
 * The event journal: what happened to containers, images, volumes and networks, as docker's event
 * stream has it, kept in the store because there is no daemon to remember it. `events` reads it
 * (and follows it), and an API server's /events serves it.
 *
 * One JSON object a line in `events.log`, appended with a single O_APPEND write: the kernel
 * serialises appends to a regular file, so lines from concurrent writers (commands, the containers'
 * C monitors, which write `start`, `die` and `health_status` themselves in the same format) never
 * interleave, and no lock is taken on the hot path. The size is bounded: past MAX_BYTES the file
 * becomes `events.log.1` (replacing the one before) under the store's event lock, so the journal
 * keeps between one and two files' worth of the latest events. A writer that opened the old file
 * just before the rename still lands in the journal (in `.1`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { dataRoot } from '../paths.js';
import { flock, LOCK_EX } from '../rootless/syscalls.js';

export type EventType = 'container' | 'image' | 'volume' | 'network';

/** docker's events.Message, without its deprecated fields (status, id, from: see dockerMessage). */
export interface Event {
  Type: EventType;
  /** `create`, `die`, ...; docker writes some with a detail: `exec_start: sh -c ...`, `health_status: healthy`. */
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  /** Seconds since the epoch. */
  time: number;
  /** Nanoseconds since the epoch (a double: precise to a few hundred ns). */
  timeNano: number;
}

/** Past this the journal rotates (two files at most: the current one and one before). */
export const MAX_BYTES = 1 << 20;

export const eventPaths = {
  log: () => path.join(dataRoot(), 'events.log'),
  old: () => path.join(dataRoot(), 'events.log.1'),
  lock: () => path.join(dataRoot(), 'events.lock'),
};

function nowNano(): number {
  const ms = performance.timeOrigin + performance.now();
  return Math.floor(ms) * 1e6 + Math.floor((ms % 1) * 1e6);
}

export function makeEvent(type: EventType, action: string, id: string, attributes: Record<string, string> = {}, timeNano = nowNano()): Event {
  return { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local', time: Math.floor(timeNano / 1e9), timeNano };
}

/**
 * Appends events to the journal. Never throws: an event that cannot be written (a full disk, a
 * store made read-only) must not fail the command that did the work.
 */
export function appendEvents(events: Event[]): void {
  if (!events.length) return;
  const file = eventPaths.log();
  let size = 0;
  try {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o600);
    try {
      fs.writeSync(fd, events.map((e) => JSON.stringify(e) + '\n').join(''));
      size = fs.fstatSync(fd).size;
    } finally {
      fs.closeSync(fd);
    }
    if (size > MAX_BYTES) rotate();
  } catch {
    // see above
  }
}

export function appendEvent(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): void {
  appendEvents([makeEvent(type, action, id, attributes)]);
}

/** Synchronous, so that a sync library function can record its event; rare (once a MiB). */
function rotate(): void {
  const fd = fs.openSync(eventPaths.lock(), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    flock(fd, LOCK_EX);
    // Another writer may have rotated already while we waited for the lock.
    const st = fs.statSync(eventPaths.log(), { throwIfNoEntry: false });
    if (st && st.size > MAX_BYTES) fs.renameSync(eventPaths.log(), eventPaths.old());
  } finally {
    fs.closeSync(fd); // releases the lock
  }
}

/** Parses journal text; lines that are not events (a torn last line, a hand edit) are skipped. */
export function parseEvents(text: string): Event[] {
  const out: Event[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const e = JSON.parse(line) as Event;
      if (e && typeof e.Type === 'string' && typeof e.Action === 'string' && typeof e.timeNano === 'number' && e.Actor && typeof e.Actor.ID === 'string') {
        e.Actor.Attributes ??= {};
        out.push(e);
      }
    } catch {
      // skipped
    }
  }
  return out;
}

/** Every event the journal holds, oldest first. */
export function readEvents(): Event[] {
  const read = (f: string) => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  return parseEvents(read(eventPaths.old()) + read(eventPaths.log())).sort((a, b) => a.timeNano - b.timeNano);
}

/**
 * The events appended from now on, as they come (polled), across rotations, until the signal
 * aborts. Each batch in the order written.
 */
export async function* followEvents(signal: AbortSignal, intervalMs = 100): AsyncGenerator<Event[]> {
  const file = eventPaths.log();
  let fd: number | undefined;
  let ino = 0;
  let pos = 0;
  let partial = '';
  const open = (fromEnd: boolean) => {
    try {
      fd = fs.openSync(file, 'r');
      const st = fs.fstatSync(fd);
      ino = st.ino;
      pos = fromEnd ? st.size : 0;
    } catch {
      fd = undefined;
    }
  };
  const drain = (): Event[] => {
    if (fd === undefined) return [];
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(65536);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      pos += n;
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    const text = partial + Buffer.concat(chunks).toString('utf8');
    const cut = text.lastIndexOf('\n') + 1;
    partial = text.slice(cut);
    return parseEvents(text.slice(0, cut));
  };
  open(true);
  try {
    while (!signal.aborted) {
      let batch = drain();
      const st = fs.statSync(file, { throwIfNoEntry: false });
      if (st && st.ino !== ino) {
        // Rotated (or made for the first time): what the old file got last, then the new one from its start.
        batch = batch.concat(drain());
        if (fd !== undefined) fs.closeSync(fd);
        partial = '';
        open(false);
        batch = batch.concat(drain());
      }
      if (batch.length) yield batch;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, intervalMs);
        signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    }
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The form docker's API and `--format json` give an event: with the deprecated status/id/from of container and image events. */
export function dockerMessage(e: Event): Record<string, unknown> {
  const legacy: Record<string, unknown> = {};
  if (e.Type === 'container' || e.Type === 'image') {
    legacy.status = e.Action;
    legacy.id = e.Actor.ID;
    if (e.Type === 'container' && e.Actor.Attributes.image !== undefined) legacy.from = e.Actor.Attributes.image;
  }
  return { ...legacy, Type: e.Type, Action: e.Action, Actor: e.Actor, scope: e.scope, time: e.time, timeNano: e.timeNano };
}
