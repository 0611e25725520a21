import { Option } from 'clipanion';
import { TsctrCommand, forEachItem } from '../command-base.js';

export class KillCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Kill one or more running containers',
    examples: [['Send SIGHUP', '$0 kill -s HUP web']],
  });

  static override remote = true;

  signal = Option.String('-s,--signal', 'KILL', { description: 'Signal to send to the container' });
  all = Option.Boolean('-a,--all', false, { description: 'Signal all running containers (podman)' });
  containers = Option.Rest();

  async run(): Promise<number> {
    const { checkSignal, killContainer, namesOrAll } = await import('../engine/containers.js');
    await checkSignal(this.signal); // a bad signal is an error before anything is sent
    return forEachItem(await namesOrAll(this.containers, this.all, false), this.context.stderr, async (name) => {
      await killContainer(name, this.signal);
      this.out(name);
    });
  }
}
