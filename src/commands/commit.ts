import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class CommitCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Images',
    description: "Create a new image from a container's changes",
    details: `
      The container's writable layer becomes one new layer on top of its image; the container's
      command, environment, user and working directory become the image's. A running container is
      paused while its files are read (every process stopped, then continued), as docker does;
      \`--pause=false\` reads them while it runs. Either way its files are read without following a
      symlink it may have put in their way.
    `,
    examples: [
      ['Save what a container installed', '$0 commit web myweb:v2'],
      ['With a new default command', "$0 commit -c 'CMD [\"httpd\", \"-f\"]' -m 'add httpd' web myweb:v2"],
    ],
  });

  author = Option.String('-a,--author', { description: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' });
  change = Option.Array('-c,--change', [], { description: 'Apply Dockerfile instruction to the created image' });
  message = Option.String('-m,--message', { description: 'Commit message' });
  pause = Option.String('-p,--pause', { tolerateBoolean: true, description: 'Pause container during commit (default true; --pause=false to not)' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Suppress output (prints only the image ID)' });
  container = Option.String({ name: 'CONTAINER' });
  image = Option.String({ name: 'REPOSITORY[:TAG]', required: false });

  async run(): Promise<number | void> {
    const { checkCommit } = await import('../engine/images.js');
    const options = { tag: this.image, message: this.message, author: this.author, changes: this.change };
    // Bad input fails here, before the namespace and before any layer is written.
    await checkCommit(this.container, options);
    const { TsctrError } = await import('../errors.js');
    const pause = this.pause === undefined || this.pause === true || /^(1|t|true)$/i.test(String(this.pause));
    if (!pause && !/^(0|f|false)$/i.test(String(this.pause))) throw new TsctrError(`invalid argument "${this.pause}" for "-p, --pause" flag: strconv.ParseBool: parsing "${this.pause}": invalid syntax`);
    // The user owns the container's user namespace and may stop every process in it.
    const resume = pause ? await (await import('../engine/containers.js')).pauseWhile(this.container) : () => undefined;
    try {
      const { commitContainer } = await import('../engine/images.js');
      this.out((await commitContainer(this.container, options)).id);
    } finally {
      resume();
    }
  }
}
