import { Option } from 'clipanion';
import { TsctrCommand, boolFlag } from '../command-base.js';

export class AttachCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: "Attach local standard output and error streams to a running container",
    details: `
      Follows what the container writes from now on (its stdout to ours, its stderr to ours),
      until it exits, and exits with its exit code. Signals are passed to the container (unless
      with --sig-proxy=false). A container started detached with -i gets our stdin (the terminal
      raw when it has a tty; one attach at a time), unless --no-stdin; the detach keys
      (ctrl-p,ctrl-q, or --detach-keys) leave it running and exit 0.
    `,
    examples: [
      ['Watch a container', '$0 attach web'],
      ['Type into a container started with run -dit', '$0 attach --detach-keys ctrl-x shell'],
    ],
  });

  static override remote = true;

  noStdin = Option.Boolean('--no-stdin', false, { description: 'Do not attach STDIN' });
  sigProxy = Option.String('--sig-proxy', { tolerateBoolean: true, description: 'Proxy all received signals to the process (default true)' });
  detachKeys = Option.String('--detach-keys', { description: 'Override the key sequence for detaching a container (default ctrl-p,ctrl-q)' });
  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<number> {
    const { attachContainer } = await import('../engine/extra.js');
    return attachContainer(this.container, { sigProxy: boolFlag('--sig-proxy', this.sigProxy, true), stdin: !this.noStdin, detachKeys: this.detachKeys });
  }
}
