import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class ExecCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Run a command in a running container',
    examples: [
      ['A shell in a running container', '$0 exec -it web sh'],
      ['As another user, elsewhere', '$0 exec -u www-data -w /tmp web id'],
    ],
  });

  static override remote = true;

  interactive = Option.Boolean('-i,--interactive', false, { description: 'Keep STDIN open even if not attached' });
  tty = Option.Boolean('-t,--tty', false, { description: 'Allocate a pseudo-TTY' });
  detach = Option.Boolean('-d,--detach', false, { description: 'Detached mode: run command in the background' });
  env = Option.Array('-e,--env', [], { description: 'Set environment variables' });
  envFile = Option.Array('--env-file', [], { description: 'Read in a file of environment variables' });
  user = Option.String('-u,--user', { description: 'Username or UID (format: <name|uid>[:<group|gid>])' });
  workdir = Option.String('-w,--workdir', { description: 'Working directory inside the container' });
  container = Option.String({ name: 'CONTAINER' });
  command = Option.Proxy({ name: 'COMMAND' });

  async run(): Promise<number> {
    const { execInContainer } = await import('../engine/containers.js');
    return execInContainer(this.container, {
      command: this.command,
      interactive: this.interactive,
      tty: this.tty,
      detach: this.detach,
      env: this.env,
      envFile: this.envFile,
      user: this.user,
      workdir: this.workdir,
    });
  }
}
