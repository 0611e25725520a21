import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class HistoryCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Images',
    description: 'Show the history of an image',
    examples: [['Layers of nginx', '$0 history nginx']],
  });

  noTrunc = Option.Boolean('--no-trunc', false, { description: "Don't truncate output" });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only show image IDs' });
  format = Option.String('--format', { description: 'Format output using a Go template' });
  image = Option.String();

  async run(): Promise<void> {
    const { imageHistory } = await import('../engine/images.js');
    const { formatRows } = await import('../util/template.js');
    const rows = await imageHistory(this.image, this.noTrunc);
    if (this.quiet) {
      this.write(rows.map((r) => `${r.ID}\n`).join(''));
      return;
    }
    const def = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
    const headers = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };
    this.write(formatRows(this.format ?? def, rows, headers, def));
  }
}
