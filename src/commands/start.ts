import { Option } from 'clipanion';
import { TsctrCommand, forEachItem } from '../command-base.js';
import { TsctrError } from '../errors.js';

export class StartCommand extends TsctrCommand {
  static override paths = [['start'], ['container', 'start']];
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Start one or more stopped containers',
    examples: [
      ['Start in the background', '$0 start web'],
      ['Start and attach', '$0 start -a -i shell'],
    ],
  });

  attach = Option.Boolean('-a,--attach', false, { description: "Attach STDOUT/STDERR and forward signals" });
  interactive = Option.Boolean('-i,--interactive', false, { description: "Attach container's STDIN" });
  containers = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const { startContainer } = await import('../container/launch.js');
    if (this.attach || this.interactive) {
      if (this.containers.length > 1) throw new TsctrError('you cannot start and attach multiple containers at once');
      return startContainer(this.containers[0]!, { attach: true, interactive: this.interactive });
    }
    return forEachItem(this.containers, this.context.stderr, async (name) => {
      await startContainer(name, { attach: false, interactive: false });
      this.out(name);
    });
  }
}
