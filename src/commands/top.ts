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
    const { spawnSync } = await import('node:child_process');
    const { ConflictError } = await import('../errors.js');
    const { getContainer, loadContainers } = await import('../container/store.js');
    const { liveState } = await import('../container/state.js');
    const { containerProcesses } = await import('../container/processes.js');
    const c = getContainer(loadContainers(), this.container);
    const st = liveState(c);
    if (st.status !== 'running') throw new ConflictError(`container ${c.id.slice(0, 12)} is not running`);
    const pids = containerProcesses(st.pid);
    const r = spawnSync('ps', [...(this.psArgs.length ? this.psArgs : ['-f']), '-p', pids.join(',')], { encoding: 'utf8' });
    this.write(r.stdout);
    if (r.status !== 0 && r.stderr) this.context.stderr.write(r.stderr);
    return r.status === 0 || r.stdout ? 0 : 125;
  }
}
