import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class ImportCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Images',
    description: 'Import the contents from a tarball to create a filesystem image',
    details: `
      The tarball (plain, gzip or zstd; \`-\` reads STDIN) becomes the image's one layer. \`--change\`
      applies Dockerfile instructions to its config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL,
      USER, VOLUME, WORKDIR. Prints the new image's ID.
    `,
    examples: [
      ['From a file, tagged', '$0 import rootfs.tar myimage:v1'],
      ['From an export, with a command', `$0 export web | $0 import -c 'CMD ["sh"]' - web-flat`],
    ],
  });

  changes = Option.Array('-c,--change', [], { description: 'Apply Dockerfile instruction to the created image' });
  message = Option.String('-m,--message', { description: 'Set commit message for imported image' });
  source = Option.String({ name: 'file|-' });
  repository = Option.String({ name: 'REPOSITORY[:TAG]', required: false });

  async run(): Promise<number | void> {
    // Everything the user can get wrong is checked before the namespace is entered.
    const { checkImport } = await import('../engine/images.js');
    const options = { source: this.source, tag: this.repository, changes: this.changes, message: this.message };
    await checkImport(options, this.source === '-' && (await import('node:tty')).isatty(0));
    const { importImage } = await import('../engine/images.js');
    const image = await importImage(options);
    this.out(image.id);
  }
}
