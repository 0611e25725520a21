import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class RenameCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Rename a container',
    examples: [['Rename', '$0 rename web frontend']],
  });

  container = Option.String({ name: 'CONTAINER' });
  newName = Option.String({ name: 'NEW_NAME' });

  async run(): Promise<void> {
    const { renameContainer } = await import('../engine/containers.js');
    await renameContainer(this.container, this.newName);
  }
}
