import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class StatsCommand extends TsctrCommand {
  static override paths = [['stats'], ['container', 'stats']];
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Display a live stream of container(s) resource usage statistics',
    details: `
      Measured from /proc (the processes of the container's pid namespace), not from a cgroup:
      memory is their resident set, CPU % the share of one CPU since the last reading, NET I/O the
      container's interfaces, BLOCK I/O what its processes read and wrote to storage. The memory
      limit is the container's (--memory, with a delegated cgroup) or the machine's.
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
