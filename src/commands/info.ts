import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class InfoCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'System',
    description: 'Display system-wide information: host, id mappings, store, registries',
    examples: [
      ['As JSON', '$0 info --format json'],
      ['One field', "$0 info --format '{{.Host.Kernel}}'"],
    ],
  });

  format = Option.String('-f,--format', { description: 'Format output using a Go template, or "json"' });

  async run(): Promise<void> {
    const { infoTemplateView, infoYaml, systemInfo } = await import('../engine/system.js');
    const info = await systemInfo();
    if (this.format === 'json') return this.out(JSON.stringify(info, null, 2));
    if (this.format) {
      const { compileTemplate, parseFormat } = await import('../util/template.js');
      return this.out(compileTemplate(parseFormat(this.format).template)(await infoTemplateView(info)));
    }
    this.out(await infoYaml(info));
  }
}
