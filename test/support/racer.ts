/**
 * A container that races the engine's readers: test/support/racer.c swaps a directory and a file
 * with symlinks to the user's private files on the host (RENAME_EXCHANGE in a tight loop) while
 * export, commit or cp read the container's files from outside. What they produce must hold
 * nothing of RACER_SECRET.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Sandbox } from './harness.js';
import { compileProbe } from './probes.js';
import { sleepSync } from './wait.js';

/** The text of the host's private file: found in an output, the race was lost. */
export const RACER_SECRET = `HOST-SECRET-${process.pid}`;

/**
 * Starts the container `racer` (busybox must be pulled) racing under `root` in it: root/d swapped
 * with root/l (a link to a private directory of the host), root/f with root/fl (a link to the file
 * in it). `prepare`: shell commands run after the files are made, before the race starts.
 */
export function startRacer(sb: Sandbox, root: string, prepare: string[] = []): void {
  const probeDir = path.join(sb.dir, 'probe');
  const hostDir = path.join(sb.dir, 'host-private');
  fs.mkdirSync(probeDir);
  compileProbe('racer', probeDir);
  // The user's own private files: root of the container's namespace must not read them through a link.
  fs.mkdirSync(hostDir, { mode: 0o700 });
  fs.writeFileSync(path.join(hostDir, 'secret.txt'), `${RACER_SECRET}\n`, { mode: 0o600 });
  const setup = [
    `mkdir -p ${root}/d && echo container > ${root}/d/secret.txt && ln -s ${hostDir} ${root}/l`,
    `echo container-file > ${root}/f && ln -s ${path.join(hostDir, 'secret.txt')} ${root}/fl`,
    ...prepare,
    'echo ready',
    `/probe/racer ${root}/d ${root}/l 600 & /probe/racer ${root}/f ${root}/fl 600 & wait`,
  ].join('; ');
  sb.ok(['run', '-d', '--name', 'racer', '-v', `${probeDir}:/probe:ro`, 'busybox', 'sh', '-c', setup]);
  for (let i = 0; i < 100 && !sb.ok(['logs', 'racer']).includes('ready'); i++) sleepSync(50);
}
