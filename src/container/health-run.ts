/**
 * `healthcheck run`: one probe now, started exactly as the monitor starts its probes (the same
 * spec file, `tsctr-shim exec SPEC PID`, SIGTERM at the timeout ending the probe's processes).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { ConflictError, TsctrError } from '../errors.js';
import { shimPath } from '../runtime/shim-path.js';
import { DEFAULTS, probeCommand, probeSpecFile } from './health.js';
import { liveState } from './state.js';
import { getContainer, loadContainers } from './store.js';

export async function runHealthcheckOnce(query: string): Promise<boolean> {
  const c = getContainer(loadContainers(), query);
  if (!probeCommand(c.config.healthcheck)) throw new TsctrError(`container ${c.name} has no defined healthcheck`);
  const st = liveState(c);
  if (st.status !== 'running') throw new ConflictError(`container ${c.name} is not running`);
  const spec = probeSpecFile(c.id);
  if (!fs.existsSync(spec)) throw new TsctrError(`container ${c.name} was started without its healthcheck: restart it`);
  const timeoutNs = c.config.healthcheck!.Timeout;
  const timeout = timeoutNs && timeoutNs > 0 ? timeoutNs / 1e6 : DEFAULTS.timeout;
  const child = spawn(shimPath(), ['exec', spec, String(st.pid)], { stdio: 'ignore' });
  const timer = setTimeout(() => child.kill('SIGTERM'), timeout);
  const code = await new Promise<number>((resolve) => {
    child.once('error', () => resolve(125));
    child.once('exit', (code) => resolve(code ?? 137));
  });
  clearTimeout(timer);
  return code === 0;
}
