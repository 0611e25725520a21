/**
 * The subset of Go's text/template that docker and podman `--format` strings use: fields, pipelines,
 * if/else/range/with, variables, and docker's functions (json, join, upper, lower, title, split,
 * index, len, printf, println, truncate, pad) plus Go's comparison builtins. One parser, one
 * evaluator; errors read like Go's.
 */
import { TsctrError } from '../errors.js';

type Value = unknown;
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipe }
  | { kind: 'if' | 'with'; pipe: Pipe; then: Node[]; else: Node[] }
  | { kind: 'range'; pipe: Pipe; keyVar?: string; valVar?: string; body: Node[]; else: Node[] };
interface Pipe {
  decl?: string;
  cmds: Operand[][];
}
type Operand =
  | { t: 'field'; base: 'dot' | string; path: string[] }
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'nil' }
  | { t: 'ident'; name: string }
  | { t: 'paren'; pipe: Pipe };

function fail(msg: string): never {
  throw new TsctrError(`template parsing error: ${msg}`);
}

/** Splits the source into text and action bodies, applying the {{- and -}} trim markers. */
function lex(src: string): { text?: string; action?: string }[] {
  const out: { text?: string; action?: string }[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push({ text: src.slice(i) });
      break;
    }
    let text = src.slice(i, open);
    let start = open + 2;
    if (src[start] === '-' && /\s/.test(src[start + 1] ?? '')) {
      text = text.replace(/\s+$/, '');
      start += 2;
    }
    if (text) out.push({ text });
    let j = start;
    let inStr: string | undefined;
    for (; j < src.length; j++) {
      const c = src[j];
      if (inStr) {
        if (c === '\\' && inStr === '"') j++;
        else if (c === inStr) inStr = undefined;
      } else if (c === '"' || c === '`') inStr = c;
      else if (c === '}' && src[j + 1] === '}') break;
    }
    if (j >= src.length) fail('unclosed action');
    let body = src.slice(start, j);
    i = j + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -2);
      while (i < src.length && /\s/.test(src[i]!)) i++;
    }
    out.push({ action: body.trim() });
  }
  return out;
}

function tokenize(s: string): string[] {
  const toks: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      toks.push(s.slice(i, j + 1));
      i = j + 1;
    } else if (c === '`') {
      const j = s.indexOf('`', i + 1);
      if (j < 0) fail('unterminated raw string');
      toks.push(s.slice(i, j + 1));
      i = j + 1;
    } else if ('()|,'.includes(c)) {
      toks.push(c);
      i++;
    } else if (c === ':' && s[i + 1] === '=') {
      toks.push(':=');
      i += 2;
    } else {
      let j = i;
      while (j < s.length && !/[\s()|,]/.test(s[j]!) && !(s[j] === ':' && s[j + 1] === '=')) j++;
      toks.push(s.slice(i, j));
      i = j;
    }
  }
  return toks;
}

function parseOperand(tok: string, rest: string[]): Operand {
  if (tok === '(') {
    const inner: string[] = [];
    let depth = 1;
    while (rest.length) {
      const t = rest.shift()!;
      if (t === '(') depth++;
      if (t === ')' && --depth === 0) return { t: 'paren', pipe: parsePipe(inner) };
      inner.push(t);
    }
    fail('unclosed parenthesis');
  }
  if (tok.startsWith('"')) {
    try {
      return { t: 'str', v: JSON.parse(tok) as string };
    } catch {
      fail(`bad string ${tok}`);
    }
  }
  if (tok.startsWith('`')) return { t: 'str', v: tok.slice(1, -1) };
  if (/^-?\d+(\.\d+)?$/.test(tok)) return { t: 'num', v: Number(tok) };
  if (tok === 'true' || tok === 'false') return { t: 'bool', v: tok === 'true' };
  if (tok === 'nil') return { t: 'nil' };
  if (tok === '.') return { t: 'field', base: 'dot', path: [] };
  if (tok.startsWith('.')) return { t: 'field', base: 'dot', path: tok.slice(1).split('.') };
  if (tok.startsWith('$')) {
    const [name, ...path] = tok.split('.');
    return { t: 'field', base: name!, path };
  }
  if (/^[A-Za-z_]\w*$/.test(tok)) {
    // Like Go, an unknown function is a parse error, not a surprise at execution.
    if (!(tok in FUNCS)) fail(`function "${tok}" not defined`);
    return { t: 'ident', name: tok };
  }
  fail(`unexpected "${tok}" in operand`);
}

function parsePipe(toks: string[]): Pipe {
  const t = [...toks];
  const pipe: Pipe = { cmds: [] };
  if (t.length >= 2 && t[0]!.startsWith('$') && t[1] === ':=') {
    pipe.decl = t[0]!;
    t.splice(0, 2);
  }
  let cmd: Operand[] = [];
  while (t.length) {
    const tok = t.shift()!;
    if (tok === '|') {
      if (!cmd.length) fail('missing command before |');
      pipe.cmds.push(cmd);
      cmd = [];
      continue;
    }
    cmd.push(parseOperand(tok, t));
  }
  if (!cmd.length) fail('missing value for command');
  pipe.cmds.push(cmd);
  return pipe;
}

function parse(src: string): Node[] {
  const items = lex(src);
  let pos = 0;
  // {{if a}}..{{else if b}}..{{else}}..{{end}}: the nested if shares the one {{end}}.
  const ifChain = (kind: 'if' | 'with', pipeSrc: string): Node => {
    const pipe = parsePipe(tokenize(pipeSrc));
    const then = block(['else', 'end']);
    let els: Node[] = [];
    if (then.stop.startsWith('else')) {
      const rest = then.stop.slice(4).trim();
      els = rest.startsWith('if ') ? [ifChain('if', rest.slice(3))] : block(['end']).nodes;
    }
    return { kind, pipe, then: then.nodes, else: els };
  };
  const block = (stopAt: string[]): { nodes: Node[]; stop: string } => {
    const nodes: Node[] = [];
    while (pos < items.length) {
      const it = items[pos++]!;
      if (it.text !== undefined) {
        nodes.push({ kind: 'text', text: it.text });
        continue;
      }
      const a = it.action!;
      if (a.startsWith('/*')) continue;
      const kw = a.split(/\s+/)[0]!;
      if (stopAt.includes(kw)) return { nodes, stop: a };
      if (kw === 'if' || kw === 'with') {
        nodes.push(ifChain(kw, a.slice(kw.length)));
      } else if (kw === 'range') {
        let rest = a.slice(5).trim();
        let keyVar: string | undefined;
        let valVar: string | undefined;
        const decl = /^(\$\w*)(?:\s*,\s*(\$\w*))?\s*:=\s*/.exec(rest);
        if (decl) {
          if (decl[2]) {
            keyVar = decl[1];
            valVar = decl[2];
          } else valVar = decl[1];
          rest = rest.slice(decl[0].length);
        }
        const body = block(['else', 'end']);
        const els = body.stop.startsWith('else') ? block(['end']).nodes : [];
        nodes.push({ kind: 'range', pipe: parsePipe(tokenize(rest)), keyVar, valVar, body: body.nodes, else: els });
      } else if (kw === 'end' || kw === 'else') {
        fail(`unexpected {{${kw}}}`);
      } else {
        nodes.push({ kind: 'action', pipe: parsePipe(tokenize(a)) });
      }
    }
    if (stopAt.length) fail(`unexpected EOF, expected {{${stopAt.at(-1)}}}`);
    return { nodes, stop: '' };
  };
  return block([]).nodes;
}

/** Go's %v. */
export function goString(v: Value): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v as object).sort();
    return `map[${keys.map((k) => `${k}:${goString((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
  return String(v);
}

function truthy(v: Value): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

function sprintf(fmt: string, args: Value[]): string {
  let i = 0;
  return fmt.replace(/%([-+ 0#]*)(\d*)(?:\.(\d+))?([svdqtfx%])/g, (_m, _flags: string, width: string, prec: string, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    let s: string;
    switch (verb) {
      case 'q':
        s = JSON.stringify(typeof a === 'string' ? a : goString(a));
        break;
      case 'd':
        s = String(Math.trunc(Number(a)));
        break;
      case 'f':
        s = Number(a).toFixed(prec ? Number(prec) : 6);
        break;
      case 'x':
        s = typeof a === 'number' ? a.toString(16) : Buffer.from(String(a)).toString('hex');
        break;
      default:
        s = typeof a === 'string' ? a : goString(a);
    }
    if (width) s = _flags.includes('-') ? s.padEnd(Number(width)) : s.padStart(Number(width));
    return s;
  });
}

const FUNCS: Record<string, (...args: Value[]) => Value> = {
  json: (v) => JSON.stringify(v === undefined ? null : v),
  upper: (s) => String(s).toUpperCase(),
  lower: (s) => String(s).toLowerCase(),
  title: (s) => String(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  join: (list, sep) => (Array.isArray(list) ? list.map((x) => (typeof x === 'string' ? x : goString(x))).join(String(sep)) : goString(list)),
  split: (s, sep) => String(s).split(String(sep)),
  index: (v, ...keys) => keys.reduce((acc: Value, k) => (acc == null ? undefined : (acc as Record<string, unknown>)[String(k)]), v),
  len: (v) => (typeof v === 'string' || Array.isArray(v) ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  println: (...a) => `${a.map((x) => (typeof x === 'string' ? x : goString(x))).join(' ')}\n`,
  print: (...a) => a.map((x) => (typeof x === 'string' ? x : goString(x))).join(''),
  printf: (fmt, ...a) => sprintf(String(fmt), a),
  truncate: (s, n) => String(s).slice(0, Number(n)),
  pad: (s, l, r) => `${' '.repeat(Number(l))}${String(s)}${' '.repeat(Number(r))}`,
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
  lt: (a, b) => (a as number) < (b as number),
  le: (a, b) => (a as number) <= (b as number),
  gt: (a, b) => (a as number) > (b as number),
  ge: (a, b) => (a as number) >= (b as number),
  not: (a) => !truthy(a),
  and: (...a) => a.find((x) => !truthy(x)) ?? a.at(-1),
  or: (...a) => a.find((x) => truthy(x)) ?? a.at(-1),
};

type Scope = { dot: Value; vars: Map<string, Value> };

function field(v: Value, path: string[]): Value {
  let cur = v;
  for (const p of path) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function evalOperand(op: Operand, scope: Scope): Value {
  switch (op.t) {
    case 'field':
      if (op.base === 'dot') return field(scope.dot, op.path);
      if (!scope.vars.has(op.base)) fail(`undefined variable "${op.base}"`);
      return field(scope.vars.get(op.base), op.path);
    case 'str':
    case 'num':
    case 'bool':
      return op.v;
    case 'nil':
      return null;
    case 'paren':
      return evalPipe(op.pipe, scope);
    case 'ident': {
      const f = FUNCS[op.name];
      if (!f) fail(`function "${op.name}" not defined`);
      return f();
    }
  }
}

function evalCommand(cmd: Operand[], scope: Scope, piped: Value[]): Value {
  const [head, ...args] = cmd;
  if (head!.t === 'ident') {
    const f = FUNCS[head!.name];
    if (!f) fail(`function "${head!.name}" not defined`);
    return f(...args.map((a) => evalOperand(a, scope)), ...piped);
  }
  if (args.length) fail(`can't give argument to non-function`);
  return evalOperand(head!, scope);
}

function evalPipe(pipe: Pipe, scope: Scope): Value {
  let value: Value;
  pipe.cmds.forEach((cmd, i) => {
    value = evalCommand(cmd, scope, i === 0 ? [] : [value]);
  });
  if (pipe.decl) {
    scope.vars.set(pipe.decl, value);
    return '';
  }
  return value;
}

function render(nodes: Node[], scope: Scope, out: string[]): void {
  for (const n of nodes) {
    switch (n.kind) {
      case 'text':
        out.push(n.text);
        break;
      case 'action': {
        const v = evalPipe(n.pipe, scope);
        if (!n.pipe.decl) out.push(typeof v === 'string' ? v : goString(v));
        break;
      }
      case 'if':
      case 'with': {
        const v = evalPipe(n.pipe, scope);
        if (truthy(v)) render(n.then, n.kind === 'with' ? { dot: v, vars: scope.vars } : scope, out);
        else render(n.else, scope, out);
        break;
      }
      case 'range': {
        const v = evalPipe(n.pipe, scope);
        const entries: [Value, Value][] = Array.isArray(v)
          ? v.map((x, i) => [i, x])
          : v && typeof v === 'object'
            ? Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]])
            : typeof v === 'number'
              ? Array.from({ length: v }, (_, i) => [i, i])
              : [];
        if (entries.length === 0) render(n.else, scope, out);
        for (const [k, x] of entries) {
          const vars = new Map(scope.vars);
          if (n.keyVar) vars.set(n.keyVar, k);
          if (n.valVar) vars.set(n.valVar, x);
          render(n.body, { dot: x, vars }, out);
        }
        break;
      }
    }
  }
}

export function compileTemplate(src: string): (data: unknown) => string {
  const nodes = parse(src);
  return (data) => {
    const out: string[] = [];
    render(nodes, { dot: data, vars: new Map([['$', data]]) }, out);
    return out.join('');
  };
}

export interface FormatSpec {
  table: boolean;
  template: string;
}

/** docker's preFormat: a leading `table`, trimmed, with the two-character sequences \t and \n made real. */
export function parseFormat(format: string): FormatSpec {
  let f = format;
  const table = f === 'table' || f.startsWith('table ');
  if (table) f = f.slice(5);
  f = f.trim().replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return { table, template: f };
}

/** Go's text/tabwriter as docker sets it up: minwidth 10, tabwidth 1, padding 3, spaces. */
export function renderTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) {
    r.slice(0, -1).forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, Math.max(10, [...cell].length + 3));
    });
  }
  return rows.map((r) => r.map((cell, i) => (i < r.length - 1 ? cell + ' '.repeat(widths[i]! - [...cell].length) : cell)).join('')).join('\n') + (rows.length ? '\n' : '');
}

export function formatRows(format: string, rows: object[], headers: Record<string, string>, defaultTable: string): string {
  const spec = parseFormat(format === 'table' ? defaultTable : format);
  const tpl = compileTemplate(spec.template);
  if (!spec.table) return rows.map((r) => `${tpl(r)}\n`).join('');
  // The header line is the template run over field → header names, as docker does.
  const headerCtx = new Proxy(headers, { get: (t, k) => (typeof k === 'string' ? (t[k] ?? k.toUpperCase()) : undefined) });
  const lines = [tpl(headerCtx), ...rows.map((r) => tpl(r))];
  return renderTable(lines.map((l) => l.split('\t')));
}
