import { Option } from 'clipanion';
import { TsctrCommand, forEachItem } from '../command-base.js';

export class PauseCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Pause all processes within one or more containers',
    details: 'Without a delegated cgroup freezer, every process of the container is stopped with SIGSTOP (and continued by `unpause`). `stop` and `kill` work on a paused container.',
    examples: [['Pause a container', '$0 pause web']],
  });

  containers = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const { pauseContainer } = await import('../engine/extra.js');
    return forEachItem(this.containers, this.context.stderr, async (name) => {
      await pauseContainer(name);
      this.out(name);
    });
  }
}

export class UnpauseCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Unpause all processes within one or more containers',
    examples: [['Unpause a container', '$0 unpause web']],
  });

  containers = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const { unpauseContainer } = await import('../engine/extra.js');
    return forEachItem(this.containers, this.context.stderr, async (name) => {
      await unpauseContainer(name);
      this.out(name);
    });
  }
}
