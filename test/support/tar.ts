/** Hand-made tar entries, so tests can build archives no well-behaved tar tool would write. */
export function tarEntry(name: string, body: Buffer | string = '', opts: { type?: string; linkname?: string; mode?: number; uid?: number; gid?: number; devmajor?: number; devminor?: number } = {}): Buffer {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const h = Buffer.alloc(512);
  const oct = (n: number, len: number) => n.toString(8).padStart(len - 1, '0') + '\0';
  h.write(name, 0, 100);
  h.write(oct(opts.mode ?? 0o644, 8), 100);
  h.write(oct(opts.uid ?? 0, 8), 108);
  h.write(oct(opts.gid ?? 0, 8), 116);
  h.write(oct(data.length, 12), 124);
  h.write(oct(1700000000, 12), 136);
  h.write('        ', 148);
  h.write(opts.type ?? '0', 156);
  h.write(opts.linkname ?? '', 157, 100);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write(oct(opts.devmajor ?? 0, 8), 329);
  h.write(oct(opts.devminor ?? 0, 8), 337);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return Buffer.concat([h, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** A pax extended header ('x') carrying the given records for the next entry. */
export function paxHeader(records: Record<string, string>): Buffer {
  const body = Object.entries(records)
    .map(([k, v]) => {
      const rec = ` ${k}=${v}\n`;
      let len = rec.length + 1;
      while (String(len).length + rec.length !== len) len = String(len).length + rec.length;
      return `${len}${rec}`;
    })
    .join('');
  return tarEntry('PaxHeader', body, { type: 'x' });
}

export function tarOf(...entries: Buffer[]): Buffer {
  return Buffer.concat([...entries, Buffer.alloc(1024)]);
}
