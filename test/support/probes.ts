/** The C probes of test/support (racers, watchers, UDP tools), built static: they run in busybox containers without a libc. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO } from './harness.js';

/** Compiles test/support/NAME.c to DIR/NAME (or to `out`); the binary's path. */
export function compileProbe(name: string, dir: string, out = path.join(dir, name)): string {
  const cc = spawnSync('gcc', ['-static', '-O2', '-o', out, path.join(REPO, 'test', 'support', `${name}.c`)], { encoding: 'utf8' });
  assert.equal(cc.status, 0, `gcc -static failed (scripts/setup-host.sh installs gcc and libc6-dev): ${cc.stderr}`);
  return out;
}
