import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';
import { canOwnImageFiles, reexecInUserNamespace } from '../rootless/userns.js';

export class CommitCommand extends TsctrCommand {
  static override paths = [['commit'], ['container', 'commit']];
  static override usage = TsctrCommand.Usage({
    category: 'Images',
    description: "Create a new image from a container's changes",
    details: `
      The container's writable layer becomes one new layer on top of its image; the container's
      command, environment, user and working directory become the image's. The container may be running
      (it is not paused: files being written at that moment may be caught half-written).
    `,
    examples: [
      ['Save what a container installed', '$0 commit web myweb:v2'],
      ['With a new default command', "$0 commit -c 'CMD [\"httpd\", \"-f\"]' -m 'add httpd' web myweb:v2"],
    ],
  });

  author = Option.String('-a,--author', { description: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' });
  change = Option.Array('-c,--change', [], { description: 'Apply Dockerfile instruction to the created image' });
  message = Option.String('-m,--message', { description: 'Commit message' });
  pause = Option.Boolean('-p,--pause', true, { description: 'Accepted for compatibility; containers are not paused (no cgroup freezer without delegation)' });
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
      const { applyChanges } = await import('../build/config-change.js');
      applyChanges({}, this.change);
    }
    if (!canOwnImageFiles()) return reexecInUserNamespace(process.argv.slice(2));
    const { commitContainer } = await import('../image/commit.js');
    const image = await commitContainer(this.container, this.image, { message: this.message, author: this.author, changes: this.change });
    this.out(image.id);
  }
}
