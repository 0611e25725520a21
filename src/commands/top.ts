import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class TopCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Display the running processes of a container',
    details: 'The processes are shown as the host sees them (`ps -f`, or the ps options given).',
    examples: [
      ['Processes of a container', '$0 top web'],
      ['Custom ps columns', '$0 top web -o pid,rss,args'],
    ],
  });

  container = Option.String({ name: 'CONTAINER' });
  psArgs = Option.Proxy({ name: 'ps OPTIONS' });

  async run(): Promise<number> {
    const { topContainer } = await import('../engine/containers.js');
    const r = await topContainer(this.container, this.psArgs);
    this.write(r.stdout);
    if (!r.ok && r.stderr) this.context.stderr.write(r.stderr);
    return r.ok || r.stdout ? 0 : 125;
  }
}
