import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class SystemPruneCommand extends TsctrCommand {
  static override paths = [['system', 'prune']];
  static override usage = TsctrCommand.Usage({
    category: 'System',
    description: 'Remove stopped containers, dangling images and, optionally, unused volumes',
    examples: [
      ['No prompt', '$0 system prune -f'],
      ['Also every unused image and volume', '$0 system prune -a --volumes -f'],
    ],
  });

  all = Option.Boolean('-a,--all', false, { description: 'Remove all unused images, not just dangling ones' });
  volumes = Option.Boolean('--volumes', false, { description: 'Prune volumes no container uses' });
  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });

  async run(): Promise<void> {
    if (!this.force) {
      const items = [
        'all stopped containers',
        ...(this.volumes ? ['all volumes not used by at least one container'] : []),
        this.all ? 'all images without at least one container associated to them' : 'all dangling images',
      ];
      const { confirmOrCancel } = await import('../util/confirm.js');
      const question = `WARNING! This will remove:\n${items.map((i) => `  - ${i}\n`).join('')}\nAre you sure you want to continue? [y/N] `;
      await confirmOrCancel(question);
    }
    const { loadContainers } = await import('../container/store.js');
    const { liveState, monitorAlive } = await import('../container/state.js');
    const { removeContainer } = await import('../container/ops.js');
    const { containerPaths, volumePaths } = await import('../paths.js');
    const { treeSize } = await import('../system/disk-usage.js');
    let reclaimed = 0;

    // A container between restarts is not running, but its monitor will bring it back: keep it.
    const stopped = Object.values(loadContainers().containers).filter((c) => liveState(c).status !== 'running' && !monitorAlive(c));
    if (stopped.length) this.out('Deleted Containers:');
    for (const c of stopped) {
      reclaimed += await treeSize(containerPaths.upper(c.id));
      await removeContainer(c.id, false);
      this.out(c.id);
    }
    if (stopped.length) this.out('');

    // After the containers: the volumes only they used are now unused too.
    if (this.volumes) {
      const fs = await import('node:fs');
      const path = await import('node:path');
      const { removeTreesAsNamespaceRoot } = await import('../rootless/userns.js');
      const used = new Set(Object.values(loadContainers().containers).flatMap((c) => c.hostConfig.mounts.filter((m) => m.type === 'volume').map((m) => m.source)));
      let names: string[] = [];
      try {
        names = fs.readdirSync(volumePaths.dir()).sort();
      } catch {
        /* no volumes yet */
      }
      const unused = names.filter((n) => !used.has(n));
      if (unused.length) this.out('Deleted Volumes:');
      for (const n of unused) {
        reclaimed += await treeSize(volumePaths.data(n));
        removeTreesAsNamespaceRoot([path.join(volumePaths.dir(), n)]);
        this.out(n);
      }
      if (unused.length) this.out('');
    }

    const { pruneImages } = await import('../image/remove.js');
    const r = await pruneImages(this.all);
    if (r.untagged.length || r.deleted.length) {
      this.out('Deleted Images:');
      for (const u of r.untagged) this.out(`untagged: ${u}`);
      for (const d of r.deleted) this.out(`deleted: ${d}`);
      this.out('');
    }
    reclaimed += r.reclaimed;
    const { humanSize } = await import('../util/units.js');
    this.out(`Total reclaimed space: ${humanSize(reclaimed)}`);
  }
}
