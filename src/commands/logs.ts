import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class LogsCommand extends TsctrCommand {
  static override paths = [['logs'], ['container', 'logs']];
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Fetch the logs of a container',
    examples: [
      ['Follow the last 10 lines', '$0 logs -f --tail 10 web'],
      ['With timestamps, last 5 minutes', '$0 logs -t --since 5m web'],
    ],
  });

  follow = Option.Boolean('-f,--follow', false, { description: 'Follow log output' });
  tail = Option.String('-n,--tail', 'all', { description: 'Number of lines to show from the end of the logs' });
  timestamps = Option.Boolean('-t,--timestamps', false, { description: 'Show timestamps' });
  since = Option.String('--since', { description: 'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)' });
  until = Option.String('--until', { description: 'Show logs before a timestamp or relative time' });
  container = Option.String();

  async run(): Promise<void> {
    const { TsctrError } = await import('../errors.js');
    const { getContainer, loadContainers } = await import('../container/store.js');
    const { readLogRecords, selectRecords, formatRecord } = await import('../container/logs.js');
    const { liveState } = await import('../container/state.js');
    const { parseSince } = await import('../util/units.js');
    const tail = this.tail === 'all' ? -1 : Number(this.tail);
    if (!Number.isInteger(tail)) throw new TsctrError(`invalid value for --tail: ${this.tail}`);
    const now = Date.now();
    const since = this.since ? parseSince(this.since, now) : undefined;
    const until = this.until ? parseSince(this.until, now) : undefined;
    const c = getContainer(loadContainers(), this.container);
    const write = (r: { stream: string; text: string; time: string }) =>
      (r.stream === 'stderr' ? this.context.stderr : this.context.stdout).write(formatRecord(r as never, this.timestamps));
    let { records, offset } = readLogRecords(c);
    selectRecords(records, { tail, since, until }).forEach(write);
    if (!this.follow) return;
    // Follow until the container is gone or stopped, then print what it wrote last.
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const running = liveState(c).status === 'running';
      ({ records, offset } = readLogRecords(c, offset));
      records.filter((r) => until === undefined || Date.parse(r.time) <= until).forEach(write);
      if (!running || !loadContainers().containers[c.id]) return;
    }
  }
}
