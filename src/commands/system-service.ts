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
    `,
    examples: [
      ['Serve until idle for 5 s', '$0 system service'],
      ['Serve forever on a given socket', '$0 system service --time 0 unix:///tmp/tsctr.sock'],
    ],
  });

  time = Option.String('-t,--time', '5', { description: 'Seconds of inactivity before the service exits (0: never)' });
  uri = Option.String({ required: false, name: 'URI' });

  async run(): Promise<void> {
    if (!/^\d+$/.test(this.time)) throw new TsctrError(`invalid --time "${this.time}": a number of seconds`);
    const idleMs = Number(this.time) * 1000;
    const activated = process.env.LISTEN_FDS === '1' && (!process.env.LISTEN_PID || process.env.LISTEN_PID === String(process.pid));
    let socketPath: string | undefined;
    if (!activated) {
      if (this.uri === undefined) socketPath = (await import('../system/service-socket.js')).defaultServiceSocket();
      else if (this.uri.startsWith('unix://')) socketPath = this.uri.slice('unix://'.length);
      else if (this.uri.startsWith('/')) socketPath = this.uri;
      else throw new TsctrError(`unsupported URI "${this.uri}": use unix:///path/to/socket`);
      if (!socketPath.startsWith('/')) throw new TsctrError(`invalid URI "${this.uri}": the socket path must be absolute`);
    }
    const { serve } = await import('../api/server.js');
    const service = await serve(activated ? { fd: 3, idleMs } : { socketPath, idleMs });
    // Streams in flight (logs -f, attach, a wait) would hold a plain close() open: a signal cuts them.
    const stop = () => service.close(true);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    await service.done;
  }
}
