import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

/** Run by a container's monitor after the container exits (the exit command): removal for --rm. */
export class ContainerCleanupCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category: 'Containers', description: 'Clean up after a container exited (used by the monitor)' });
  static override remote = 'here' as const;

  container = Option.String();

  async run(): Promise<void> {
    const { cleanupContainer } = await import('../engine/containers.js');
    await cleanupContainer(this.container);
  }
}
