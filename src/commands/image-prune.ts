import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class ImagePruneCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Images',
    description: 'Remove unused images',
    examples: [
      ['Dangling images, no prompt', '$0 image prune -f'],
      ['Every image no container uses', '$0 image prune -a -f'],
    ],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Remove all unused images, not just dangling ones' });
  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });

  async run(): Promise<void> {
    if (!this.force) {
      const what = this.all ? 'all images without at least one container associated to them' : 'all dangling images';
      const { confirmOrCancel } = await import('../util/confirm.js');
      await confirmOrCancel(`WARNING! This will remove ${what}.\nAre you sure you want to continue? [y/N] `);
    }
    const { pruneImages } = await import('../engine/images.js');
    const r = await pruneImages(this.all);
    if (r.untagged.length || r.deleted.length) {
      this.out('Deleted Images:');
      for (const u of r.untagged) this.out(`untagged: ${u}`);
      for (const d of r.deleted) this.out(`deleted: ${d}`);
    }
    const { humanSize } = await import('../util/units.js');
    this.out(`\nTotal reclaimed space: ${humanSize(r.reclaimed)}`);
  }
}
