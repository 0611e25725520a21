/** `network create|ls|inspect|rm|prune|connect|disconnect`: docker's verbs over src/engine/networks. */
import { Option } from 'clipanion';
import { TsctrCommand, forEachItem } from '../command-base.js';

export class NetworkCreateCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Networks',
    description: 'Create a network',
    details: `
      A user-defined network: its containers reach each other by name, hostname and alias (the
      network holder's DNS responder on the gateway address), and nothing outside it by address.
      The subnet defaults to the first free 10.89.N.0/24.
    `,
    examples: [['A network', '$0 network create appnet'], ['With a subnet, no outbound', '$0 network create --subnet 10.90.0.0/24 --internal backend']],
  });
  driver = Option.String('-d,--driver', { description: 'Driver to manage the network (bridge)' });
  subnet = Option.String('--subnet', { description: 'Subnet in CIDR format' });
  gateway = Option.String('--gateway', { description: 'IPv4 gateway for the subnet' });
  internal = Option.Boolean('--internal', false, { description: 'Restrict external access to the network' });
  label = Option.Array('--label', [], { description: 'Set metadata on a network' });
  name = Option.String({ name: 'NETWORK' });

  async run(): Promise<void> {
    const { createNetwork } = await import('../engine/networks.js');
    const { parseLabels } = await import('../container/options.js');
    const n = await createNetwork({ name: this.name, driver: this.driver, subnet: this.subnet, gateway: this.gateway, internal: this.internal, labels: parseLabels(this.label) });
    this.out(n.id);
  }
}

export class NetworkLsCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category: 'Networks', description: 'List networks', examples: [['IDs only', '$0 network ls -q']] });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only display network IDs' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: 'Do not truncate the output' });
  format = Option.String('--format', { description: 'Format output using a Go template, or "json"' });
  filter = Option.Array('-f,--filter', [], { description: 'Filter output (name=, id=, label=, driver=, type=custom|builtin)' });

  async run(): Promise<void> {
    const { listNetworks } = await import('../engine/networks.js');
    const rows = await listNetworks(this.filter, this.noTrunc);
    if (this.quiet) return void this.write(rows.map((r) => `${r.ID}\n`).join(''));
    const { formatRows } = await import('../util/template.js');
    const def = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
    const format = this.format === 'json' ? '{{json .}}' : (this.format ?? def);
    this.write(formatRows(format, rows, { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', CreatedAt: 'CREATED AT' }, def));
  }
}

export class NetworkInspectCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category: 'Networks', description: 'Display detailed information on one or more networks' });
  format = Option.String('-f,--format', { description: 'Format output using a Go template' });
  names = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const { inspectNetwork } = await import('../engine/networks.js');
    const found: object[] = [];
    const code = await forEachItem(this.names, this.context.stderr, async (n) => void found.push(await inspectNetwork(n)), undefined, false);
    await this.printInspected(found, this.format);
    return code;
  }
}

export class NetworkRmCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category: 'Networks', description: 'Remove one or more networks', examples: [['Remove', '$0 network rm appnet']] });
  force = Option.Boolean('-f,--force', false, { description: 'Remove the containers on it first' });
  names = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const { removeNetwork } = await import('../engine/networks.js');
    return forEachItem(this.names, this.context.stderr, async (n) => {
      await removeNetwork(n, this.force);
      this.out(n);
    }, undefined, false);
  }
}

export class NetworkPruneCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category: 'Networks', description: 'Remove all networks no container is on', examples: [['No prompt', '$0 network prune -f']] });
  force = Option.Boolean('-f,--force', false, { description: 'Do not prompt for confirmation' });

  async run(): Promise<void> {
    if (!this.force) {
      const { confirmOrCancel } = await import('../util/confirm.js');
      await confirmOrCancel('WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ');
    }
    const { pruneNetworks } = await import('../engine/networks.js');
    const removed = await pruneNetworks();
    if (removed.length) this.out(['Deleted Networks:', ...removed].join('\n'));
  }
}

export class NetworkConnectCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category: 'Networks', description: 'Connect a container to a network', examples: [['With an alias', '$0 network connect --alias db appnet postgres']] });
  alias = Option.Array('--alias', [], { description: 'Add a network-scoped alias for the container' });
  ip = Option.String('--ip', { description: 'IPv4 address' });
  network = Option.String({ name: 'NETWORK' });
  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<void> {
    const { connectNetwork } = await import('../engine/networks.js');
    await connectNetwork(this.network, this.container, { aliases: this.alias, ip: this.ip });
  }
}

export class NetworkDisconnectCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category: 'Networks', description: 'Disconnect a container from a network' });
  force = Option.Boolean('-f,--force', false, { description: 'Accepted for docker compatibility' });
  network = Option.String({ name: 'NETWORK' });
  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<void> {
    const { disconnectNetwork } = await import('../engine/networks.js');
    await disconnectNetwork(this.network, this.container);
  }
}
