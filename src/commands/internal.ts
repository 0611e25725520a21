import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

/**
 * Work other commands hand to a child running as root in the user namespace (build and commit
 * run containers, which they cannot do from inside it). Prints the new layer as JSON. Not for users:
 * no usage, so it stays out of --help.
 */
export class InternalLayerCommand extends TsctrCommand {

  kind = Option.String({ name: 'diff|copy' });
  arg = Option.String({ name: 'UPPER|SPEC' });

  async run(): Promise<void> {
    const { createInternalLayer } = await import('../engine/images.js');
    this.out(JSON.stringify(await createInternalLayer(this.kind, this.arg)));
  }
}
