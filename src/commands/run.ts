import { Option } from 'clipanion';
import { ContainerCreateCommand } from './create-options.js';

export class RunCommand extends ContainerCreateCommand {
  static override paths = [['run'], ['container', 'run']];
  static override usage = ContainerCreateCommand.Usage({
    category: 'Containers',
    description: 'Create and run a new container from an image',
    details: `
      The container runs in its own user, mount, pid, uts, ipc and network namespaces, as the calling
      user (root inside maps to you outside). Exit codes: the container's own, or 125 when tsctr fails,
      126 when the command cannot be invoked, 127 when it is not found.
    `,
    examples: [
      ['A web server on port 8080', '$0 run -d -p 8080:80 nginx'],
      ['A shell', '$0 run -it --rm busybox sh'],
      ['One command, removed afterwards', '$0 run --rm -e NAME=world busybox sh -c \'echo hello $NAME\''],
    ],
  });

  detach = Option.Boolean('-d,--detach', false, { description: 'Run container in background and print container ID' });
  rm = Option.Boolean('--rm', false, { description: 'Automatically remove the container when it exits' });
  monitorPidFile = Option.String('--monitor-pidfile', { description: "With -d: write the container monitor's pid to this file (for systemd's PIDFile=)" });

  async run(): Promise<number> {
    const { ensureImage } = await import('../container/ensure-image.js');
    const { createContainer } = await import('../container/create.js');
    const { startContainer } = await import('../container/launch.js');
    const { removeContainer } = await import('../container/ops.js');
    const opts = this.runOptions(this.detach, this.rm);
    const image = await ensureImage(this.image, this.pull, this.platform);
    await this.replaceExisting();
    const c = await createContainer(opts, image);
    let running = false;
    try {
      const code = await startContainer(c.id, { attach: !this.detach, interactive: this.interactive, monitorPidFile: this.monitorPidFile, created: { record: c, image } });
      running = this.detach;
      if (this.detach) this.out(c.id);
      return code;
    } finally {
      // With --rm, what is not running any more goes: an attached container that exited, or one that
      // never started. A detached one is removed by its monitor when it exits.
      if (this.rm && !running) await removeContainer(c.id, true, true).catch(() => undefined);
    }
  }
}
