/**
 * The Engine API's stream multiplexing (attach, exec, logs without a tty): each chunk is prefixed by
 * 8 bytes — the stream (0 stdin, 1 stdout, 2 stderr), three zero bytes, the length (big-endian u32).
 * With a tty there is one stream and no header: the bytes go as they are.
 */
import type { Writable } from 'node:stream';

export const MUX_CONTENT_TYPE = 'application/vnd.docker.multiplexed-stream';
export const RAW_CONTENT_TYPE = 'application/vnd.docker.raw-stream';

export function frame(stream: 1 | 2, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(data.length, 4);
  return Buffer.concat([head, data]);
}

/** A writer of stdout/stderr chunks to `out`, framed unless `tty`; writes after the end are dropped. */
export function streamWriter(out: Writable, tty: boolean): (stream: 1 | 2, data: Buffer | string) => void {
  return (stream, data) => {
    if (out.writableEnded || out.destroyed) return;
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    if (buf.length === 0) return;
    out.write(tty ? buf : frame(stream, buf));
  };
}
