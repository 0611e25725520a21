import { Option } from 'clipanion';
import { TsctrCommand, forEachItem } from '../command-base.js';

export class WaitCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Block until one or more containers stop, then print their exit codes',
    examples: [['Wait for a job', '$0 wait job']],
  });

  containers = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const { waitContainer } = await import('../engine/containers.js');
    return forEachItem(this.containers, this.context.stderr, async (name) => {
      this.out(String(await waitContainer(name)));
    });
  }
}
