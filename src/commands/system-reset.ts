import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readPid(fs: typeof import('node:fs'), file: string): number {
  try {
    const n = parseInt(fs.readFileSync(file, 'utf8'), 10);
    return Number.isFinite(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

/**
 * The containers of this store, from its directory rather than containers.json (which may be the
 * broken part). The run root is per user, shared by every data root, so only these are ours.
 */
async function containerIds(dataRoot: string): Promise<string[]> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  try {
    return fs.readdirSync(path.join(dataRoot, 'containers')).filter((n) => /^[a-f0-9]{64}$/.test(n));
  } catch {
    return [];
  }
}

/**
 * Without a readable store, the run root still says what runs: each container dir holds the
 * monitor's and the container's pids. Pid files can be stale and pids reused, so a pid is only
 * killed if it still looks like ours: the monitor's command line names this container's spec, the
 * container's init lives in another user namespace than we do.
 */
async function killFromPidFiles(runRoot: string, ids: string[]): Promise<void> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { pidAlive } = await import('../util/fsutil.js');
  const dir = path.join(runRoot, 'containers');
  const ownUserNs = fs.readlinkSync('/proc/self/ns/user');
  const victims: number[] = [];
  for (const id of ids) {
    const monitor = readPid(fs, path.join(dir, id, 'monitor.pid'));
    if (monitor && pidAlive(monitor)) {
      let cmdline = '';
      try {
        cmdline = fs.readFileSync(`/proc/${monitor}/cmdline`, 'utf8');
      } catch {
        /* gone */
      }
      if (cmdline.includes(id)) victims.push(monitor);
    }
    const init = readPid(fs, path.join(dir, id, 'pid'));
    if (init && pidAlive(init)) {
      try {
        if (fs.readlinkSync(`/proc/${init}/ns/user`) !== ownUserNs) victims.push(init);
      } catch {
        /* not ours to inspect, so not ours to kill */
      }
    }
  }
  // Monitors first, so none of them restarts a container under a restart policy.
  for (const pid of victims) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && victims.some(pidAlive)) await sleep(20);
}

export class SystemResetCommand extends TsctrCommand {
  static override paths = [['system', 'reset']];
  static override usage = TsctrCommand.Usage({
    category: 'System',
    description: 'Remove all containers, images and volumes, and the whole tsctr store',
    details: 'Works even when the store is corrupt: running containers are then found through their pid files. The run root is shared by every data root of the user, so only this store\'s container run directories are removed from it.',
    examples: [['No prompt', '$0 system reset -f']],
  });

  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });

  async run(): Promise<void> {
    const { dataRoot, runRoot } = await import('../paths.js');
    const { TsctrError, errorMessage } = await import('../errors.js');
    const data = dataRoot();
    const run = runRoot();
    if (!this.force) {
      const { confirm } = await import('../util/confirm.js');
      const q = `WARNING! this will remove all containers, images, volumes and the tsctr store at ${data}. Are you sure you want to continue? [y/N] `;
      if (!(await confirm(q))) throw new TsctrError('reset cancelled', 1);
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
    const { slirpSocket } = await import('../net/setup.js');
    for (const id of ids) fs.rmSync(slirpSocket(run, id), { force: true });
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
