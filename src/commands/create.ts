import { ContainerCreateCommand } from './create-options.js';

export class CreateCommand extends ContainerCreateCommand {
  static override usage = ContainerCreateCommand.Usage({
    category: 'Containers',
    description: 'Create a new container without starting it',
    examples: [['Create, then start', '$0 create --name web -p 8080:80 nginx && $0 start web']],
  });

  static override remote = true;

  async run(): Promise<void> {
    const { createFromOptions, createRemote } = await import('../engine/create.js');
    const remoteId = await createRemote(this.createOptions(true));
    if (remoteId !== undefined) return this.out(remoteId);
    const { record } = await createFromOptions(this.createOptions(true), this.commandLine());
    this.out(record.id);
  }
}
