import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class BuildCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Images',
    description: 'Build an image from a Dockerfile',
    details: `
      Runs the Dockerfile like docker's classic builder: one image per instruction, RUN in a rootless
      container of the image so far, one layer per RUN, COPY or ADD holding only what it changed. Steps
      whose parent, instruction and inputs are unchanged come from the build cache (\`Using cache\`);
      \`--no-cache\` runs them all again. \`.dockerignore\` in the context is honoured.
    `,
    examples: [
      ['Build and tag the current directory', '$0 build -t myapp:1.0 .'],
      ['Another Dockerfile, a build argument, one stage', '$0 build -f docker/Dockerfile --build-arg VERSION=2 --target runtime -t myapp .'],
    ],
  });

  tags = Option.Array('-t,--tag', [], { description: 'Name and optionally a tag in the name:tag format' });
  file = Option.String('-f,--file', { description: "Name of the Dockerfile (default: 'PATH/Dockerfile')" });
  buildArgs = Option.Array('--build-arg', [], { description: 'Set build-time variables' });
  noCache = Option.Boolean('--no-cache', false, { description: 'Do not use cache when building the image' });
  pull = Option.Boolean('--pull', false, { description: 'Always attempt to pull a newer version of the image' });
  target = Option.String('--target', { description: 'Set the target build stage to build' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress the build output and print image ID on success' });
  network = Option.String('--network', { description: 'Networking mode for the RUN instructions during build' });
  labels = Option.Array('--label', [], { description: 'Set metadata for an image' });
  rm = Option.Boolean('--rm', true, { description: 'Remove intermediate containers after a successful build (always done)' });
  forceRm = Option.Boolean('--force-rm', false, { description: 'Always remove intermediate containers (always done)' });
  contextDir = Option.String({ name: 'PATH' });

  async run(): Promise<void> {
    const { buildImage } = await import('../engine/images.js');
    const image = await buildImage({
      context: this.contextDir,
      dockerfile: this.file,
      tags: this.tags,
      buildArgs: this.buildArgs,
      noCache: this.noCache,
      pull: this.pull,
      target: this.target,
      quiet: this.quiet,
      network: this.network,
      labels: this.labels,
      out: this.context.stdout,
    });
    if (this.quiet) this.out(image.id);
  }
}
