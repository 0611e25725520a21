/**
 * Output to fd 1 without process.stdout: creating that stream loads Node's stream machinery (and
 * for a pipe, as in `id=$(tsctr run -d ...)`, node:net), a few milliseconds of a short command.
 * Blocking writes in order; a descriptor someone made non-blocking falls back to the stream.
 * Output nobody reads any more (EPIPE) is dropped, as the commands have nothing else to say.
 */
import fs from 'node:fs';

export function writeStdout(text: string): void {
  writeFd(1, text);
}

/** The same for fd 2 as well (`logs` gives the container's stderr on its own). */
export function writeFd(fd: 1 | 2, text: string | Buffer): void {
  let buf = typeof text === 'string' ? Buffer.from(text) : text;
  while (buf.length) {
    let n: number;
    try {
      n = fs.writeSync(fd, buf);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // The reader went away (`tsctr ps | head -1`): the rest has no one to read it.
      if (code === 'EPIPE') return;
      if (code !== 'EAGAIN') throw e;
      (fd === 1 ? process.stdout : process.stderr).write(buf);
      return;
    }
    buf = buf.subarray(n);
  }
}

/** isatty without node:tty (which loads node:net): what the descriptor is open on. */
export function isTerminal(fd: number): boolean {
  try {
    return /^\/dev\/(pts\/\d+|tty\w*|console)$/.test(fs.readlinkSync(`/proc/self/fd/${fd}`));
  } catch {
    return false;
  }
}
