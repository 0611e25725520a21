import { Option } from 'clipanion';
import { TsctrCommand, forEachItem } from '../command-base.js';
import { TsctrError } from '../errors.js';

export class StartCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Start one or more stopped containers',
    examples: [
      ['Start in the background', '$0 start web'],
      ['Start and attach', '$0 start -a -i shell'],
    ],
  });

  static override remote = true;

  attach = Option.Boolean('-a,--attach', false, { description: "Attach STDOUT/STDERR and forward signals" });
  interactive = Option.Boolean('-i,--interactive', false, { description: "Attach container's STDIN" });
  all = Option.Boolean('--all', false, { description: 'Start all containers regardless of their state or configuration' });
  filter = Option.Array('-f,--filter', [], { description: 'With --all: only containers matching (restart-policy=, name=, label=, status=...)' });
  monitorPidFile = Option.String('--monitor-pidfile', { description: "Write the container monitor's pid to this file (for systemd's PIDFile=)" });
  containers = Option.Rest();

  async run(): Promise<number> {
    const { startContainer, startableContainers } = await import('../engine/containers.js');
    if (this.all === (this.containers.length > 0)) throw new TsctrError(this.all ? '--all and container names cannot be combined' : 'start requires at least 1 argument');
    if (this.filter.length && !this.all) throw new TsctrError('--filter applies to --all only');
    if (this.attach || this.interactive) {
      if (this.containers.length !== 1) throw new TsctrError('you cannot start and attach multiple containers at once');
      return startContainer(this.containers[0]!, { attach: true, interactive: this.interactive });
    }
    if (this.monitorPidFile && this.containers.length !== 1) throw new TsctrError('--monitor-pidfile needs exactly one container');
    let names = this.containers;
    if (this.all) names = await startableContainers(this.filter);
    return forEachItem(names, this.context.stderr, async (name) => {
      await startContainer(name, { attach: false, interactive: false, monitorPidFile: this.monitorPidFile });
      this.out(name);
    });
  }
}
