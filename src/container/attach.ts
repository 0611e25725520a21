/**
 * `attach`: the container's output from now on, read from its log as the monitor writes it (the
 * monitor has no channel for another reader), until it exits; its exit code then.
 */
import { ConflictError } from '../errors.js';
import { signalProcess } from '../util/proc.js';
import { writeFd } from '../util/stdout.js';
import { formatRecord, readLogRecords, type LogRecord } from './logs.js';
import { waitContainer } from './ops.js';
import { liveState } from './state.js';
import { getContainer, loadContainers } from './store.js';

export async function attachOutput(query: string, sigProxy: boolean): Promise<number> {
  const c = getContainer(loadContainers(), query);
  const st = liveState(c);
  if (st.status !== 'running') throw new ConflictError('You cannot attach to a stopped container, start it first');
  if (st.paused) throw new ConflictError('You cannot attach to a paused container, unpause it first');
  // docker's --sig-proxy: what we get, the container gets (as long as it is the same run).
  const proxy = (sig: NodeJS.Signals) => signalProcess(liveState(c).init, sig);
  if (sigProxy) for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const) process.on(s, proxy);
  const print = (rs: LogRecord[]) => {
    for (const r of rs) writeFd(r.stream === 'stderr' ? 2 : 1, formatRecord(r, false));
  };
  let { cursor } = readLogRecords(c); // what was written before we came is not shown
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    const running = liveState(c).status === 'running';
    const next = readLogRecords(c, cursor);
    cursor = next.cursor;
    print(next.records);
    if (!running) break;
    if (!loadContainers().containers[c.id]) return 0;
  }
  if (!loadContainers().containers[c.id]) return 0; // removed (--rm) as it exited
  try {
    return await waitContainer(c.id);
  } catch {
    return 0; // removed meanwhile
  }
}
