/**
 * `tsctr-shim balance` started by a test itself, under a descriptor limit: the balancer's caps (TCP
 * connections, UDP sessions) follow from its fd limit, and a low one is the only way to reach them
 * with a test's load.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './harness.js';
import { until } from './wait.js';

export interface CappedBalancer {
  pid: number;
  /** The port of 127.0.0.1 it listens on (the kernel's pick). */
  port: number;
  /** Removes its backends file, which ends it, and waits until it is gone. */
  stop(): Promise<void>;
}

/**
 * A balancer in `dir` (made here) with `nofile` descriptors, listening on 127.0.0.1 (tcp or udp),
 * over `backends` (ports of 127.0.0.1, no health file): its pid and port once it says it is ready.
 */
export async function startCappedBalancer(dir: string, o: { nofile: number; protocol: 'tcp' | 'udp'; backends: number[] }): Promise<CappedBalancer> {
  fs.mkdirSync(dir, { mode: 0o700 });
  const spec = path.join(dir, 'spec');
  const backends = path.join(dir, 'backends');
  fs.writeFileSync(spec, `listen 127.0.0.1 0${o.protocol === 'udp' ? ' udp' : ''}\nbackends ${backends}\npid-file ${dir}/balancer.pid\n`);
  fs.writeFileSync(backends, o.backends.map((p) => `${p} -\n`).join(''));
  const child = spawn('prlimit', [`--nofile=${o.nofile}:${o.nofile}`, path.join(REPO, 'dist', 'tsctr-shim'), 'balance', spec], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
  let ready = '';
  child.stdio[3]!.on('data', (b: Buffer) => (ready += b.toString()));
  // The balancer forks off into a session of its own; the process started here ends once it has
  // passed on its "ok PID PORT" (fd 3).
  await new Promise((r) => child.on('close', r));
  const m = /^ok (\d+) (\d+)\n$/.exec(ready);
  assert.ok(m, ready);
  const pid = Number(m[1]);
  return {
    pid,
    port: Number(m[2]),
    async stop() {
      fs.rmSync(backends, { force: true });
      await until('the capped balancer gone', () => !fs.existsSync(`/proc/${pid}`), 5000);
    },
  };
}
