/** `volume create|ls|inspect|rm|prune`: one file for the noun, its verbs are a few lines each. */
import { Option } from 'clipanion';
import { TsctrCommand, forEachItem } from '../command-base.js';

export class VolumeCreateCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category: 'Volumes', description: 'Create a volume', examples: [['A named volume', '$0 volume create data']] });
  name = Option.String({ required: false, name: 'VOLUME' });

  async run(): Promise<void> {
    const { createVolume } = await import('../engine/volumes.js');
    this.out(await createVolume(this.name));
  }
}

export class VolumeLsCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category: 'Volumes', description: 'List volumes', examples: [['Names only', '$0 volume ls -q']] });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only display volume names' });
  format = Option.String('--format', { description: 'Format output using a Go template, or "json"' });

  async run(): Promise<void> {
    const { listVolumes, volumeNames } = await import('../engine/volumes.js');
    if (this.quiet) return void this.write((await volumeNames()).map((n) => `${n}\n`).join(''));
    const { formatRows } = await import('../util/template.js');
    const def = 'table {{.Driver}}\t{{.Name}}';
    const format = this.format === 'json' ? '{{json .}}' : (this.format ?? def);
    this.write(formatRows(format, await listVolumes(), { Driver: 'DRIVER', Name: 'VOLUME NAME', Mountpoint: 'MOUNTPOINT' }, def));
  }
}

export class VolumeInspectCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category: 'Volumes', description: 'Display detailed information on one or more volumes' });
  format = Option.String('-f,--format', { description: 'Format output using a Go template' });
  names = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const { inspectVolume } = await import('../engine/volumes.js');
    const found: object[] = [];
    const code = await forEachItem(this.names, this.context.stderr, async (n) => void found.push(await inspectVolume(n)));
    await this.printInspected(found, this.format);
    return code;
  }
}

export class VolumeRmCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category: 'Volumes', description: 'Remove one or more volumes', examples: [['Remove', '$0 volume rm data']] });
  force = Option.Boolean('-f,--force', false, { description: 'Remove even if a container uses it' });
  names = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const { removeVolume } = await import('../engine/volumes.js');
    return forEachItem(this.names, this.context.stderr, async (n) => {
      await removeVolume(n, this.force);
      this.out(n);
    });
  }
}

export class VolumePruneCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category: 'Volumes', description: 'Remove all volumes no container uses', examples: [['No prompt', '$0 volume prune -f']] });
  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });

  async run(): Promise<void> {
    if (!this.force) {
      const { confirmOrCancel } = await import('../util/confirm.js');
      await confirmOrCancel('WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ');
    }
    const { pruneVolumes } = await import('../engine/volumes.js');
    const { removed } = await pruneVolumes();
    if (removed.length) this.out(['Deleted Volumes:', ...removed].join('\n'));
  }
}

// `volume exists` lives with the other exists verbs; the volume verb's module names it too.
