import { Option } from 'clipanion';
import { TsctrCommand, forEachItem } from '../command-base.js';

export class UpdateCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Update configuration of one or more containers',
    details: `
      The limits are kept for every later start and, on a running container, written to its cgroup
      now (where cgroup v2 is delegated; otherwise with the same warning as \`run\`). A new restart
      policy applies to a running container from its next exit. 0 removes a limit (-1 too for
      --pids-limit). --pids-limit's per-user RLIMIT_NPROC changes at the next start.
    `,
    examples: [
      ['A memory limit for a running container', '$0 update --memory 256m web'],
      ['Restart it whenever it stops', '$0 update --restart always web'],
    ],
  });

  memory = Option.String('-m,--memory', { description: 'Memory limit' });
  cpus = Option.String('--cpus', { description: 'Number of CPUs' });
  pidsLimit = Option.String('--pids-limit', { description: 'Tune container pids limit (set -1 for unlimited)' });
  restart = Option.String('--restart', { description: 'Restart policy to apply when a container exits' });
  names = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const { checkUpdate, updateContainer } = await import('../engine/update.js');
    const o = await checkUpdate({ memory: this.memory, cpus: this.cpus, pidsLimit: this.pidsLimit, restart: this.restart });
    return forEachItem(this.names, this.context.stderr, async (n) => {
      await updateContainer(n, o);
      this.out(n);
    });
  }
}
