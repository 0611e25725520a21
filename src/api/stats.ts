/**
 * `GET /containers/{id}/stats`: docker's stats JSON from the engine's readings (the same as
 * `tsctr stats`), one object (`stream=0`) or one per second until the client goes. The CPU figures
 * are chosen so that docker's formula (cpu delta / system delta × online CPUs × 100) gives tsctr's
 * meaning, 100% = one CPU: the "system" time is the wall time × the CPU count.
 */
import os from 'node:os';
import type { Route } from './router.js';
import type { Ctx } from './http.js';
import { boolParam } from './http.js';
import type { Usage } from '../engine/extra.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

function cpuStats(u: Usage | undefined, cpus: number) {
  const s = u?.sample;
  return {
    cpu_usage: { total_usage: s ? s.cpuUsec * 1000 : 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    system_cpu_usage: s ? s.at * 1e6 * cpus : 0,
    online_cpus: cpus,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

export function statsJson(now: Usage, before: Usage | undefined) {
  const cpus = os.cpus().length || 1;
  const s = now.sample;
  const nets = s ? { eth0: { rx_bytes: s.rx, rx_packets: 0, rx_errors: 0, rx_dropped: 0, tx_bytes: s.tx, tx_packets: 0, tx_errors: 0, tx_dropped: 0 } } : {};
  const blk = (op: string, value: number) => ({ major: 0, minor: 0, op, value });
  return {
    read: s ? new Date(s.at).toISOString() : ZERO_TIME,
    preread: before?.sample ? new Date(before.sample.at).toISOString() : ZERO_TIME,
    pids_stats: { current: s?.pids ?? 0 },
    blkio_stats: { io_service_bytes_recursive: s ? [blk('read', s.read), blk('write', s.write)] : null },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(now, cpus),
    precpu_stats: cpuStats(before, cpus),
    memory_stats: s ? { usage: s.rss, limit: now.memoryLimit, stats: {} } : {},
    name: `/${now.name}`,
    id: now.id,
    networks: nets,
  };
}

async function stats(ctx: Ctx): Promise<void> {
  const { containerUsage } = await import('../engine/extra.js');
  const stream = boolParam(ctx.query, 'stream', true);
  const oneShot = boolParam(ctx.query, 'one-shot');
  let before = await containerUsage(ctx.params.id!); // 404 before anything is sent
  const id = before.id;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  if (!stream) {
    if (oneShot) return void ctx.res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(statsJson(before, undefined)));
    await sleep(500);
    const now = await containerUsage(id);
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(statsJson(now, before)));
    return;
  }
  ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
  let open = true;
  ctx.res.once('close', () => (open = false));
  // docker's first object has no previous reading; then one a second.
  ctx.res.write(`${JSON.stringify(statsJson(before, undefined))}\n`);
  while (open) {
    await sleep(1000);
    if (!open) break;
    let now: Usage;
    try {
      now = await containerUsage(id);
    } catch {
      break; // removed meanwhile
    }
    ctx.res.write(`${JSON.stringify(statsJson(now, before))}\n`);
    before = now;
  }
  ctx.res.end();
}

export const statsRoutes: Route[] = [{ method: 'GET', pattern: '/containers/{id}/stats', handle: stats }];
