import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class ContainerPruneCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Remove all stopped containers',
    examples: [['Without a prompt', '$0 container prune -f']],
  });

  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });

  async run(): Promise<void> {
    if (!this.force) {
      const { confirmOrCancel } = await import('../util/confirm.js');
      await confirmOrCancel('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
    }
    const { pruneContainers } = await import('../engine/containers.js');
    const { removed } = await pruneContainers();
    if (removed.length) this.out(['Deleted Containers:', ...removed].join('\n'));
  }
}
