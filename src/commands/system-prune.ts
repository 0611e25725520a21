import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class SystemPruneCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'System',
    description: 'Remove stopped containers, dangling images and, optionally, unused volumes',
    examples: [
      ['No prompt', '$0 system prune -f'],
      ['Also every unused image and volume', '$0 system prune -a --volumes -f'],
    ],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Remove all unused images, not just dangling ones' });
  volumes = Option.Boolean('--volumes', false, { description: 'Prune volumes no container uses' });
  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });

  async run(): Promise<void> {
    if (!this.force) {
      const items = [
        'all stopped containers',
        ...(this.volumes ? ['all volumes not used by at least one container'] : []),
        this.all ? 'all images without at least one container associated to them' : 'all dangling images',
      ];
      const { confirmOrCancel } = await import('../util/confirm.js');
      const question = `WARNING! This will remove:\n${items.map((i) => `  - ${i}\n`).join('')}\nAre you sure you want to continue? [y/N] `;
      await confirmOrCancel(question);
    }
    const { systemPrune } = await import('../engine/system.js');
    const report = await systemPrune({ all: this.all, volumes: this.volumes });
    const listed = (title: string, items: string[]) => {
      if (items.length === 0) return;
      for (const line of [title, ...items]) this.out(line);
      this.out('');
    };
    listed('Deleted Containers:', report.containers.removed);
    if (report.volumes) listed('Deleted Volumes:', report.volumes.removed);
    const r = report.images;
    if (r.untagged.length || r.deleted.length) {
      this.out('Deleted Images:');
      for (const u of r.untagged) this.out(`untagged: ${u}`);
      for (const d of r.deleted) this.out(`deleted: ${d}`);
      this.out('');
    }
    const { humanSize } = await import('../util/units.js');
    this.out(`Total reclaimed space: ${humanSize(report.reclaimed)}`);
  }
}
