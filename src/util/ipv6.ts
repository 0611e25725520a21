/**
 * IPv6 text to its 16 bytes, for binding from a socket address built by hand (syscalls.ts):
 * node:net's isIPv6 would cost a module load (~2 ms) in every `run -p`.
 */
const GROUP = /^[0-9a-fA-F]{1,4}$/;

/** RFC 4291 forms: full, `::`-compressed, and with a dotted IPv4 tail; undefined when not one. */
export function parseIPv6(text: string): Buffer | undefined {
  let s = text;
  let v4: number[] | undefined;
  const dotted = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(s);
  if (dotted) {
    v4 = dotted[2]!.split('.').map(Number);
    if (v4.some((n) => n > 255)) return undefined;
    s = `${dotted[1]}0:0`; // two placeholder groups, replaced below
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (x: string) => (x === '' ? [] : x.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (![...head, ...tail].every((g) => GROUP.test(g))) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  if (v4) Buffer.from(v4).copy(out, 12);
  return out;
}
