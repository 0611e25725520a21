import { Option } from 'clipanion';
import { boolFlag } from '../command-base.js';
import { ContainerCreateCommand } from './create-options.js';

export class RunCommand extends ContainerCreateCommand {
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
  attachStreams = Option.Array('-a,--attach', [], { description: 'Attach to STDIN, STDOUT or STDERR' });
  monitorPidFile = Option.String('--monitor-pidfile', { description: "With -d: write the container monitor's pid to this file (for systemd's PIDFile=)" });

  sigProxy = Option.String('--sig-proxy', { tolerateBoolean: true, description: 'Proxy received signals to the process (default true; --sig-proxy=false with --url only)' });

  static override remote = true;

  async run(): Promise<number> {
    const { createFromOptions, runRemote } = await import('../engine/create.js');
    const streams = await this.streams();
    const { writeFd } = await import('../util/stdout.js');
    const sigProxy = boolFlag('--sig-proxy', this.sigProxy, true);
    const remoteCode = await runRemote(this.createOptions(this.detach), { streams, out: (l) => this.out(l), write: (s, d) => writeFd(s === 'stderr' ? 2 : 1, d), sigProxy });
    if (remoteCode !== undefined) return remoteCode;
    // Here the attached container's monitor passes the signals on itself, always.
    if (!sigProxy) throw new (await import('../errors.js')).TsctrError('--sig-proxy=false is supported with --url (remote) only');
    const { startContainer } = await import('../container/launch.js');
    const { removeContainer } = await import('../container/ops.js');
    const { record: c, image } = await createFromOptions(this.createOptions(this.detach), this.commandLine());
    let running = false;
    try {
      const code = await startContainer(c.id, { attach: !this.detach, streams, interactive: this.interactive, monitorPidFile: this.monitorPidFile, created: { record: c, image } });
      running = this.detach;
      if (this.detach) this.out(c.id);
      return code;
    } finally {
      // With --rm, what is not running any more goes: an attached container that exited, or one that
      // never started. A detached one is removed by its monitor when it exits.
      if (this.rm && !running) await removeContainer(c.id, true, true).catch(() => undefined);
    }
  }

  /** -a: docker's stream names (any case); none given: all of them. */
  private async streams(): Promise<('stdin' | 'stdout' | 'stderr')[] | undefined> {
    if (!this.attachStreams.length) return undefined;
    const { TsctrError } = await import('../errors.js');
    if (this.detach) throw new TsctrError('Conflicting options: -a and -d');
    return this.attachStreams.map((s) => {
      const v = s.toLowerCase();
      if (v !== 'stdin' && v !== 'stdout' && v !== 'stderr') throw new TsctrError(`invalid argument "${s}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
      return v;
    });
  }
}
