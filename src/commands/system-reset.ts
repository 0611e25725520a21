import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class SystemResetCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'System',
    description: 'Remove all containers, images and volumes, and the whole tsctr store',
    details: 'Works even when the store is corrupt: running containers are then found through their pid files. The run root is shared by every data root of the user, so only this store\'s container run directories are removed from it.',
    examples: [['No prompt', '$0 system reset -f']],
  });

  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });

  async run(): Promise<void> {
    const { storeRoot, systemReset } = await import('../engine/system.js');
    if (!this.force) {
      const { confirmOrCancel } = await import('../util/confirm.js');
      const q = `WARNING! this will remove all containers, images, volumes and the tsctr store at ${await storeRoot()}. Are you sure you want to continue? [y/N] `;
      await confirmOrCancel(q, 'reset');
    }
    await systemReset((message) => this.context.stderr.write(`WARNING: ${message}\n`));
  }
}
