/** podman's `container exists`, `image exists`, `volume exists`: the answer is the exit code alone. */
import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class ContainerExistsCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Check if a container exists (exit 0: it does, 1: it does not)',
    examples: [['In a script', '$0 container exists web || $0 run -d --name web nginx']],
  });

  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<number> {
    const { containerExists } = await import('../engine/extra.js');
    return (await containerExists(this.container)) ? 0 : 1;
  }
}

export class ImageExistsCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Images',
    description: 'Check if an image exists in local storage (exit 0: it does, 1: it does not)',
    examples: [['In a script', '$0 image exists busybox || $0 pull busybox']],
  });

  image = Option.String({ name: 'IMAGE' });

  async run(): Promise<number> {
    const { imageExists } = await import('../engine/extra.js');
    return (await imageExists(this.image)) ? 0 : 1;
  }
}

export class VolumeExistsCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Volumes',
    description: 'Check if a volume exists (exit 0: it does, 1: it does not)',
    examples: [['In a script', '$0 volume exists data || $0 volume create data']],
  });

  volume = Option.String({ name: 'VOLUME' });

  async run(): Promise<number> {
    const { volumeExists } = await import('../engine/extra.js');
    return (await volumeExists(this.volume)) ? 0 : 1;
  }
}
