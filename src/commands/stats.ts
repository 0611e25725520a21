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
    const { getContainer, loadContainers } = await import('../container/store.js');
    const { liveState } = await import('../container/state.js');
    const { sample, statsRow, STATS_HEADERS } = await import('../container/stats.js');
    const { formatRows } = await import('../util/template.js');
    const doc = loadContainers();
    // Named containers must exist (docker: error); otherwise running ones, or all with -a.
    const chosen = this.containers.length
      ? this.containers.map((n) => getContainer(doc, n))
      : Object.values(doc.containers).filter((c) => this.all || liveState(c).status === 'running');
    const def = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
    const format = this.format === 'json' ? '{{json .}}' : (this.format ?? def);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let before = chosen.map((c) => sample(c));
    // CPU % needs two readings: the first one comes half a second after the start.
    await sleep(500);
    for (let first = true; ; first = false) {
      const now = chosen.map((c) => sample(c));
      const rows = chosen.map((c, i) => statsRow(c, before[i], now[i], this.noTrunc));
      const out = formatRows(format, rows, STATS_HEADERS, def);
      if (this.noStream) {
        this.write(out);
        return;
      }
      // docker redraws the screen each second
      this.write(`${first ? '' : '\x1b[2J\x1b[H'}${out}`);
      before = now;
      await sleep(1000);
    }
  }
}
