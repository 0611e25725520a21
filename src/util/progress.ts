/**
 * docker-pull-style progress: on a terminal, one line per layer redrawn in place; elsewhere, a plain
 * line per state change (no bars, so logs and CI output stay readable); nothing at all when quiet.
 */
import { humanSize } from './units.js';

interface Line {
  id: string;
  status: string;
  current?: number;
  total?: number;
}

export class Progress {
  private lines: Line[] = [];
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean },
    private readonly quiet = false,
  ) {}

  private get tty(): boolean {
    return Boolean(this.out.isTTY) && !this.quiet;
  }

  message(text: string): void {
    if (this.quiet) return;
    this.flush();
    this.out.write(`${text}\n`);
  }

  set(id: string, status: string, current?: number, total?: number): void {
    if (this.quiet) return;
    let line = this.lines.find((l) => l.id === id);
    const changed = !line || line.status !== status;
    if (!line) {
      line = { id, status };
      this.lines.push(line);
    }
    line.status = status;
    line.current = current;
    line.total = total;
    if (this.tty) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.redraw();
      }, 80);
    } else if (changed) {
      this.out.write(`${id}: ${status}\n`);
    }
  }

  /** Final redraw, then later output goes below the block. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.tty) this.redraw();
    this.lines = [];
    this.drawn = 0;
  }

  private redraw(): void {
    let s = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const l of this.lines) s += `\x1b[2K${l.id}: ${render(l)}\n`;
    this.drawn = this.lines.length;
    this.out.write(s);
  }
}

function render(l: Line): string {
  if (l.current === undefined || !l.total) return l.status;
  const width = 50;
  const done = Math.min(width, Math.floor((l.current / l.total) * width));
  const bar = '='.repeat(Math.max(0, done - 1)) + (done > 0 ? '>' : '') + ' '.repeat(width - done);
  return `${l.status.padEnd(12)}[${bar}]  ${humanSize(l.current)}/${humanSize(l.total)}`;
}
