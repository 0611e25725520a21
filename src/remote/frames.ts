/**
 * docker's stream multiplexing, read: 8-byte headers (stream 1 stdout, 2 stderr; the size,
 * big-endian) before each frame of logs and attach answers without a tty; with a tty the bytes
 * are raw stdout. Yields what each chunk completes, so output is shown as it arrives.
 */
export interface Frame {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

export async function* demux(input: AsyncIterable<Buffer | string>, raw: boolean): AsyncGenerator<Frame[]> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of input) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (raw) {
      yield [{ stream: 'stdout', data: b }];
      continue;
    }
    buf = buf.length ? Buffer.concat([buf, b]) : b;
    const out: Frame[] = [];
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      // stdin (0) is not sent to a client; anything but 2 is output.
      out.push({ stream: buf[0] === 2 ? 'stderr' : 'stdout', data: buf.subarray(8, 8 + size) });
      buf = buf.subarray(8 + size);
    }
    if (out.length) yield out;
  }
}
