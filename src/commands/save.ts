import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class SaveCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Images',
    description: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
    details: `
      The default format is docker's (docker-archive: manifest.json, one directory per layer), which
      \`docker load\` and \`podman load\` read; \`--format oci-archive\` writes an OCI image layout
      instead (podman's flag). Layers are uncompressed; a layer several images share is written once.
      A repository name without a tag saves every tag of it; an image ID saves the image untagged.
    `,
    examples: [
      ['Save to a file', '$0 save -o busybox.tar busybox'],
      ['Several images, compressed', '$0 save nginx busybox | gzip > images.tar.gz'],
      ['An OCI archive', '$0 save --format oci-archive -o busybox-oci.tar busybox'],
    ],
  });

  output = Option.String('-o,--output', { description: 'Write to a file, instead of STDOUT' });
  format = Option.String('--format', { description: 'Archive format: docker-archive (default) or oci-archive' });
  images = Option.Rest({ required: 1, name: 'IMAGE' });

  async run(): Promise<number | void> {
    const { checkArchiveFormat } = await import('../engine/images.js');
    const format = await checkArchiveFormat(this.format);
    if (this.output === undefined) (await import('../util/output.js')).refuseTerminalStdout();
    // Layer files belong to subordinate uids: only root in the user namespace may read them all.
    const { saveImages } = await import('../engine/images.js');
    await saveImages(this.images, format, this.output);
  }
}
