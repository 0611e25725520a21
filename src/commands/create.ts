import { Option } from 'clipanion';
import { ContainerCreateCommand } from './create-options.js';

export class CreateCommand extends ContainerCreateCommand {
  static override paths = [['create'], ['container', 'create']];
  static override usage = ContainerCreateCommand.Usage({
    category: 'Containers',
    description: 'Create a new container without starting it',
    examples: [['Create, then start', '$0 create --name web -p 8080:80 nginx && $0 start web']],
  });

  rm = Option.Boolean('--rm', false, { description: 'Automatically remove the container when it exits' });

  async run(): Promise<void> {
    const { ensureImage } = await import('../container/ensure-image.js');
    const { createContainer } = await import('../container/create.js');
    const image = await ensureImage(this.image, this.pull, this.platform);
    await this.replaceExisting();
    const c = await createContainer(this.runOptions(true, this.rm), image);
    this.out(c.id);
  }
}
