import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class PullCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Images',
    description: 'Download an image from a registry',
    details: `
      Names are resolved like docker: \`nginx\` is \`docker.io/library/nginx:latest\`. Mirrors, insecure
      registries and unqualified-search registries come from registries.conf (podman's format).
    `,
    examples: [
      ['Pull the latest nginx', '$0 pull nginx'],
      ['Pull a specific platform', '$0 pull --platform linux/arm64 busybox'],
      ['Pull by digest, printing only the name', '$0 pull -q alpine@sha256:...'],
    ],
  });

  static override remote = true;

  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress verbose output' });
  platform = Option.String('--platform', { description: 'Set platform if server is multi-platform capable (os/arch[/variant])' });
  image = Option.String();

  async run(): Promise<number | void> {
    const { checkPlatform, checkReference } = await import('../engine/images.js');
    // Validate before anything else (and before entering the namespace): bad input costs nothing.
    await checkReference(this.image);
    const platform = this.platform ? await checkPlatform(this.platform) : undefined;
    const { pullImage } = await import('../engine/images.js');
    this.out(await pullImage(this.image, { platform, quiet: this.quiet, out: this.context.stdout as NodeJS.WriteStream }));
  }
}
