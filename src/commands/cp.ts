import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class CpCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Copy files/folders between a container and the local filesystem',
    details: `
      With a running container, runs tar inside it, which the image must provide. With a created or
      stopped one, reads its image's layers and its writable layer (and writes to the latter) as
      root in the user namespace, resolving paths inside the container: no symlink leads out.
      Files copied out belong to you; copied in, to the container's root.
    `,
    examples: [
      ['Out of a container', '$0 cp web:/etc/nginx/nginx.conf ./nginx.conf'],
      ['Into a directory of a container', '$0 cp ./site web:/var/www/html/'],
    ],
  });

  src = Option.String({ name: 'SRC' });
  dst = Option.String({ name: 'DEST' });

  async run(): Promise<number | void> {
    const { copyFiles } = await import('../engine/containers.js');
    await copyFiles(this.src, this.dst);
  }
}
