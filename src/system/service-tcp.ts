/**
 * The TCP listeners of the `system service`s that run now, for `tsctr info`: a service records its
 * URL under the run root (0700) while it serves, one file per process; a file whose process is
 * gone (killed, crashed) is stale and removed by the next reader.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runRoot } from '../paths.js';

const dir = () => path.join(runRoot(), 'tcp-services');

/** Records `tcp://HOST:PORT (how)` for this process; the returned function forgets it. */
export function recordTcpService(line: string): () => void {
  fs.mkdirSync(dir(), { recursive: true, mode: 0o700 });
  const file = path.join(dir(), String(process.pid));
  fs.writeFileSync(file, `${line}\n`, { mode: 0o600 });
  return () => fs.rmSync(file, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `tcp://HOST:PORT (tlsverify)` for each service that runs, sorted. */
export function liveTcpServices(): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir());
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    const file = path.join(dir(), n);
    if (!/^\d+$/.test(n) || !alive(Number(n))) {
      fs.rmSync(file, { force: true });
      continue;
    }
    const line = fs.readFileSync(file, 'utf8').trim();
    if (line) out.push(line);
  }
  return out.sort();
}
