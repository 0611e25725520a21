/**
 * `.dockerignore`, as docker reads it: one pattern per line, `#` comments, patterns cleaned and
 * taken relative to the context root, `*` `?` `[...]` within one path component, `**` across any
 * number of them, `!` for exceptions; the last pattern that matches a path decides. A pattern that
 * matches a directory excludes what is under it.
 */
import path from 'node:path';

interface Pattern {
  re: RegExp;
  exception: boolean;
  /** The pattern's leading literal directories: an exception can only bring back paths under them. */
  dirs: string;
}

/** A Go filepath.Match pattern (plus `**` across directories) as a regular expression source. */
export function globSource(glob: string): string {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches zero or more directories; a trailing `**` anything.
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        let cls = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (cls.startsWith('^') || cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        re += `[${cls}]`;
        i = end;
      }
    } else if (ch === '\\' && i + 1 < glob.length) re += `\\${glob[++i]}`;
    else re += ch.replace(/[.+^${}()|\]\\]/g, '\\$&');
  }
  return re;
}

// A match of a directory covers what is inside it.
const globToRegExp = (glob: string) => new RegExp(`^${globSource(glob)}(?:/.*)?$`);

export class IgnoreMatcher {
  private readonly patterns: Pattern[];

  constructor(text: string) {
    this.patterns = [];
    for (let line of text.split(/\r?\n/)) {
      if (line.startsWith('#')) continue;
      line = line.trim();
      if (!line) continue;
      const exception = line.startsWith('!');
      if (exception) line = line.slice(1).trim();
      let p = path.posix.normalize(line).replace(/^\/+/, '').replace(/\/+$/, '');
      if (p === '.' || p === '') p = exception ? '**' : '';
      if (!p) continue;
      const literal = p.split('/');
      const stop = literal.findIndex((c) => /[*?[\\]/.test(c));
      this.patterns.push({ re: globToRegExp(p), exception, dirs: (stop < 0 ? literal.slice(0, -1) : literal.slice(0, stop)).join('/') });
    }
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** Is the path (relative to the context, '/'-separated) left out? */
  ignored(rel: string): boolean {
    let out = false;
    for (const p of this.patterns) if (p.re.test(rel)) out = !p.exception;
    return out;
  }

  /** Can something under an ignored directory still be brought back by an exception? */
  mayIncludeUnder(dir: string): boolean {
    return this.patterns.some((p) => p.exception && (p.dirs === '' || p.dirs === dir || p.dirs.startsWith(`${dir}/`) || dir.startsWith(`${p.dirs}/`)));
  }

  /** Skip this path and everything under it while walking? */
  prune(rel: string, isDir: boolean): boolean {
    if (!this.ignored(rel)) return false;
    return !(isDir && this.mayIncludeUnder(rel));
  }
}
