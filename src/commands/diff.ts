import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class DiffCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: "Inspect changes to files or directories on a container's filesystem",
    details: 'One line per path: `A` added, `C` changed, `D` deleted, as docker prints them. The runtime\'s own mount points (/etc/hosts, /etc/hostname, /etc/resolv.conf) are not listed.',
    examples: [['What a container changed', '$0 diff web']],
  });

  format = Option.String('--format', { description: 'Change the output format: "json" (podman)' });
  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<number | void> {
    const { TsctrError } = await import('../errors.js');
    if (this.format !== undefined && this.format !== 'json') throw new TsctrError(`unknown --format "${this.format}": only json is supported`);
    const { containerChanges } = await import('../engine/extra.js');
    const changes = await containerChanges(this.container);
    if (this.format === 'json') {
      const group = (k: number) => changes.filter((c) => c.Kind === k).map((c) => c.Path);
      this.out(JSON.stringify({ changed: group(0), added: group(1), deleted: group(2) }, null, 4));
      return;
    }
    // docker's letters for ChangeType 0, 1, 2
    this.write(changes.map((c) => `${'CAD'[c.Kind]} ${c.Path}\n`).join(''));
  }
}
