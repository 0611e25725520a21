import { Option } from 'clipanion';
import { TsctrCommand, forEachItem } from '../command-base.js';

export class StopCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Stop one or more running containers',
    details: "Sends the container's stop signal (the image's STOPSIGNAL, --stop-signal, or SIGTERM), then SIGKILL after the timeout.",
    examples: [['Stop, waiting at most 2 seconds', '$0 stop -t 2 web']],
  });

  static override remote = true;

  time = Option.String('-t,--time,--timeout', { description: 'Seconds to wait before killing the container' });
  all = Option.Boolean('-a,--all', false, { description: 'Stop all running containers (podman)' });
  containers = Option.Rest();

  async run(): Promise<number> {
    const { namesOrAll, stopContainer } = await import('../engine/containers.js');
    const { TsctrError } = await import('../errors.js');
    const t = this.time === undefined ? undefined : Number(this.time);
    if (t !== undefined && !Number.isInteger(t)) throw new TsctrError(`invalid argument "${this.time}" for "-t, --time" flag`);
    return forEachItem(await namesOrAll(this.containers, this.all, false), this.context.stderr, async (name) => {
      await stopContainer(name, t);
      this.out(name);
    });
  }
}
