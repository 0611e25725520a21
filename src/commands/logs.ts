import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';
import type { LogRecord } from '../engine/containers.js';

export class LogsCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Fetch the logs of a container',
    examples: [
      ['Follow the last 10 lines', '$0 logs -f --tail 10 web'],
      ['With timestamps, last 5 minutes', '$0 logs -t --since 5m web'],
    ],
  });

  static override remote = true;

  follow = Option.Boolean('-f,--follow', false, { description: 'Follow log output' });
  tail = Option.String('-n,--tail', 'all', { description: 'Number of lines to show from the end of the logs' });
  timestamps = Option.Boolean('-t,--timestamps', false, { description: 'Show timestamps' });
  since = Option.String('--since', { description: 'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)' });
  until = Option.String('--until', { description: 'Show logs before a timestamp or relative time' });
  container = Option.String();

  async run(): Promise<void> {
    const { TsctrError } = await import('../errors.js');
    const { containerLogs, logFormatter } = await import('../engine/containers.js');
    const { parseSince } = await import('../util/units.js');
    const tail = this.tail === 'all' ? -1 : Number(this.tail);
    if (!Number.isInteger(tail)) throw new TsctrError(`invalid value for --tail: ${this.tail}`);
    const now = Date.now();
    const since = this.since ? parseSince(this.since, now) : undefined;
    const until = this.until ? parseSince(this.until, now) : undefined;
    const { writeFd } = await import('../util/stdout.js');
    // Runs of one stream in one write each; a reader that went away (`logs | head`) ends nothing but the output.
    const print = (rs: LogRecord[]) => {
      for (let i = 0; i < rs.length; ) {
        let j = i;
        let text = '';
        while (j < rs.length && rs[j]!.stream === rs[i]!.stream) text += formatRecord(rs[j++]!, this.timestamps);
        writeFd(rs[i]!.stream === 'stderr' ? 2 : 1, text);
        i = j;
      }
    };
    const formatRecord = await logFormatter();
    for await (const batch of containerLogs(this.container, { tail, since, until, follow: this.follow })) print(batch);
  }
}
