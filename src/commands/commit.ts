import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class CommitCommand extends TsctrCommand {
  static override paths = [['commit'], ['container', 'commit']];
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
    const { normalizeTag } = await import('../image/add.js');
    const { getContainer, loadContainers } = await import('../container/store.js');
    // Bad input fails here, before the namespace and before any layer is written.
    if (this.image) normalizeTag(this.image);
    getContainer(loadContainers(), this.container);
    if (this.change.length) {
      const { applyChanges } = await import('../builder/config-change.js');
      applyChanges({}, this.change);
    }
    const { TsctrError } = await import('../errors.js');
    const pause = this.pause === undefined || this.pause === true || /^(1|t|true)$/i.test(String(this.pause));
    if (!pause && !/^(0|f|false)$/i.test(String(this.pause))) throw new TsctrError(`invalid argument "${this.pause}" for "-p, --pause" flag: strconv.ParseBool: parsing "${this.pause}": invalid syntax`);
    // The user owns the container's user namespace and may stop every process in it.
    const resume = pause ? (await import('../container/pause.js')).pauseContainer(getContainer(loadContainers(), this.container)) : () => undefined;
    try {
      return await this.commit();
    } finally {
      resume();
    }
  }

  private async commit(): Promise<void> {
    const { commitContainer } = await import('../image/commit.js');
    const image = await commitContainer(this.container, this.image, { message: this.message, author: this.author, changes: this.change });
    this.out(image.id);
  }
}
