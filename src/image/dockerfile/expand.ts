/**
 * Variable substitution in Dockerfile instructions (docker's list: ADD, COPY, ENV, EXPOSE, FROM,
 * LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, ARG, ONBUILD): `$NAME`, `${NAME}`, `${NAME:-word}`,
 * `${NAME:+word}`; nothing inside single quotes; an escaped `$` stays literal (the escape is left
 * for the word splitter to remove). RUN, CMD and ENTRYPOINT are left to the shell.
 */
import { TsctrError } from '../../errors.js';

export const EXPANDED = new Set(['ADD', 'COPY', 'ENV', 'EXPOSE', 'FROM', 'LABEL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR', 'ARG', 'ONBUILD']);

export function expandVars(text: string, lookup: (name: string) => string | undefined, escape = '\\'): string {
  let out = '';
  let single = false;
  let double = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === escape && !single && i + 1 < text.length) {
      out += ch + text[++i];
      continue;
    }
    if (ch === "'" && !double) single = !single;
    else if (ch === '"' && !single) double = !double;
    if (ch !== '$' || single) {
      out += ch;
      continue;
    }
    const braced = /^\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?:(:?[-+])([^}]*))?\}/.exec(text.slice(i));
    if (braced) {
      const [all, name, op, word] = braced as unknown as [string, string, string | undefined, string | undefined];
      const v = lookup(name);
      const set = op?.startsWith(':') ? v !== undefined && v !== '' : v !== undefined;
      if (!op) out += v ?? '';
      else if (op.endsWith('-')) out += set ? v : expandVars(word ?? '', lookup, escape);
      else out += set ? expandVars(word ?? '', lookup, escape) : '';
      i += all.length - 1;
      continue;
    }
    if (text[i + 1] === '{') throw new TsctrError(`failed to process "${text}": unsupported modifier or bad substitution`);
    const plain = /^\$([a-zA-Z_][a-zA-Z0-9_]*)/.exec(text.slice(i));
    if (plain) {
      out += lookup(plain[1]!) ?? '';
      i += plain[0].length - 1;
      continue;
    }
    out += ch;
  }
  return out;
}
