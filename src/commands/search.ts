import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class SearchCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Images',
    description: 'Search for an image in a registry',
    details: `
      Lists the repositories of a registry whose names contain TERM: from the registry's catalog
      (\`/v2/_catalog\`, which docker's distribution registry serves), or docker's \`/v1/search\`
      where there is no catalog. Without a registry in TERM, the first unqualified-search registry
      of registries.conf (docker.io) is searched. A registry with neither is an error.
    `,
    examples: [
      ['Repositories with "busy" in their name', '$0 search 127.0.0.1:5000/busy'],
      ['Names only', "$0 search --format '{{.Name}}' 127.0.0.1:5000/library"],
    ],
  });

  limit = Option.String('--limit', '25', { description: 'Max number of search results' });
  filter = Option.Array('-f,--filter', [], { description: 'Filter output based on conditions provided (stars=N, is-official=, is-automated=)' });
  format = Option.String('--format', { description: 'Pretty-print search using a Go template, or "json"' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: "Don't truncate output" });
  term = Option.String({ name: 'TERM' });

  async run(): Promise<void> {
    const { searchImages } = await import('../engine/search.js');
    const { formatRows } = await import('../util/template.js');
    const hits = await searchImages(this.term, { limit: Number(this.limit), filters: this.filter });
    const trunc = (s: string) => (!this.noTrunc && s.length > 45 ? `${s.slice(0, 42)}...` : s);
    // docker's fields (StarCount, IsOfficial as "[OK]") and podman's (Index, Stars, Official)
    const rows = hits.map((h) => ({
      Index: h.index, Name: h.name, Description: trunc(h.description),
      StarCount: h.stars, Stars: h.stars,
      IsOfficial: h.official ? '[OK]' : '', Official: h.official ? '[OK]' : '',
      IsAutomated: h.automated ? '[OK]' : '', Automated: h.automated ? '[OK]' : '',
    }));
    const def = 'table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}';
    const format = this.format === 'json' ? '{{json .}}' : (this.format ?? def);
    const headers = { Index: 'INDEX', Name: 'NAME', Description: 'DESCRIPTION', StarCount: 'STARS', Stars: 'STARS', IsOfficial: 'OFFICIAL', Official: 'OFFICIAL', IsAutomated: 'AUTOMATED', Automated: 'AUTOMATED' };
    this.write(formatRows(format, rows, headers, def));
  }
}
