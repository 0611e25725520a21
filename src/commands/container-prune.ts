import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class ContainerPruneCommand extends TsctrCommand {
  static override paths = [['container', 'prune']];
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
    const { loadContainers } = await import('../container/store.js');
    const { liveState } = await import('../container/state.js');
    const { removeContainer } = await import('../container/ops.js');
    const stopped = Object.values(loadContainers().containers).filter((c) => liveState(c).status !== 'running');
    if (stopped.length) this.out('Deleted Containers:');
    for (const c of stopped) {
      await removeContainer(c.id, false);
      this.out(c.id);
    }
  }
}
