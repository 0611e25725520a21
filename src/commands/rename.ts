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
    const { TsctrError } = await import('../errors.js');
    const { assertNameFree, getContainer, updateContainers, validName } = await import('../container/store.js');
    if (!validName(this.newName)) throw new TsctrError(`Invalid container name (${this.newName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    await updateContainers((doc) => {
      const c = getContainer(doc, this.container);
      if (c.name === this.newName) throw new TsctrError(`Renaming a container with the same name as its current name`);
      assertNameFree(doc, this.newName);
      c.name = this.newName;
    });
  }
}
