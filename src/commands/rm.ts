import { Option } from 'clipanion';
import { TsctrCommand, forEachItem } from '../command-base.js';

export class RmCommand extends TsctrCommand {
  static override paths = [['rm'], ['container', 'rm'], ['container', 'remove']];
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Remove one or more containers',
    examples: [
      ['Remove a stopped container', '$0 rm web'],
      ['Stop and remove', '$0 rm -f web'],
    ],
  });

  force = Option.Boolean('-f,--force', false, { description: 'Force the removal of a running container (uses SIGKILL)' });
  volumes = Option.Boolean('-v,--volumes', false, { description: 'Remove anonymous volumes associated with the container' });
  containers = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const { removeContainer } = await import('../container/ops.js');
    return forEachItem(this.containers, this.context.stderr, async (name) => {
      await removeContainer(name, this.force, this.volumes);
      this.out(name);
    });
  }
}
