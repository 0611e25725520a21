import { Option } from 'clipanion';
import { TsctrCommand, forEachItem } from '../command-base.js';

export class RmiCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Images',
    description: 'Remove one or more images',
    details: 'Removing a tag only untags while other tags remain. Layers no other image uses are deleted.',
    examples: [
      ['Remove an image', '$0 rmi nginx'],
      ['Remove by ID even if tagged several times', '$0 rmi -f 605c77e624dd'],
    ],
  });

  static override remote = true;

  force = Option.Boolean('-f,--force', false, { description: 'Force removal of the image' });
  images = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const { removeImage } = await import('../engine/images.js');
    return forEachItem(this.images, this.context.stderr, async (name) => {
      const r = await removeImage(name, this.force);
      for (const u of r.untagged) this.out(`Untagged: ${u}`);
      for (const d of r.deleted) this.out(`Deleted: ${d}`);
    });
  }
}
