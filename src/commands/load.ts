import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class LoadCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Images',
    description: 'Load images from a tar archive or STDIN',
    details: `
      Reads docker archives (\`docker save\`, \`podman save\`, \`tsctr save\`) and OCI archives
      (\`--format oci-archive\`), plain or gzip/zstd-compressed. Every config and layer is checked
      against its digest; an archive that fails anywhere adds nothing.
    `,
    examples: [
      ['From a file', '$0 load -i busybox.tar'],
      ['From a compressed stream', '$0 load < images.tar.gz'],
    ],
  });

  input = Option.String('-i,--input', { description: 'Read from tar archive file, instead of STDIN' });
  // docker's -q silences progress bars, which tsctr does not draw: accepted, and the result lines stay.
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress the load output' });

  async run(): Promise<number | void> {
    if (this.input === undefined && (await import('node:tty')).isatty(0)) {
      throw new (await import('../errors.js')).TsctrError('requested load from stdin, but stdin is empty');
    }
    // Extracting layers makes files of subordinate uids: root in the user namespace does it.
    const { loadImageArchive } = await import('../engine/images.js');
    await loadImageArchive(this.input, (line) => this.out(line));
  }
}
