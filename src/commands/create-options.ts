/**
 * The flags `run` and `create` share, made from the one table of them (container/options.ts,
 * CREATE_FLAGS): each entry becomes a clipanion option here and a CreateOptions field there, so a
 * new flag is declared once.
 */
import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';
import { GLOBAL_BOOLEAN, GLOBAL_WITH_VALUE } from '../global-options.js';
import { CREATE_FLAGS, type CreateFlags, type CreateOptions, type FlagDecl } from '../container/options.js';

function clipanionOption(d: FlagDecl): unknown {
  const opts = { description: d.description };
  if (d.kind === 'array') return Option.Array(d.names, [], opts);
  if (d.kind === 'boolean') return Option.Boolean(d.names, false, opts);
  if (d.tolerateBoolean) return Option.String(d.names, d.default ?? '', { ...opts, tolerateBoolean: true });
  return d.default !== undefined ? Option.String(d.names, d.default, opts) : Option.String(d.names, opts);
}

export abstract class ContainerCreateCommand extends TsctrCommand {
  declare image: string;
  declare command: string[];

  constructor() {
    super();
    const self = this as unknown as Record<string, unknown>;
    for (const [key, d] of Object.entries(CREATE_FLAGS as Record<string, FlagDecl>)) self[key] = clipanionOption(d);
    self.image = Option.String({ name: 'IMAGE' });
    self.command = Option.Proxy({ name: 'COMMAND' });
  }

  protected createOptions(detach: boolean): CreateOptions {
    const self = this as unknown as Record<string, unknown>;
    const flags = Object.fromEntries(Object.keys(CREATE_FLAGS).map((k) => [k, self[k]])) as CreateFlags;
    return { ...flags, image: this.image, command: this.command, detach };
  }

  /**
   * The words after the verb as typed (podman's CreateCommand): what `generate systemd --new`
   * runs again. Global options before the verb are the unit's own business.
   */
  protected commandLine(): string[] {
    const argv = process.argv.slice(2);
    let i = 0;
    for (;;) {
      const name = argv[i]?.split('=')[0] ?? '';
      if (GLOBAL_WITH_VALUE.has(name)) i += argv[i]!.includes('=') ? 1 : 2;
      else if (GLOBAL_BOOLEAN.has(name)) i++;
      else break;
    }
    const path = this.path;
    return path.every((p, j) => argv[i + j] === p) ? argv.slice(i + path.length) : [];
  }
}

/** The table's flags as typed fields of the command (clipanion fills them in). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ContainerCreateCommand extends CreateFlags {}
