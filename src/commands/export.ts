import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class ExportCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: "Export a container's filesystem as a tar archive",
    details: `
      The container's root filesystem as it sees it (its changes over its image, merged), without
      volumes and other mounts; running or stopped. \`import\` makes an image of it again.
    `,
    examples: [
      ['To a file', '$0 export -o web.tar web'],
      ['Into a new image', '$0 export web | $0 import - web-flat'],
    ],
  });

  output = Option.String('-o,--output', { description: 'Write to a file, instead of STDOUT' });
  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<number | void> {
    if (this.output === undefined) (await import('../util/output.js')).refuseTerminalStdout();
    // The layers hold files of subordinate uids, some readable only by them: read as root in the namespace.
    const { exportContainer } = await import('../engine/containers.js');
    const { writeOutput } = await import('../util/output.js');
    await writeOutput(this.output, await exportContainer(this.container));
  }
}
