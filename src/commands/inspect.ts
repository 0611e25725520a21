import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';
import { NotFoundError, TsctrError } from '../errors.js';
import type { InspectType } from '../engine/inspect.js';

export class InspectCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Images',
    description: 'Display detailed information on one or more objects',
    examples: [
      ['Everything about an image', '$0 inspect nginx'],
      ['One field', "$0 inspect -f '{{.Config.Cmd}}' nginx"],
    ],
  });

  static override remote = true;

  format = Option.String('-f,--format', { description: 'Format output using a Go template' });
  type = Option.String('--type', { description: 'Only inspect objects of this type (container or image)' });
  names = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const type = this.type ?? (this.path[0] === 'image' ? 'image' : this.path[0] === 'container' ? 'container' : undefined);
    const isKind = (t: string): t is InspectType => t === 'image' || t === 'container';
    if (type && !isKind(type)) throw new TsctrError(`"${type}" is not a valid value for --type`);
    const kind = type && isKind(type) ? type : undefined;
    const { inspectObjects } = await import('../engine/inspect.js');
    const found: Record<string, unknown>[] = [];
    let code = 0;
    for (const { name, object } of await inspectObjects(this.names, kind)) {
      if (object) found.push(object);
      else {
        this.context.stderr.write(`Error: ${new NotFoundError(`No such object: ${name}`).message}\n`);
        code = 1;
      }
    }
    await this.printInspected(found, this.format);
    return code;
  }
}
