import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';
import type { Event } from '../engine/events.js';

export class EventsCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'System',
    description: 'Get real time events from the server',
    details: `
      Events come from a journal in the store that every command and each container's monitor
      append to (the last 1-2 MiB of events are kept), so a container's exit is there even when no
      tsctr command ran at the time. Without --until, events are followed until Ctrl-C, as docker's.
    `,
    examples: [
      ['Follow what happens to one container', '$0 events --filter container=web'],
      ['The last ten minutes, then stop', '$0 events --since 10m --until 0s'],
      ['As JSON lines', "$0 events --since 1h --until 0s --format json"],
    ],
  });

  filter = Option.Array('-f,--filter', [], { description: 'Filter output based on conditions provided (type=, event=, container=, image=, label=, volume=, network=)' });
  format = Option.String('--format', { description: 'Format the output using the given Go template, or "json"' });
  since = Option.String('--since', { description: 'Show all events created since timestamp' });
  until = Option.String('--until', { description: 'Stream events until this timestamp' });

  async run(): Promise<void> {
    const { streamEvents, eventMessage, checkEventFilters } = await import('../engine/events.js');
    const { parseSince } = await import('../util/units.js');
    const { writeFd } = await import('../util/stdout.js');
    const now = Date.now();
    const since = this.since !== undefined ? parseSince(this.since, now) : undefined;
    const until = this.until !== undefined ? parseSince(this.until, now) : undefined;
    await checkEventFilters(this.filter);
    let render: (e: Event) => Promise<string>;
    if (this.format !== undefined) {
      const { compileTemplate, parseFormat } = await import('../util/template.js');
      const tpl = compileTemplate(parseFormat(this.format).template);
      render = async (e) => `${tpl(templateData(e, await eventMessage(e)))}\n`;
    } else render = async (e) => `${textLine(e)}\n`;
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      for await (const batch of streamEvents({ since, until, filters: this.filter }, abort.signal)) {
        let text = '';
        for (const e of batch) text += await render(e);
        if (text) writeFd(1, text);
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  }
}

/** docker's fields for templates (Go's events.Message), with its JSON form for `{{json .}}`. */
function templateData(e: Event, json: Record<string, unknown>): Record<string, unknown> {
  const data: Record<string, unknown> = {
    Status: json.status ?? '', ID: json.id ?? '', From: json.from ?? '',
    Type: e.Type, Action: e.Action, Actor: e.Actor, Scope: e.scope, Time: e.time, TimeNano: e.timeNano,
  };
  Object.defineProperty(data, 'toJSON', { value: () => json, enumerable: false });
  return data;
}

/** docker's default line: local time with nanoseconds, type, action, id, (sorted attributes). */
function textLine(e: Event): string {
  const attrs = Object.keys(e.Actor.Attributes).sort().map((k) => `${k}=${e.Actor.Attributes[k]}`);
  return `${formatNano(e.timeNano)} ${e.Type} ${e.Action} ${e.Actor.ID}${attrs.length ? ` (${attrs.join(', ')})` : ''}`;
}

function formatNano(nano: number): string {
  const ms = Math.floor(nano / 1e6);
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const frac = p(Math.max(0, Math.round(nano - ms * 1e6)) + (ms % 1000) * 1e6, 9);
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${frac}${zone}`;
}
