import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

/** docker's column titles of the fields a --format may name. */
const PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED',
  Status: 'STATUS', Ports: 'PORTS', Names: 'NAMES', State: 'STATE', Labels: 'LABELS', Mounts: 'MOUNTS',
  Networks: 'NETWORKS', Size: 'SIZE', LocalVolumes: 'LOCAL VOLUMES',
};

export class PsCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'List containers',
    examples: [
      ['Running containers', '$0 ps'],
      ['All, IDs only', '$0 ps -aq'],
      ['Custom columns', "$0 ps --format 'table {{.Names}}\\t{{.Status}}'"],
      ['Exited ones', '$0 ps -a --filter status=exited'],
    ],
  });

  static override remote = true;

  all = Option.Boolean('-a,--all', false, { description: 'Show all containers (default shows just running)' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only display container IDs' });
  last = Option.String('-n,--last', { description: 'Show n last created containers (includes all states)' });
  latest = Option.Boolean('-l,--latest', false, { description: 'Show the latest created container (includes all states)' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: "Don't truncate output" });
  format = Option.String('--format', { description: 'Format output using a Go template, or "json"' });
  noHeading = Option.Boolean('--noheading', false, { description: 'Do not print the table header (podman)' });
  sort = Option.String('--sort', { description: 'Sort output by: command, created (default), id, image, names, runningfor, size, status (podman)' });
  filter = Option.Array('-f,--filter', [], { description: 'Filter output (status=, name=, ancestor=, label=, id=, exited=)' });

  async run(): Promise<void> {
    const { listContainers } = await import('../engine/containers.js');
    const { TsctrError } = await import('../errors.js');
    const last = this.latest ? 1 : this.last === undefined ? undefined : Number(this.last);
    if (last !== undefined && !Number.isInteger(last)) throw new TsctrError(`invalid argument "${this.last}" for "-n, --last" flag`);
    const rows = await listContainers({ all: this.all, last, noTrunc: this.noTrunc, filters: this.filter, sort: this.sort });
    if (this.quiet) {
      this.write(rows.map((r) => `${r.ID}\n`).join(''));
      return;
    }
    const { formatRows } = await import('../util/template.js');
    const def = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
    const format = this.format === 'json' ? '{{json .}}' : this.format;
    const out = formatRows(format ?? def, rows, PS_HEADERS, def);
    const table = (format ?? def).startsWith('table');
    this.write(this.noHeading && table ? out.slice(out.indexOf('\n') + 1) : out);
  }
}
