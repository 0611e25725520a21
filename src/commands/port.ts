import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class PortCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'List port mappings or a specific mapping for the container',
    examples: [
      ['All mappings', '$0 port web'],
      ['Where container port 80 is published', '$0 port web 80/tcp'],
    ],
  });

  container = Option.String({ name: 'CONTAINER' });
  privatePort = Option.String({ required: false, name: 'PRIVATE_PORT[/PROTO]' });

  async run(): Promise<void> {
    const { TsctrError } = await import('../errors.js');
    const { containerPorts } = await import('../engine/containers.js');
    const [port, proto = 'tcp'] = (this.privatePort ?? '').split('/');
    const shown = await containerPorts(this.container, this.privatePort ? { port: Number(port), protocol: proto } : undefined);
    if (this.privatePort && shown.length === 0) throw new TsctrError(`No public port '${port}/${proto}' published for ${this.container}`);
    for (const p of shown) {
      const ip = p.hostIp || '0.0.0.0';
      const host = `${ip.includes(':') ? `[${ip}]` : ip}:${p.hostPort}`;
      this.out(this.privatePort ? host : `${p.containerPort}/${p.protocol} -> ${host}`);
    }
  }
}
