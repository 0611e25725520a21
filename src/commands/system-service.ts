import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class SystemServiceCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'System',
    description: 'Serve the Docker Engine API on a unix socket or TLS-verified TCP (for docker CLI, compose, SDKs)',
    details: `
      Listens on \`unix://$XDG_RUNTIME_DIR/tsctr/tsctr.sock\` by default (0600, in a 0700 directory) and
      drives the same store as the CLI. Point a client at it with \`DOCKER_HOST=unix://PATH\`. The
      service exits after \`--time\` seconds without a request (0: never); the containers it started
      keep running. Under systemd socket activation (LISTEN_FDS) it serves the inherited socket.

      \`tcp://HOST:PORT\` listens on that address only, and only with docker's daemon TLS flags:
      \`--tlsverify --tlscacert CA --tlscert CERT --tlskey KEY\` (the service presents CERT; a client
      must present a certificate signed by CA, or its handshake fails). The files default to
      \`$DOCKER_CERT_PATH\` or \`~/.docker\` (\`ca.pem\`, \`cert.pem\`, \`key.pem\`); KEY must be readable
      by you alone. Whoever can talk to the API controls your containers and files, so plain TCP,
      and \`--tls\` without client verification, are served only with \`--insecure-tcp\`, and with a
      warning.

      On a unix socket (or one systemd hands over) the process stays small while idle: it becomes a listener of a few hundred kB (\`tsctr-shim
      api-listen\`, same pid) that starts the Node server when a client connects; that worker exits
      after \`--worker-idle\` seconds without a request or an open stream (\`events\`, \`attach\`,
      \`logs -f\` keep it), so a burst of requests pays the start-up once and an idle service holds
      no Node heap. A \`tcp://\` service is one Node process.
    `,
    examples: [
      ['Serve until idle for 5 s', '$0 system service'],
      ['Serve forever on a given socket', '$0 system service --time 0 unix:///tmp/tsctr.sock'],
      ['Serve on TCP to clients with a certificate signed by ca.pem', '$0 system service --tlsverify --tlscacert ca.pem --tlscert server.pem --tlskey server-key.pem tcp://0.0.0.0:2376'],
    ],
  });

  static override remote = 'here' as const;

  time = Option.String('-t,--time', '5', { description: 'Seconds of inactivity before the service exits (0: never)' });
  tls = Option.Boolean('--tls', false, { description: 'tcp://: serve TLS (without client verification: needs --insecure-tcp)' });
  tlsverify = Option.Boolean('--tlsverify', false, { description: 'tcp://: serve TLS and accept only clients with a certificate signed by --tlscacert' });
  tlscacert = Option.String('--tlscacert', { description: 'Trust client certificates signed by this CA (default ~/.docker/ca.pem)' });
  tlscert = Option.String('--tlscert', { description: 'The service\'s TLS certificate (default ~/.docker/cert.pem)' });
  tlskey = Option.String('--tlskey', { description: 'The service\'s TLS key, readable by you alone (default ~/.docker/key.pem)' });
  insecureTcp = Option.Boolean('--insecure-tcp', false, { description: 'Allow tcp:// without client verification (anyone who connects controls your containers)' });
  workerIdle = Option.String('--worker-idle', '10', {
    description: 'Seconds a Node worker stays without a request or open stream before it exits, leaving only the small listener (0: no listener, one process serves)',
  });
  uri = Option.String({ required: false, name: 'URI' });

  async run(): Promise<void> {
    const { runService } = await import('../api/service.js');
    await runService({
      time: this.time,
      workerIdle: this.workerIdle,
      uri: this.uri,
      tls: { tls: this.tls, tlsverify: this.tlsverify, tlscacert: this.tlscacert, tlscert: this.tlscert, tlskey: this.tlskey, insecureTcp: this.insecureTcp },
    });
  }
}
