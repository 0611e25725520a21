import { Option } from 'clipanion';
import { TsctrCommand, forEachItem } from '../command-base.js';

export class RmCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Remove one or more containers',
    examples: [
      ['Remove a stopped container', '$0 rm web'],
      ['Stop and remove', '$0 rm -f web'],
    ],
  });

  static override remote = true;

  force = Option.Boolean('-f,--force', false, { description: 'Force the removal of a running container (uses SIGKILL)' });
  volumes = Option.Boolean('-v,--volumes', false, { description: 'Remove anonymous volumes associated with the container' });
  all = Option.Boolean('-a,--all', false, { description: 'Remove all containers (podman)' });
  ignore = Option.Boolean('-i,--ignore', false, { description: 'Ignore errors when a named container does not exist (podman)' });
  time = Option.String('-t,--time', { description: 'Seconds to wait for a running container to stop before killing it, with -f (podman)' });
  containers = Option.Rest();

  async run(): Promise<number> {
    const { namesOrAll, removeContainer } = await import('../engine/containers.js');
    const { NotFoundError, TsctrError } = await import('../errors.js');
    const t = this.time === undefined ? 0 : Number(this.time);
    if (!Number.isInteger(t)) throw new TsctrError(`invalid argument "${this.time}" for "-t, --time" flag`);
    // As docker: with -f a container that is not there is no error (it is gone, as asked).
    return forEachItem(
      await namesOrAll(this.containers, this.all, true),
      this.context.stderr,
      async (name) => {
        await removeContainer(name, { force: this.force, volumes: this.volumes, stopTimeout: t });
        this.out(name);
      },
      (e) => (this.force || this.ignore) && e instanceof NotFoundError,
    );
  }
}
