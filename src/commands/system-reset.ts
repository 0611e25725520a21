import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class SystemResetCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'System',
    description: 'Remove all containers, images and volumes, and the whole tsctr store',
    details: 'Works even when the store is corrupt: running containers are then found through their pid files. The run root is shared by every data root of the user, so only this store\'s container run directories are removed from it.',
    examples: [['No prompt', '$0 system reset -f']],
  });

  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });

  async run(): Promise<void> {
    const { containerIds, killFromPidFiles } = await import('../system/reset.js');
    const { dataRoot, runRoot } = await import('../paths.js');
    const { errorMessage } = await import('../errors.js');
    const data = dataRoot();
    const run = runRoot();
    if (!this.force) {
      const { confirmOrCancel } = await import('../util/confirm.js');
      const q = `WARNING! this will remove all containers, images, volumes and the tsctr store at ${data}. Are you sure you want to continue? [y/N] `;
      await confirmOrCancel(q, 'reset');
    }

    // The orderly way first: stop each container as `rm -f` would.
    try {
      const { loadContainers } = await import('../container/store.js');
      const { removeContainer } = await import('../container/ops.js');
      for (const c of Object.values(loadContainers().containers)) {
        try {
          await removeContainer(c.id, true);
        } catch (e) {
          this.context.stderr.write(`WARNING: removing container ${c.id.slice(0, 12)}: ${errorMessage(e)}\n`);
        }
      }
    } catch {
      /* unreadable store: the pid files below still find what runs */
    }
    const ids = await containerIds(data);
    await killFromPidFiles(run, ids);

    const fs = await import('node:fs');
    const path = await import('node:path');
    // API sockets of slirp4netns that older versions asked for (s-<id>.sock).
    for (const id of ids) fs.rmSync(path.join(run, `s-${id.slice(0, 12)}.sock`), { force: true });
    const runDirs = ids.map((id) => path.join(run, 'containers', id));
    const targets = [data, ...runDirs].filter((p) => fs.existsSync(p));
    if (targets.length) {
      const { removeTreesAsNamespaceRoot } = await import('../rootless/userns.js');
      removeTreesAsNamespaceRoot(targets);
    }
    // The run root itself goes only when no other store still uses it.
    for (const d of [path.join(run, 'containers'), run]) {
      try {
        fs.rmdirSync(d);
      } catch {
        /* not empty: another data root's containers live there */
      }
    }
  }
}
