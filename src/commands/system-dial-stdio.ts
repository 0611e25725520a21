import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';
import { TsctrError } from '../errors.js';

/**
 * docker's `system dial-stdio`: what `DOCKER_HOST=ssh://user@host` runs on the remote side
 * (`ssh user@host docker system dial-stdio`). It relays its stdin to the API socket and the
 * socket to its stdout; SSH does the authentication. A service that is not running is started
 * (with its idle timeout), so the remote side needs nothing resident.
 */
export class SystemDialStdioCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'System',
    description: 'Proxy the stdio stream to the API socket (for DOCKER_HOST=ssh://...)',
    details: `
      Connects to the \`system service\` socket (\`unix://$XDG_RUNTIME_DIR/tsctr/tsctr.sock\`, or
      \`--socket\`), starting the service when none listens there, and copies bytes both ways until
      either side closes. A docker CLI on another machine uses it through SSH: install \`tsctr\` on
      this machine as \`docker\` on the SSH user's PATH (\`ln -s $(command -v tsctr) ~/bin/docker\`),
      then \`DOCKER_HOST=ssh://user@this-host docker ps\` there.
    `,
    examples: [['What docker runs over SSH', 'ssh user@host $0 system dial-stdio']],
  });

  static override remote = 'here' as const;

  socket = Option.String('--socket', { description: 'The API socket (default: the service\'s)' });

  async run(): Promise<number> {
    const net = await import('node:net');
    const { defaultServiceSocket, liveServiceSocket } = await import('../system/service-socket.js');
    const path = this.socket?.replace(/^unix:\/\//, '') ?? defaultServiceSocket();
    if (!this.socket && !(await liveServiceSocket())) await startService(path);
    const sock = net.connect(path);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', (e) => reject(new TsctrError(`cannot connect to ${path}: ${e.message}`)));
    });
    // Half-closes pass through: the client's EOF ends our writing side, the server's ends stdout.
    process.stdin.pipe(sock);
    sock.pipe(process.stdout);
    await new Promise<void>((resolve) => {
      sock.once('close', resolve);
      sock.once('error', () => resolve());
    });
    return 0;
  }
}

/** Starts `system service` (detached, its default idle timeout) and waits until it listens. */
async function startService(path: string): Promise<void> {
  const { spawn } = await import('node:child_process');
  const { selfCommand } = await import('../rootless/userns.js');
  const { liveServiceSocket } = await import('../system/service-socket.js');
  const argv = [...selfCommand(), 'system', 'service'];
  spawn(argv[0]!, argv.slice(1), { detached: true, stdio: 'ignore' }).unref();
  for (let i = 0; i < 100; i++) {
    if (await liveServiceSocket()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new TsctrError(`the API service did not come up on ${path}`);
}
