/**
 * `GET /containers/{id}/logs?follow=1` (containers.ts hands it over; it serves the rest): the records the engine reads from the
 * container's log, framed (no tty) or raw (tty), until the container stops or the client goes —
 * a client that disconnects ends the engine's reader, nothing stays behind.
 */
import type { Ctx } from './http.js';
import { boolParam } from './http.js';
import { badRequest } from './errors.js';
import { MUX_CONTENT_TYPE, RAW_CONTENT_TYPE, streamWriter } from './mux.js';

/** docker's `since`/`until`: unix seconds, with a fraction or not; epoch ms, or undefined. */
function timeParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '' || v === '0') return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)}`);
  return Math.floor(Number(v) * 1000);
}

export async function followLogs(ctx: Ctx): Promise<void> {
  const q = ctx.query;
  const stdout = boolParam(q, 'stdout');
  const stderr = boolParam(q, 'stderr');
  if (!stdout && !stderr) throw badRequest('You must choose at least one stream');
  const follow = boolParam(q, 'follow');
  const timestamps = boolParam(q, 'timestamps');
  const tailRaw = q.get('tail');
  if (tailRaw && tailRaw !== 'all' && !/^\d+$/.test(tailRaw)) throw badRequest(`invalid value for tail: ${JSON.stringify(tailRaw)}`);
  const tail = !tailRaw || tailRaw === 'all' ? -1 : Number(tailRaw);
  const since = timeParam(q, 'since');
  const until = timeParam(q, 'until');
  const { containerLogs, inspectContainer } = await import('../engine/containers.js');
  const c = (await inspectContainer(ctx.params.id!)) as { Id: string; Config: { Tty: boolean } };
  const tty = c.Config.Tty;
  const records = containerLogs(c.Id, { tail, since, until, follow });
  ctx.res.writeHead(200, { 'Content-Type': tty ? RAW_CONTENT_TYPE : MUX_CONTENT_TYPE });
  ctx.res.flushHeaders();
  let open = true;
  ctx.res.once('close', () => {
    open = false;
  });
  const write = streamWriter(ctx.res, tty);
  try {
    for await (const batch of records) {
      if (!open) break;
      for (const r of batch) {
        if (!(r.stream === 'stdout' ? stdout : stderr)) continue;
        write(r.stream === 'stdout' ? 1 : 2, timestamps ? `${r.time} ${r.text}` : r.text);
      }
    }
  } finally {
    await records.return(undefined);
    ctx.res.end();
  }
}
