import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class CpCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Copy files/folders between a running container and the local filesystem',
    details: 'Runs tar inside the container, which the image must provide.',
    examples: [
      ['Out of a container', '$0 cp web:/etc/nginx/nginx.conf ./nginx.conf'],
      ['Into a directory of a container', '$0 cp ./site web:/var/www/html/'],
    ],
  });

  src = Option.String({ name: 'SRC' });
  dst = Option.String({ name: 'DEST' });

  async run(): Promise<void> {
    const { copyFiles } = await import('../engine/containers.js');
    await copyFiles(this.src, this.dst);
  }
}
