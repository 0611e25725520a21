import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class StatsCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Display a live stream of container(s) resource usage statistics',
    details: `
      From the container's cgroup where it has one with the controllers (limits under a delegated
      cgroup v2), else from /proc, summed over the processes of its pid namespace: memory as their
      resident set, CPU % as the share of one CPU since the last reading, BLOCK I/O what they read
      and wrote to storage. NET I/O counts the container's interfaces. The memory limit is the
      container's (--memory, with a delegated cgroup) or the machine's.
    `,
    examples: [
      ['One reading of the running containers', '$0 stats --no-stream'],
      ['Some columns', "$0 stats --no-stream --format '{{.Name}} {{.MemUsage}}' web"],
    ],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Show all containers (default shows just running)' });
  noStream = Option.Boolean('--no-stream', false, { description: 'Disable streaming stats and only pull the first result' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: "Don't truncate output" });
  format = Option.String('--format', { description: 'Format output using a Go template, or "json"' });
  containers = Option.Rest();

  async run(): Promise<void> {
    const { containerStats, statsHeaders } = await import('../engine/extra.js');
    const { formatRows } = await import('../util/template.js');
    const headers = await statsHeaders();
    const def = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
    const format = this.format === 'json' ? '{{json .}}' : (this.format ?? def);
    let first = true;
    for await (const rows of containerStats({ names: this.containers, all: this.all, noTrunc: this.noTrunc })) {
      const out = formatRows(format, rows, headers, def);
      if (this.noStream) {
        this.write(out);
        return;
      }
      // docker redraws the screen at each reading
      this.write(`${first ? '' : '\x1b[2J\x1b[H'}${out}`);
      first = false;
    }
  }
}
