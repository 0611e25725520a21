/**
 * Reading a Dockerfile as docker's parser does: parser directives (`# syntax`, `# escape`) at the
 * top, comments, line continuations with the escape character, instructions case-insensitive,
 * `--flag=value` options before the arguments, and JSON (exec) form where an instruction allows
 * it. Variables are not expanded here: that depends on the build's state (see expand.ts).
 */
import { TsctrError } from '../../errors.js';

export interface Instruction {
  /** Upper case: FROM, RUN, COPY... */
  cmd: string;
  /** `--name=value` options (`--chown=1:1`, `--from=build`); a bare `--flag` is "true". */
  flags: Record<string, string>;
  /** The arguments as written after the flags (continuations joined). */
  rest: string;
  /** The exec form's array, when the arguments are a JSON array of strings. */
  json?: string[];
  /** 1-based line where the instruction starts. */
  line: number;
  /** How it is shown in build output: `RUN apt-get update`. */
  original: string;
}

export interface Dockerfile {
  escape: string;
  instructions: Instruction[];
}

export class DockerfileError extends TsctrError {
  constructor(message: string, line?: number) {
    super(line ? `Dockerfile:${line}: ${message}` : `Dockerfile: ${message}`);
  }
}

export const KNOWN = new Set([
  'FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME',
  'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
]);
/** The `--flags` each instruction takes (docker's classic builder, plus COPY/ADD --chmod). */
const FLAGS: Record<string, string[]> = {
  FROM: ['platform'],
  COPY: ['from', 'chown', 'chmod'],
  ADD: ['chown', 'chmod'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};

/** Instructions whose arguments may be a JSON array. */
const JSON_FORM = new Set(['RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'VOLUME', 'COPY', 'ADD']);

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;

/** Parses the arguments as a JSON array of strings, or undefined if they are not one. */
export function parseJsonArray(text: string): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    /* shell form after all */
  }
  return undefined;
}

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let escape = '\\';
  let i = 0;
  // Parser directives: only in the leading comment block, before any blank line or instruction.
  const seen = new Set<string>();
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (seen.has(key)) throw new DockerfileError(`only one ${key} parser directive can be used`, i + 1);
    seen.add(key);
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw new DockerfileError(`invalid escape token '${m[2]}' does not match ` + '` or \\', i + 1);
      escape = m[2]!;
    }
  }
  const instructions: Instruction[] = [];
  const continuation = new RegExp(`${escape === '\\' ? '\\\\' : '`'}\\s*$`);
  for (; i < lines.length; i++) {
    const first = lines[i]!;
    if (/^\s*(#|$)/.test(first)) continue;
    const start = i + 1;
    let text = first;
    // Continuation lines; comment lines and blank lines inside an instruction are dropped, as docker does.
    while (continuation.test(text)) {
      text = text.replace(continuation, '');
      i++;
      while (i < lines.length && /^\s*(#.*)?$/.test(lines[i]!)) i++;
      if (i >= lines.length) break;
      text += lines[i]!;
    }
    instructions.push(parseInstruction(text.trim(), start));
  }
  return { escape, instructions };
}

function parseInstruction(text: string, line: number): Instruction {
  const m = /^(\S+)\s*(.*)$/s.exec(text)!;
  const cmd = m[1]!.toUpperCase();
  if (!KNOWN.has(cmd)) throw new DockerfileError(`unknown instruction: ${m[1]}`, line);
  let rest = m[2]!;
  const flags: Record<string, string> = {};
  if (cmd !== 'ONBUILD') {
    // Flags come first: `--name=value` or `--name` (docker's BFlags); `--` inside a command is not one.
    for (;;) {
      const f = /^--([a-zA-Z][a-zA-Z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
      if (!f) break;
      flags[f[1]!] = f[2] ?? 'true';
      rest = rest.slice(f[0].length);
    }
  }
  for (const f of Object.keys(flags)) {
    if (!(FLAGS[cmd] ?? []).includes(f)) {
      const hint = cmd === 'RUN' && (f === 'mount' || f === 'network' || f === 'security') ? ` (RUN --${f} is a BuildKit extension, not supported)` : '';
      throw new DockerfileError(`Unknown flag: ${f}${hint}`, line);
    }
  }
  const ins: Instruction = { cmd, flags, rest, line, original: `${cmd} ${text.slice(m[1]!.length).trim()}`.trim() };
  if (JSON_FORM.has(cmd)) {
    const json = parseJsonArray(rest);
    if (json) ins.json = json;
  }
  return ins;
}

/**
 * Words of an instruction's arguments, with docker's quoting: single and double quotes group,
 * the escape character escapes (not inside single quotes). Used for COPY/ADD sources,
 * EXPOSE, VOLUME and friends; ENV and LABEL use `keyValues`.
 */
export function splitWords(text: string, escape = '\\'): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === escape && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += ch;
      continue;
    }
    if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === escape && i + 1 < text.length) cur += text[++i];
    else cur += ch;
  }
  if (quote) throw new TsctrError(`unterminated quote in "${text}"`);
  if (inWord) words.push(cur);
  return words;
}

/**
 * `KEY=value KEY2="a b"` pairs (ENV, LABEL, ARG); the old `ENV KEY value...` form (one pair, the
 * rest of the line as value) when the first word has no '='.
 */
export function keyValues(text: string, escape = '\\', legacy = true): [string, string][] {
  const words = splitWords(text, escape);
  if (words.length === 0) return [];
  if (!words[0]!.includes('=')) {
    if (!legacy) return words.map((w) => [w, '']);
    const key = words[0]!;
    const value = text.trim().slice(text.trim().indexOf(key) + key.length).trim();
    return [[key, splitWords(value, escape).join(' ')]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new TsctrError(`names must be followed by =value: "${w}"`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}
