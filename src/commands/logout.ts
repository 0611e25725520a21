import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';
import { TsctrError } from '../errors.js';

export class LogoutCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Registries',
    description: 'Log out from a registry',
    examples: [['Forget credentials', '$0 logout registry.example.com']],
  });

  authfile = Option.String('--authfile', { description: 'Path of the authentication file' });
  server = Option.String({ required: false, name: 'SERVER' });

  async run(): Promise<void> {
    const server = this.server ?? 'docker.io';
    const { logout } = await import('../engine/registry.js');
    if (!(await logout(server, this.authfile))) throw new TsctrError(`not logged into ${server}`);
    this.out(`Removed login credentials for ${server}`);
  }
}
