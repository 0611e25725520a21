import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class AttachCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: "Attach local standard output and error streams to a running container",
    details: `
      Follows what the container writes from now on (its stdout to ours, its stderr to ours),
      until it exits, and exits with its exit code. Ctrl-C is passed to the container (unless
      with --sig-proxy=false). Standard input is not attached: the container's monitor has no
      channel for a second writer; use \`exec -it\` for a shell. The --no-stdin flag is accepted.
    `,
    examples: [['Watch a container', '$0 attach web']],
  });

  noStdin = Option.Boolean('--no-stdin', false, { description: 'Do not attach STDIN (always the case here)' });
  sigProxy = Option.Boolean('--sig-proxy', true, { description: 'Proxy all received signals to the process' });
  detachKeys = Option.String('--detach-keys', { description: 'Accepted for docker compatibility (no stdin is attached)' });
  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<number> {
    const { attachContainer } = await import('../engine/extra.js');
    return attachContainer(this.container, this.sigProxy);
  }
}
