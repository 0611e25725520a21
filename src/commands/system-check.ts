import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class SystemCheckCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'System',
    description: 'Check that this host can run rootless containers, and say how to fix what is missing',
    details: 'Exits 1 when a check that containers depend on fails; warnings (a feature degrades) leave the exit code 0.',
    examples: [
      ['Check the host', '$0 system check'],
      ['As JSON', '$0 system check --format json'],
    ],
  });

  format = Option.String('--format', { description: 'Output format: "json"' });

  async run(): Promise<number> {
    const { TsctrError } = await import('../errors.js');
    if (this.format && this.format !== 'json') throw new TsctrError(`unsupported format "${this.format}": use "json"`);
    const { systemCheck } = await import('../engine/system.js');
    const checks = await systemCheck();
    const failed = checks.some((c) => !c.ok && c.severity === 'error');
    if (this.format === 'json') {
      this.out(JSON.stringify(checks, null, 2));
      return failed ? 1 : 0;
    }
    // Symbols only on a terminal: piped output is grepped, and ASCII words survive every locale.
    const tty = (this.context.stdout as NodeJS.WriteStream).isTTY === true;
    const mark = (ok: boolean, sev: string) => (tty ? (ok ? '✔' : sev === 'error' ? '✘' : '⚠') : ok ? 'ok  ' : sev === 'error' ? 'FAIL' : 'warn');
    const lines: string[] = [];
    for (const c of checks) {
      lines.push(`${mark(c.ok, c.severity)} ${c.name}: ${c.detail}`);
      if (!c.ok && c.fix) lines.push(`    fix: ${c.fix}`);
    }
    const errors = checks.filter((c) => !c.ok && c.severity === 'error').length;
    const warnings = checks.filter((c) => !c.ok && c.severity === 'warning').length;
    lines.push('', errors ? `${errors} error(s), ${warnings} warning(s): tsctr cannot run containers until the errors are fixed` : `tsctr can run containers here${warnings ? ` (${warnings} warning(s))` : ''}`);
    this.out(lines.join('\n'));
    return failed ? 1 : 0;
  }
}
