import { Option } from 'clipanion';
import { TsctrCommand, forEachItem } from '../command-base.js';

export class RestartCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Restart one or more containers',
    examples: [['Restart', '$0 restart web']],
  });

  time = Option.String('-t,--time', { description: 'Seconds to wait before killing the container' });
  containers = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const { restartContainer } = await import('../engine/containers.js');
    return forEachItem(this.containers, this.context.stderr, async (name) => {
      await restartContainer(name, this.time === undefined ? undefined : Number(this.time));
      this.out(name);
    });
  }
}
