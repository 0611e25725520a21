/** The real docker CLI as a client of tsctr's API, with its own config directory in the sandbox. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Result, Sandbox } from './harness.js';

/** Fails the file's set-up when the CLI is missing rather than every test with ENOENT. */
export function assertDockerCli(): void {
  assert.ok(spawnSync('docker', ['--version']).status === 0, 'the docker CLI is needed (scripts/setup-host.sh installs it)');
}

/** The sandbox's environment for docker: DOCKER_HOST at `host` (a URL; none: docker's default), a config directory of its own. */
export function dockerEnv(sb: Sandbox, host?: string, more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...sb.env, ...(host ? { DOCKER_HOST: host } : {}), DOCKER_CONFIG: path.join(sb.dir, 'docker-config'), ...more };
}

export interface DockerCli {
  /** Runs docker to its end: the exit code and output. */
  run(args: string[], o?: { input?: string; timeout?: number }): Result;
  /** Like run, but asserts success and returns stdout. */
  ok(args: string[], o?: { input?: string; timeout?: number }): string;
  /** Runs docker in the background (stdin closed): resolves when it ends. */
  start(args: string[]): Promise<Result>;
}

export function dockerCli(env: NodeJS.ProcessEnv): DockerCli {
  const run = (args: string[], o: { input?: string; timeout?: number } = {}): Result => {
    const r = spawnSync('docker', args, { env, encoding: 'utf8', timeout: o.timeout ?? 120_000, input: o.input ?? '' });
    if (r.error) throw r.error;
    return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
  };
  return {
    run,
    ok(args, o) {
      const r = run(args, o);
      if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      return r.stdout;
    },
    start(args) {
      return new Promise((resolve) => {
        const c = spawn('docker', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        c.stdout.on('data', (d) => (stdout += d));
        c.stderr.on('data', (d) => (stderr += d));
        c.on('close', (code) => resolve({ code: code ?? 128, stdout, stderr }));
      });
    },
  };
}
