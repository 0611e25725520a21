import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';
import { canOwnImageFiles } from '../rootless/userns.js';
import { TsctrError } from '../errors.js';

/**
 * Work other commands hand to a child running as root in the user namespace (build and commit
 * run containers, which they cannot do from inside it). Prints the new layer as JSON. Not for users:
 * no usage, so it stays out of --help.
 */
export class InternalLayerCommand extends TsctrCommand {

  kind = Option.String({ name: 'diff|copy' });
  arg = Option.String({ name: 'UPPER|SPEC' });

  async run(): Promise<void> {
    if (!canOwnImageFiles()) throw new TsctrError('internal commands run in the user namespace only');
    const fs = await import('node:fs');
    let layer;
    if (this.kind === 'diff') {
      const { layerFromUpper } = await import('../image/layers.js');
      layer = await layerFromUpper(this.arg);
    } else if (this.kind === 'copy') {
      const { ingestLayer } = await import('../image/layers.js');
      const { copyTar } = await import('../builder/copy-tar.js');
      layer = await ingestLayer(copyTar(JSON.parse(fs.readFileSync(this.arg, 'utf8'))), undefined, 'COPY');
    } else {
      throw new TsctrError(`unknown layer kind ${this.kind}`);
    }
    this.out(JSON.stringify(layer));
  }
}
