import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

/** Run by a container's monitor after the container exits (the exit command): removal for --rm. */
export class ContainerCleanupCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category: 'Containers', description: 'Clean up after a container exited (used by the monitor)' });

  container = Option.String();

  async run(): Promise<void> {
    const { findContainer, loadContainers } = await import('../container/store.js');
    const { removeContainer } = await import('../container/ops.js');
    const c = findContainer(loadContainers(), this.container);
    if (c?.hostConfig.autoRemove) await removeContainer(c.id, true, true);
  }
}
