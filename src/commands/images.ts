import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

/** docker's column titles of the fields a --format may name. */const IMAGE_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  VirtualSize: 'VIRTUAL SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  Containers: 'CONTAINERS',
};

export class ImagesCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Images',
    description: 'List images',
    examples: [
      ['List images', '$0 images'],
      ['Only IDs', '$0 images -q'],
      ['Custom columns', "$0 images --format 'table {{.Repository}}:{{.Tag}}\\t{{.Size}}'"],
      ['Dangling images', '$0 images --filter dangling=true'],
    ],
  });

  static override remote = true;

  all = Option.Boolean('-a,--all', false, { description: 'Show all images (default hides intermediate images)' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only show image IDs' });
  digests = Option.Boolean('--digests', false, { description: 'Show digests' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: "Don't truncate output" });
  format = Option.String('--format', { description: 'Format output using a Go template, or "json"' });
  filter = Option.Array('-f,--filter', [], { description: 'Filter output (dangling=, reference=, label=, before=, since=)' });
  reference = Option.String({ required: false, name: 'REPOSITORY[:TAG]' });

  async run(): Promise<void> {
    const { listImages } = await import('../engine/images.js');
    const { formatRows } = await import('../util/template.js');
    const rows = await listImages({ all: this.all, digests: this.digests, noTrunc: this.noTrunc, filters: this.filter, reference: this.reference });
    if (this.quiet) {
      this.write([...new Set(rows.map((r) => r.ID))].map((id) => `${id}\n`).join(''));
      return;
    }
    const def = this.digests
      ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
      : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
    const format = this.format === 'json' ? '{{json .}}' : this.format;
    this.write(formatRows(format ?? def, rows, IMAGE_HEADERS, def));
  }
}
