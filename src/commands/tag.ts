import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class TagCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Images',
    description: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
    examples: [['Tag for a private registry', '$0 tag nginx 127.0.0.1:5000/web:v1']],
  });

  source = Option.String({ name: 'SOURCE_IMAGE[:TAG]' });
  target = Option.String({ name: 'TARGET_IMAGE[:TAG]' });

  async run(): Promise<void> {
    const { tagImage } = await import('../engine/images.js');
    await tagImage(this.source, this.target);
  }
}
