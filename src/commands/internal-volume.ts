import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

/**
 * `create`'s copy-up of image content into a new volume, run as root in the user namespace (the
 * image's files belong to subordinate ids). Not for users: no usage, so it stays out of --help.
 */
export class InternalVolumeCopyCommand extends TsctrCommand {
  volume = Option.String({ name: 'VOLUME' });
  destination = Option.String({ name: 'PATH' });
  layers = Option.Rest();

  async run(): Promise<void> {
    const { copyImageContent } = await import('../engine/volumes.js');
    await copyImageContent(this.volume, this.destination, this.layers);
  }
}
