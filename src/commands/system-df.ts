import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';
import type { UsageRow } from '../engine/system.js';

export class SystemDfCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'System',
    description: 'Show disk usage of images, containers and volumes',
    examples: [
      ['Summary', '$0 system df'],
      ['Per item', '$0 system df -v'],
    ],
  });

  verbose = Option.Boolean('-v,--verbose', false, { description: 'Show detailed information on space usage' });
  format = Option.String('--format', { description: 'Output format: "json"' });

  async run(): Promise<void> {
    const { diskUsage } = await import('../engine/system.js');
    const { humanSize } = await import('../util/units.js');
    const { renderTable } = await import('../util/template.js');
    const usage = await diskUsage();
    const rows = usage.summary;
    if (this.format === 'json') {
      for (const r of rows) this.out(JSON.stringify({ Type: r.type, TotalCount: r.total, Active: r.active, Size: humanSize(r.size), Reclaimable: reclaimText(humanSize, r) }));
      return;
    }
    if (!this.verbose) {
      this.write(renderTable([['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], ...rows.map((r) => [r.type, String(r.total), String(r.active), humanSize(r.size), reclaimText(humanSize, r)])]));
      return;
    }

    const { humanDuration } = await import('../util/units.js');
    const ago = (iso: string) => (iso ? `${humanDuration(Date.now() - Date.parse(iso))} ago` : '');
    const shortId = (id: string) => id.slice(id.indexOf(':') + 1, id.indexOf(':') + 13);
    const imageLines = [['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS']];
    for (const i of usage.images) {
      for (const t of i.tags.length ? i.tags : [{ repository: '<none>', tag: '<none>' }]) {
        imageLines.push([t.repository, t.tag, shortId(i.id), ago(i.created), humanSize(i.size), humanSize(i.shared), humanSize(i.unique), String(i.containers)]);
      }
    }
    const ctrLines = [['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES']];
    for (const c of usage.containers) {
      const cmd = c.command.length > 20 ? `${c.command.slice(0, 19)}…` : c.command;
      ctrLines.push([c.id.slice(0, 12), c.image, JSON.stringify(cmd), String(c.localVolumes), humanSize(c.size), ago(c.created), c.running ? 'Up' : 'Exited', c.name]);
    }
    const volLines = [['VOLUME NAME', 'LINKS', 'SIZE'], ...usage.volumes.map((v) => [v.name, String(v.links), humanSize(v.size)])];
    this.write(
      `Images space usage:\n\n${renderTable(imageLines)}\nContainers space usage:\n\n${renderTable(ctrLines)}\nLocal Volumes space usage:\n\n${renderTable(volLines)}`,
    );
  }
}

/** docker's `1.2GB (45%)`: the percentage only when there is something at all. */
function reclaimText(humanSize: (n: number) => string, r: UsageRow): string {
  return r.size > 0 ? `${humanSize(r.reclaimable)} (${Math.floor((r.reclaimable / r.size) * 100)}%)` : humanSize(r.reclaimable);
}
