import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';
import { TsctrError } from '../errors.js';

export class SystemServiceCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'System',
    description: 'Serve the Docker Engine API on a unix socket (for docker CLI, compose, SDKs)',
    details: `
      Listens on \`unix://$XDG_RUNTIME_DIR/tsctr/tsctr.sock\` by default (0600, in a 0700 directory) and
      drives the same store as the CLI. Point a client at it with \`DOCKER_HOST=unix://PATH\`. The
      service exits after \`--time\` seconds without a request (0: never); the containers it started
      keep running. Under systemd socket activation (LISTEN_FDS) it serves the inherited socket.

      The process stays small while idle: it becomes a listener of a few hundred kB (\`tsctr-shim
      api-listen\`, same pid) that starts the Node server when a client connects; that worker exits
      after \`--worker-idle\` seconds without a request or an open stream (\`events\`, \`attach\`,
      \`logs -f\` keep it), so a burst of requests pays the start-up once and an idle service holds
      no Node heap.
    `,
    examples: [
      ['Serve until idle for 5 s', '$0 system service'],
      ['Serve forever on a given socket', '$0 system service --time 0 unix:///tmp/tsctr.sock'],
    ],
  });

  time = Option.String('-t,--time', '5', { description: 'Seconds of inactivity before the service exits (0: never)' });
  workerIdle = Option.String('--worker-idle', '10', {
    description: 'Seconds a Node worker stays without a request or open stream before it exits, leaving only the small listener (0: no listener, one process serves)',
  });
  uri = Option.String({ required: false, name: 'URI' });

  async run(): Promise<void> {
    if (!/^\d+$/.test(this.time)) throw new TsctrError(`invalid --time "${this.time}": a number of seconds`);
    if (!/^\d+$/.test(this.workerIdle)) throw new TsctrError(`invalid --worker-idle "${this.workerIdle}": a number of seconds`);
    const idleMs = Number(this.time) * 1000;
    const activated = process.env.LISTEN_FDS === '1' && (!process.env.LISTEN_PID || process.env.LISTEN_PID === String(process.pid));
    // Consumed (as sd_listen_fds(1) does): the monitors and helpers this process starts are not meant.
    for (const k of ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES']) delete process.env[k];
    const { WORKER_ENV, bindServiceSocket, canExecListener, execListener } = await import('../api/listener.js');
    const worker = process.env[WORKER_ENV];
    delete process.env[WORKER_ENV]; // not for the programs this one starts
    let socketPath: string | undefined;
    if (!activated) {
      if (this.uri === undefined) socketPath = (await import('../system/service-socket.js')).defaultServiceSocket();
      else if (this.uri.startsWith('unix://')) socketPath = this.uri.slice('unix://'.length);
      else if (this.uri.startsWith('/')) socketPath = this.uri;
      else throw new TsctrError(`unsupported URI "${this.uri}": use unix:///path/to/socket`);
      if (!socketPath.startsWith('/')) throw new TsctrError(`invalid URI "${this.uri}": the socket path must be absolute`);
    }
    // The worker's idle time never outlasts the service's own (--time 1 means a second, not ten).
    const workerIdle = Math.min(Number(this.workerIdle), idleMs > 0 ? Number(this.time) : Infinity);
    if (worker === undefined && workerIdle > 0 && canExecListener()) {
      const fd = activated ? 3 : await bindServiceSocket(socketPath!);
      try {
        execListener({ fd, idleSeconds: Number(this.time), workerIdleSeconds: workerIdle, unlinkPath: socketPath });
      } catch (e) {
        if (socketPath) (await import('node:fs')).rmSync(socketPath, { force: true });
        throw e;
      }
    }
    const { serve } = await import('../api/server.js');
    const service = await serve(activated ? { fd: 3, idleMs: worker !== undefined ? Number(worker) * 1000 : idleMs } : { socketPath, idleMs });
    // Streams in flight (logs -f, attach, a wait) would hold a plain close() open: a signal cuts them.
    const stop = () => service.close(true);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    await service.done;
  }
}
