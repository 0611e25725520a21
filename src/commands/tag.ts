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
    const { parseReference, formatReference } = await import('../image/reference.js');
    const { getImage, setTag, updateImages } = await import('../image/store.js');
    const target = parseReference(this.target);
    if (target.digest) throw new (await import('../errors.js')).TsctrError(`refusing to create a tag with a digest reference`);
    await updateImages((doc) => setTag(doc, getImage(doc, this.source), formatReference(target)));
  }
}
