import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class PushCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Images',
    description: 'Upload an image to a registry',
    details: `
      IMAGE goes to DEST, or to the name IMAGE itself when no DEST is given. Blobs the repository
      already has are skipped, blobs the registry has in another repository the image came from or
      was pushed to are mounted from there, and the other layers are compressed and uploaded, up to
      three at a time. The registry is the one DEST names (registries.conf may rewrite its location
      and mark it insecure; mirrors are for pulling only); credentials come from \`tsctr login\`.
    `,
    examples: [
      ['Push to a private registry', '$0 push 127.0.0.1:5000/web:v1'],
      ['Push a local image under another name', '$0 push nginx registry.example.com/team/nginx:1.25'],
      ['Print only the pushed reference', '$0 push -q nginx registry.example.com/team/nginx'],
    ],
  });

  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress verbose output' });
  image = Option.String({ name: 'IMAGE' });
  destination = Option.String({ name: 'DEST', required: false });

  async run(): Promise<number | void> {
    const { checkReference } = await import('../engine/images.js');
    // A bad destination costs nothing: checked before entering the namespace.
    if (this.destination !== undefined) await checkReference(this.destination);
    const { pushImage } = await import('../engine/images.js');
    const result = await pushImage(this.image, this.destination, { quiet: this.quiet, out: this.context.stdout as NodeJS.WriteStream });
    if (this.quiet) this.out(result.reference);
  }
}
