/**
 * Go's text/template as docker and podman `--format` use it: a lexer, a recursive-descent parser
 * and a tree-walking evaluator with Go's semantics (truthiness, %v printing, sorted map ranges,
 * trim markers, variable scopes, short-circuit and/or) and docker's functions. Plus docker's table
 * layer: `table` formats, headers made by running the template over header names, tabwriter.
 */
import { TsctrError } from '../errors.js';
import { formatFloat } from './units.js';

// ---- lexer ------------------------------------------------------------------------------------

type TokKind = 'field' | 'var' | 'ident' | 'str' | 'num' | 'pipe' | 'lparen' | 'rparen' | 'declare' | 'assign' | 'comma';
interface Tok {
  kind: TokKind;
  val: string;
  /** Literal value for str/num tokens (a char constant is a number, as in Go). */
  lit?: string | number;
  pos: number;
  end: number;
  /** Whitespace precedes it: `.A .B` is two operands, `$x.A` one. */
  space: boolean;
}
type Item = { text: string } | { toks: Tok[] };

const SPACE = ' \t\r\n';
const PUNCT: Record<string, TokKind> = { '|': 'pipe', ',': 'comma', '(': 'lparen', ')': 'rparen', '=': 'assign' };

function parseError(msg: string): never {
  throw new TsctrError(`template parsing error: ${msg}`);
}

/** At a closing delimiter? `}}`, or ` -}}` which also trims the whitespace after it. */
function rightDelim(src: string, p: number): { end: number; trim: boolean } | undefined {
  if (src.startsWith('}}', p)) return { end: p + 2, trim: false };
  if (SPACE.includes(src[p] ?? 'x') && src.startsWith('-}}', p + 1)) return { end: p + 4, trim: true };
  return undefined;
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };

/** Go's strconv.Unquote for "..." and '...' bodies. */
function unescape(body: string, quote: string): string {
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g, (_all, e: string) => {
    if (e.length > 1) return String.fromCodePoint(e[0] === 'x' || e[0] === 'u' || e[0] === 'U' ? parseInt(e.slice(1), 16) : parseInt(e, 8));
    if (e === "'" && quote === '"') parseError(`invalid syntax in ${quote}${body}${quote}`);
    return ESCAPES[e] ?? parseError(`invalid syntax in ${quote}${body}${quote}`);
  });
}

const NUMBER = /[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*)?\.?[\d_]*(?:[eE][+-]?\d+)?)/y;

function numberValue(text: string): number {
  const sign = text[0] === '-' ? -1 : 1;
  const t = text.replace(/^[+-]/, '').replace(/_/g, '');
  const v = /^0\d+$/.test(t) ? parseInt(t, 8) : /^0[oO]/.test(t) ? parseInt(t.slice(2), 8) : Number(t);
  if (t === '' || t === '.' || Number.isNaN(v)) parseError(`bad number syntax: "${text}"`);
  return sign * v;
}

/** Splits the source into text and actions (token lists), applying {{- and -}} trimming. */
function lex(src: string): Item[] {
  const items: Item[] = [];
  let i = 0;
  let trimNext = false;
  for (;;) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    if (open < 0) {
      if (text) items.push({ text });
      return items;
    }
    let p = open + 2;
    if (src[p] === '-' && SPACE.includes(src[p + 1] ?? 'x')) {
      text = text.replace(/[ \t\r\n]+$/, '');
      p += 2;
    }
    if (text) items.push({ text });
    if (src.startsWith('/*', p)) {
      const close = src.indexOf('*/', p + 2);
      if (close < 0) parseError('unclosed comment');
      const d = rightDelim(src, close + 2) ?? parseError('comment ends before closing delimiter');
      i = d.end;
      trimNext = d.trim;
      continue;
    }
    const toks: Tok[] = [];
    let space = false;
    let depth = 0;
    for (;;) {
      const d = rightDelim(src, p);
      if (d) {
        if (depth > 0) parseError('unclosed left paren');
        i = d.end;
        trimNext = d.trim;
        break;
      }
      if (p >= src.length) parseError('unclosed action');
      const c = src[p]!;
      if (SPACE.includes(c)) {
        space = true;
        p++;
        continue;
      }
      const start = p;
      const push = (kind: TokKind, end: number, lit?: string | number) => {
        toks.push({ kind, val: src.slice(start, end), lit, pos: start, end, space });
        p = end;
        space = false;
      };
      if (c === '"' || c === "'") {
        let j = p + 1;
        while (j < src.length && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
        if (src[j] !== c) parseError(c === '"' ? 'unterminated quoted string' : 'unterminated character constant');
        const body = unescape(src.slice(p + 1, j), c);
        if (c === "'" && [...body].length !== 1) parseError(`malformed character constant: ${src.slice(p, j + 1)}`);
        push(c === '"' ? 'str' : 'num', j + 1, c === '"' ? body : body.codePointAt(0));
      } else if (c === '`') {
        const j = src.indexOf('`', p + 1);
        if (j < 0) parseError('unterminated raw quoted string');
        push('str', j + 1, src.slice(p + 1, j));
      } else if (c === '$') {
        push('var', p + 1 + /^\w*/.exec(src.slice(p + 1))![0].length);
      } else if (c === '.' && !/\d/.test(src[p + 1] ?? '')) {
        push('field', p + (/^(?:\.[A-Za-z_]\w*)+/.exec(src.slice(p))?.[0].length ?? 1));
      } else if (/[A-Za-z_]/.test(c)) {
        push('ident', p + /^\w+/.exec(src.slice(p))![0].length);
      } else if (/[\d.+-]/.test(c)) {
        NUMBER.lastIndex = p;
        const m = NUMBER.exec(src)![0];
        if (!m || /\w/.test(src[p + m.length] ?? '')) parseError(`bad number syntax: "${src.slice(p, p + m.length + 1)}"`);
        push('num', p + m.length, numberValue(m));
      } else if (src.startsWith(':=', p)) push('declare', p + 2);
      else if (PUNCT[c]) {
        depth += c === '(' ? 1 : c === ')' ? -1 : 0;
        if (depth < 0) parseError('unexpected right paren');
        push(PUNCT[c], p + 1);
      } else parseError(`bad character U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} '${c}'`);
    }
    items.push({ toks });
  }
}

// ---- parser -----------------------------------------------------------------------------------

type Arg =
  | { k: 'field'; path: string[]; pos: number; src: string }
  | { k: 'var'; name: string; path: string[]; pos: number; src: string }
  | { k: 'fn'; name: string; pos: number; src: string }
  | { k: 'lit'; value: unknown; pos: number; src: string }
  | { k: 'paren'; cmds: Cmd[]; path: string[]; pos: number; src: string };
interface Cmd {
  args: Arg[];
  pos: number;
  src: string;
}
interface Pipe {
  decl: string[];
  assign: boolean;
  cmds: Cmd[];
}
interface Control {
  k: 'if' | 'with' | 'range';
  pipe: Pipe;
  list: Node[];
  else?: Node[];
}
type Node = { k: 'text'; text: string } | { k: 'action'; pipe: Pipe } | Control | { k: 'break' } | { k: 'continue' };

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block']);

class Parser {
  private i = 0;
  private vars = ['$'];
  private rangeDepth = 0;

  constructor(
    private readonly items: Item[],
    private readonly src: string,
  ) {}

  parse(): Node[] {
    return this.list([]).nodes;
  }

  /** Nodes up to one of `stops` ({{end}}, {{else}}), which is consumed and returned with its tokens. */
  private list(stops: string[]): { nodes: Node[]; stop: string; rest: Tok[] } {
    const nodes: Node[] = [];
    while (this.i < this.items.length) {
      const item = this.items[this.i++]!;
      if ('text' in item) {
        nodes.push({ k: 'text', text: item.text });
        continue;
      }
      const [first, ...rest] = item.toks;
      const kw = first?.kind === 'ident' && KEYWORDS.has(first.val) ? first.val : '';
      if (kw === 'end' || kw === 'else') {
        if (!stops.includes(kw)) parseError(`unexpected {{${kw}}}`);
        if (kw === 'end' && rest.length) parseError(`unexpected ${rest[0]!.val} in end`);
        return { nodes, stop: kw, rest };
      }
      if (kw === 'if' || kw === 'with' || kw === 'range') nodes.push(this.control(kw, rest));
      else if (kw === 'break' || kw === 'continue') {
        if (this.rangeDepth === 0) parseError(`{{${kw}}} outside {{range}}`);
        if (rest.length) parseError(`unexpected ${rest[0]!.val} in {{${kw}}}`);
        nodes.push({ k: kw });
      } else if (kw) parseError(`{{${kw}}} is not supported`);
      else nodes.push({ k: 'action', pipe: this.pipeline(item.toks, 'command') });
    }
    if (stops.length) parseError('unexpected EOF');
    return { nodes, stop: '', rest: [] };
  }

  /** if/with/range ... {{else}} (or {{else if}}, {{else with}}) ... {{end}}; declared variables end with it. */
  private control(kw: 'if' | 'with' | 'range', toks: Tok[]): Node {
    const mark = this.vars.length;
    const pipe = this.pipeline(toks, kw);
    if (kw === 'range') this.rangeDepth++;
    const body = this.list(['end', 'else']);
    if (kw === 'range') this.rangeDepth--;
    const node: Control = { k: kw, pipe, list: body.nodes };
    if (body.stop === 'else') {
      const [next, ...rest] = body.rest;
      if (next && kw !== 'range' && next.kind === 'ident' && next.val === kw) {
        // The chained control shares the one {{end}}.
        node.else = [this.control(kw, rest)];
      } else if (next) {
        parseError(`unexpected ${next.val} in else`);
      } else {
        node.else = this.list(['end']).nodes;
      }
    }
    this.vars.length = mark;
    return node;
  }

  private pipeline(toks: Tok[], context: string): Pipe {
    const pipe: Pipe = { decl: [], assign: false, cmds: [] };
    let t = toks;
    const isDecl = (k?: TokKind) => k === 'declare' || k === 'assign';
    if (t[0]?.kind === 'var' && isDecl(t[1]?.kind)) {
      pipe.decl = [t[0].val];
      pipe.assign = t[1]!.kind === 'assign';
      t = t.slice(2);
    } else if (t[0]?.kind === 'var' && t[1]?.kind === 'comma' && t[2]?.kind === 'var' && isDecl(t[3]?.kind)) {
      if (context !== 'range') parseError(`too many declarations in ${context}`);
      pipe.decl = [t[0].val, t[2].val];
      pipe.assign = t[3]!.kind === 'assign';
      t = t.slice(4);
    }
    for (const v of pipe.decl) {
      if (pipe.assign && !this.vars.includes(v)) parseError(`undefined variable "${v}"`);
      if (!pipe.assign) this.vars.push(v);
    }
    const cursor = { toks: t, i: 0 };
    pipe.cmds = this.commands(cursor, false, context);
    if (cursor.i < t.length) parseError(`unexpected ${t[cursor.i]!.val} in ${context}`);
    return pipe;
  }

  private commands(c: { toks: Tok[]; i: number }, inParen: boolean, context: string): Cmd[] {
    const cmds: Cmd[] = [];
    for (;;) {
      const args: Arg[] = [];
      const firstTok = c.toks[c.i];
      while (c.i < c.toks.length && c.toks[c.i]!.kind !== 'pipe' && c.toks[c.i]!.kind !== 'rparen') args.push(this.operand(c));
      const next = c.toks[c.i];
      if (!args.length) parseError(next || cmds.length ? 'empty command' : `missing value for ${context}`);
      const first = args[0]!;
      if (cmds.length && (first.k === 'lit' || (first.k === 'field' && first.path.length === 0))) {
        parseError(`non executable command in pipeline stage ${cmds.length + 1}`);
      }
      cmds.push({ args, pos: firstTok!.pos, src: this.src.slice(firstTok!.pos, c.toks[c.i - 1]!.end) });
      if (!next) break;
      c.i++;
      if (next.kind === 'rparen') {
        if (!inParen) parseError('unexpected right paren');
        return cmds;
      }
    }
    if (inParen) parseError('unclosed left paren');
    return cmds;
  }

  private operand(c: { toks: Tok[]; i: number }): Arg {
    const t = c.toks[c.i++]!;
    const src = t.val;
    let arg: Arg;
    switch (t.kind) {
      case 'field': {
        const path = t.val === '.' ? [] : t.val.slice(1).split('.');
        // Go reports a chain at its second element.
        arg = { k: 'field', path, pos: path.length > 1 ? t.pos + 1 + path[0]!.length : t.pos, src };
        break;
      }
      case 'var':
        if (!this.vars.includes(t.val)) parseError(`undefined variable "${t.val}"`);
        arg = { k: 'var', name: t.val, path: [], pos: t.pos, src };
        break;
      case 'str':
      case 'num':
        arg = { k: 'lit', value: t.lit, pos: t.pos, src };
        break;
      case 'ident':
        if (t.val === 'true' || t.val === 'false' || t.val === 'nil') {
          arg = { k: 'lit', value: t.val === 'nil' ? null : t.val === 'true', pos: t.pos, src };
        } else if (KEYWORDS.has(t.val)) {
          parseError(`unexpected <${t.val}> in operand`);
        } else {
          if (!Object.hasOwn(FUNCS, t.val)) parseError(`function "${t.val}" not defined`);
          arg = { k: 'fn', name: t.val, pos: t.pos, src };
        }
        break;
      case 'lparen': {
        const cmds = this.commands(c, true, 'parenthesized pipeline');
        arg = { k: 'paren', cmds, path: [], pos: t.pos, src: this.src.slice(t.pos, c.toks[c.i - 1]!.end) };
        break;
      }
      default:
        parseError(`unexpected "${t.val}" in operand`);
    }
    // A field chained onto a term: `$x.A`, `(pipeline).A`.
    const next = c.toks[c.i];
    if (next?.kind === 'field' && !next.space) {
      if ((arg.k !== 'var' && arg.k !== 'paren') || next.val === '.') parseError(`unexpected . after term "${arg.src}"`);
      c.i++;
      arg.path = next.val.slice(1).split('.');
      arg.src += next.val;
      arg.pos = next.pos;
    }
    return arg;
  }
}

// ---- values -----------------------------------------------------------------------------------

/** An argument of the wrong type: reported as it is, not as "error calling f". */
class ArgError extends Error {}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The Go type docker's data would have, for error messages. */
function goType(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (Array.isArray(v)) return '[]interface {}';
  if (typeof v === 'object') return 'map[string]interface {}';
  return typeof v === 'boolean' ? 'bool' : 'string';
}

function goNumber(n: number): string {
  return Number.isInteger(n) && Math.abs(n) < 1e21 ? String(n) : formatFloat(n, 'g', -1);
}

/** Go's %v: `[a b]`, `map[k:v]` (keys sorted), `<nil>`. */
export function goString(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (isMap(v)) {
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goString(v[k])}`)
      .join(' ')}]`;
  }
  return String(v);
}

/** Go's truth: false, 0, nil, and empty strings, lists and maps are false. */
function truth(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return v !== undefined && v !== null && v !== false && v !== 0 && v !== '';
}

/** Go's json.Marshal as docker calls it (no HTML escaping); Go always escapes U+2028/9. */
function goJson(v: unknown): string {
  return (JSON.stringify(v) ?? 'null').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Go's strconv.Quote. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const named = { '\x07': 'a', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v', '"': '"', '\\': '\\' }[ch];
    if (named) out += `\\${named}`;
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (ch !== ' ' && /[\p{C}\p{Z}]/u.test(ch)) out += c < 0x10000 ? `\\u${c.toString(16).padStart(4, '0')}` : `\\U${c.toString(16).padStart(8, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) throw new ArgError('invalid value; expected string');
  return goString(v);
}

function int(v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw new ArgError(`wrong type for value; expected int; got ${goType(v)}`);
}

/** Go's strings.Title: a letter after a separator (ASCII non-word, or Unicode space) is upper-cased. */
function title(s: string): string {
  const separator = (ch: string) => (ch.codePointAt(0)! < 0x80 ? !/[A-Za-z0-9_]/.test(ch) : !/[\p{L}\p{Nd}]/u.test(ch) && /\s/u.test(ch));
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    out += separator(prev) ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

/** One Go fmt verb, or undefined when the value's type does not suit it (Go prints %!d(string=x)). */
function formatVerb(verb: string, a: unknown, prec: number, plus: boolean): string | undefined {
  const isInt = typeof a === 'number' && Number.isInteger(a);
  const signed = (s: string) => (plus && !s.startsWith('-') ? `+${s}` : s);
  switch (verb) {
    case 'v':
      return goString(a);
    case 's':
      if (typeof a !== 'string' && !Array.isArray(a) && !isMap(a)) return undefined;
      return prec >= 0 ? [...goString(a)].slice(0, prec).join('') : goString(a);
    case 'q':
      return typeof a === 'string' ? goQuote(a) : isInt ? `'${String.fromCodePoint(a as number)}'` : undefined;
    case 't':
      return typeof a === 'boolean' ? String(a) : undefined;
    case 'd':
      return isInt ? signed(String(a)) : undefined;
    case 'x':
    case 'X': {
      const hex = typeof a === 'string' ? Buffer.from(a).toString('hex') : isInt ? (a as number).toString(16) : undefined;
      return verb === 'X' ? hex?.toUpperCase() : hex;
    }
    case 'e':
    case 'f':
    case 'g':
      return typeof a === 'number' ? signed(formatFloat(a, verb, prec >= 0 ? prec : verb === 'g' ? -1 : 6)) : undefined;
    default:
      return undefined;
  }
}

/** Go's fmt.Sprintf for the verbs templates use, with Go's %!verb(...) for mistakes. */
function sprintf(format: string, args: unknown[]): string {
  let n = 0;
  const out = format.replace(/%([-+ 0]*)(\d*)(?:\.(\d*))?([a-zA-Z%]?)/g, (_m, flags: string, width: string, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (!verb) return '%!(NOVERB)';
    if (n >= args.length) return `%!${verb}(MISSING)`;
    const a = args[n++];
    const s = formatVerb(verb, a, prec === undefined ? -1 : Number(prec), flags.includes('+'));
    if (s === undefined) return `%!${verb}(${a === undefined || a === null ? '<nil>' : `${goType(a)}=${goString(a)}`})`;
    const fill = Math.max(Number(width || 0) - [...s].length, 0);
    if (flags.includes('-')) return s + ' '.repeat(fill);
    if (flags.includes('0') && typeof a === 'number') return s.replace(/^[+-]?/, (sign) => sign + '0'.repeat(fill));
    return ' '.repeat(fill) + s;
  });
  return n < args.length ? `${out}%!(EXTRA ${args.slice(n).map((a) => `${goType(a)}=${goString(a)}`).join(', ')})` : out;
}

/** Go slices strings by bytes; a character cut in two is left out rather than printed broken. */
function byteSlice(s: string, from: number, to: number): string {
  let out = '';
  let pos = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (pos >= from && pos + n <= to) out += ch;
    pos += n;
  }
  return out;
}

/** Go's lt/le/gt/ge: numbers with numbers, strings with strings. */
function compare(a: unknown, b: unknown): number {
  if ((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')) return a < b ? -1 : a > b ? 1 : 0;
  const basic = (x: unknown) => typeof x === 'number' || typeof x === 'string';
  throw new Error(basic(a) && basic(b) ? 'incompatible types for comparison' : 'invalid type for comparison');
}

function eq(a: unknown, b: unknown): boolean {
  const nil = (x: unknown) => x === undefined || x === null;
  if (nil(a) || nil(b)) return nil(a) && nil(b);
  if (typeof a === 'object' || typeof b === 'object') throw new Error('invalid type for comparison');
  if (typeof a !== typeof b) throw new Error('incompatible types for comparison');
  return a === b;
}

interface Func {
  fn: (...args: unknown[]) => unknown;
  /** Fixed arity, or [min] for variadic functions. */
  arity: number | [number];
}

const FUNCS: Record<string, Func> = {
  // docker's template functions (cli/templates)
  json: { fn: (v) => goJson(v), arity: 1 },
  split: { fn: (s, sep) => (str(sep) === '' ? [...str(s)] : str(s).split(str(sep))), arity: 2 },
  join: { fn: (list, sep) => (Array.isArray(list) ? list.map(str).join(str(sep)) : str(list)), arity: 2 },
  title: { fn: (s) => title(str(s)), arity: 1 },
  lower: { fn: (s) => str(s).toLowerCase(), arity: 1 },
  upper: { fn: (s) => str(s).toUpperCase(), arity: 1 },
  pad: { fn: (s, l, r) => (str(s) === '' ? '' : `${' '.repeat(Math.max(int(l), 0))}${str(s)}${' '.repeat(Math.max(int(r), 0))}`), arity: 3 },
  truncate: { fn: (s, n) => byteSlice(str(s), 0, int(n)), arity: 2 },
  // Go's builtins
  len: {
    fn: (v) => {
      if (typeof v === 'string') return Buffer.byteLength(v);
      if (Array.isArray(v)) return v.length;
      if (isMap(v)) return Object.keys(v).length;
      throw new Error(v === undefined || v === null ? 'len of nil pointer' : `len of type ${goType(v)}`);
    },
    arity: 1,
  },
  index: {
    fn: (v, ...keys) =>
      keys.reduce((cur: unknown, k) => {
        if (Array.isArray(cur) || typeof cur === 'string') {
          const i = int(k);
          const list = typeof cur === 'string' ? Buffer.from(cur) : cur;
          if (i < 0 || i >= list.length) throw new Error(`index out of range: ${i}`);
          return list[i];
        }
        // A missing key is the zero value of docker's map[string]string: the empty string.
        if (cur === undefined || cur === null) return '';
        if (!isMap(cur)) throw new Error(`can't index item of type ${goType(cur)}`);
        return Object.hasOwn(cur, str(k)) ? cur[str(k)] : '';
      }, v),
    arity: [1],
  },
  slice: {
    fn: (v, ...ix) => {
      if (typeof v !== 'string' && !Array.isArray(v)) throw new Error(`can't slice item of type ${goType(v)}`);
      const len = typeof v === 'string' ? Buffer.byteLength(v) : v.length;
      const [from = 0, to = len] = ix.map(int);
      if (from < 0 || to > len || from > to) throw new Error(`index out of range: ${from > to ? from : to}`);
      return typeof v === 'string' ? byteSlice(v, from, to) : v.slice(from, to);
    },
    arity: [1],
  },
  print: { fn: (...a) => a.map((x, i) => (i > 0 && typeof x !== 'string' && typeof a[i - 1] !== 'string' ? ' ' : '') + goString(x)).join(''), arity: [0] },
  println: { fn: (...a) => `${a.map(goString).join(' ')}\n`, arity: [0] },
  printf: { fn: (f, ...a) => sprintf(str(f), a), arity: [1] },
  not: { fn: (v) => !truth(v), arity: 1 },
  eq: { fn: (a, ...bs) => bs.some((b) => eq(a, b)), arity: [2] },
  ne: { fn: (a, b) => !eq(a, b), arity: 2 },
  lt: { fn: (a, b) => compare(a, b) < 0, arity: 2 },
  le: { fn: (a, b) => compare(a, b) <= 0, arity: 2 },
  gt: { fn: (a, b) => compare(a, b) > 0, arity: 2 },
  ge: { fn: (a, b) => compare(a, b) >= 0, arity: 2 },
  // Evaluated lazily by the executor (Go short-circuits them); listed so the parser knows them.
  and: { fn: () => undefined, arity: [1] },
  or: { fn: () => undefined, arity: [1] },
};

/**
 * docker's HeaderFunctions: in a table header these return the header name untouched. index and
 * slice too, here: our rows may hold lists where docker's held strings, and a header is a string.
 */
const HEADER_FUNCS = new Set(['json', 'split', 'join', 'title', 'lower', 'upper', 'pad', 'truncate', 'index', 'slice']);

// ---- executor ---------------------------------------------------------------------------------

const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');
const NONE = Symbol('no final value');

class Exec {
  out = '';
  private vars: { name: string; value: unknown }[] = [];

  constructor(
    private readonly src: string,
    /** Rendering a table header: fields name headers, formatting functions pass them through. */
    private readonly header?: (path: string[]) => string,
    /** Objects that stand for docker's Go structs (a row of ps, images...): a field they lack is an error. */
    private readonly structs?: Set<unknown>,
  ) {}

  run(nodes: Node[], data: unknown): string {
    this.vars = [{ name: '$', value: data }];
    this.walk(nodes, data);
    return this.out;
  }

  private fail(at: { pos: number; src: string }, msg: string): never {
    const before = this.src.slice(0, at.pos);
    const line = before.split('\n').length;
    const col = at.pos - (before.lastIndexOf('\n') + 1);
    throw new TsctrError(`template: :${line}:${col}: executing "" at <${at.src}>: ${msg}`);
  }

  private walk(nodes: Node[], dot: unknown): void {
    for (const n of nodes) {
      if (n.k === 'text') this.out += n.text;
      else if (n.k === 'action') {
        const v = this.pipe(n.pipe, dot);
        if (!n.pipe.decl.length) this.out += v === undefined ? '<no value>' : goString(v);
      } else if (n.k === 'break') throw BREAK;
      else if (n.k === 'continue') throw CONTINUE;
      else {
        const mark = this.vars.length;
        try {
          if (n.k === 'range') this.range(n, dot);
          else {
            const v = this.pipe(n.pipe, dot);
            if (truth(v)) this.walk(n.list, n.k === 'with' ? v : dot);
            else if (n.else) this.walk(n.else, dot);
          }
        } finally {
          this.vars.length = mark;
        }
      }
    }
  }

  private range(n: Control, dot: unknown): void {
    const v = this.cmds(n.pipe.cmds, dot);
    let entries: [unknown, unknown][];
    if (Array.isArray(v)) entries = v.map((x, i) => [i, x]);
    else if (isMap(v)) entries = Object.keys(v).sort().map((k) => [k, v[k]]);
    else if (typeof v === 'number' && Number.isInteger(v)) entries = Array.from({ length: Math.max(v, 0) }, (_, i) => [i, i]);
    else if (v === undefined || v === null) entries = [];
    else this.fail(n.pipe.cmds[0]!, `range can't iterate over ${goString(v)}`);
    if (!entries.length) {
      if (n.else) this.walk(n.else, dot);
      return;
    }
    const mark = this.vars.length;
    for (const [key, elem] of entries) {
      const [a, b] = n.pipe.decl;
      // One variable takes the element; two take key and element.
      if (b !== undefined) {
        this.setVar(a!, key, n.pipe.assign);
        this.setVar(b, elem, n.pipe.assign);
      } else if (a !== undefined) this.setVar(a, elem, n.pipe.assign);
      try {
        this.walk(n.list, elem);
      } catch (e) {
        if (e === BREAK) break;
        if (e !== CONTINUE) throw e;
      } finally {
        this.vars.length = mark;
      }
    }
  }

  private setVar(name: string, value: unknown, assign: boolean): void {
    if (!assign) {
      this.vars.push({ name, value });
      return;
    }
    const v = this.vars.findLast((x) => x.name === name);
    if (v) v.value = value;
  }

  private pipe(pipe: Pipe, dot: unknown): unknown {
    const v = this.cmds(pipe.cmds, dot);
    for (const name of pipe.decl) this.setVar(name, v, pipe.assign);
    return v;
  }

  private cmds(cmds: Cmd[], dot: unknown): unknown {
    let value: unknown = NONE;
    for (const c of cmds) value = this.cmd(c, dot, value);
    return value;
  }

  private cmd(c: Cmd, dot: unknown, final: unknown): unknown {
    const [head, ...args] = c.args as [Arg, ...Arg[]];
    if (head.k === 'fn') return this.call(head.name, args, dot, final, c);
    if (head.k === 'lit' && head.value === null) this.fail(c, 'nil is not a command');
    if (args.length || final !== NONE) this.fail(c, `can't give argument to non-function ${head.src}`);
    return this.arg(head, dot);
  }

  private call(name: string, argNodes: Arg[], dot: unknown, final: unknown, at: { pos: number; src: string }): unknown {
    const f = FUNCS[name]!;
    const count = argNodes.length + (final === NONE ? 0 : 1);
    const arity = f.arity;
    if (typeof arity === 'number' ? count !== arity : count < arity[0]) {
      this.fail(at, `wrong number of args for ${name}: want ${typeof arity === 'number' ? arity : `at least ${arity[0]}`} got ${count}`);
    }
    if (name === 'and' || name === 'or') {
      let v: unknown;
      for (const a of argNodes) {
        v = this.arg(a, dot);
        if (truth(v) === (name === 'or')) return v;
      }
      return final === NONE ? v : final;
    }
    const values = argNodes.map((a) => this.arg(a, dot));
    if (final !== NONE) values.push(final);
    if (this.header && HEADER_FUNCS.has(name)) return values[0];
    try {
      return f.fn(...values);
    } catch (e) {
      if (e instanceof ArgError) this.fail(at, e.message);
      this.fail(at, `error calling ${name}: ${(e as Error).message}`);
    }
  }

  private arg(a: Arg, dot: unknown): unknown {
    switch (a.k) {
      case 'lit':
        return a.value;
      case 'fn':
        return this.call(a.name, [], dot, NONE, a);
      case 'field':
        return this.field(dot, a.path, a);
      case 'var':
        return this.field(this.vars.findLast((v) => v.name === a.name)?.value, a.path, a);
      case 'paren':
        return this.field(this.cmds(a.cmds, dot), a.path, a);
    }
  }

  /** Go's field chain: a missing map key is no value; a field of a string is an error. */
  private field(recv: unknown, path: string[], at: { pos: number; src: string }): unknown {
    if (this.header && path.length) return this.header(path);
    let v = recv;
    for (const name of path) {
      if (v === undefined || v === null) return undefined;
      if (!isMap(v)) this.fail(at, `can't evaluate field ${name} in type ${goType(v)}`);
      if (this.structs?.has(v) && !(name in v)) this.fail(at, `can't evaluate field ${name} in type struct`);
      // Own data, or a getter/method of the row's class; never Object.prototype's members.
      const x = Object.hasOwn(v, name) || !(name in Object.prototype) ? v[name] : undefined;
      v = typeof x === 'function' ? (x as () => unknown).call(v) : x;
    }
    return v;
  }
}

// ---- public API -------------------------------------------------------------------------------

function parse(src: string): Node[] {
  return new Parser(lex(src), src).parse();
}

/** Parses once (errors: `template parsing error: ...`); the function runs it over data. */
export function compileTemplate(src: string): (data: unknown) => string {
  const nodes = parse(src);
  return (data) => new Exec(src).run(nodes, data);
}

export interface FormatSpec {
  table: boolean;
  template: string;
}

/**
 * docker's preFormat: `table` as a prefix makes a table of the rest, `json` means `{{json .}}`,
 * spaces (only) are trimmed, and the two-character sequences \t and \n become TAB and newline.
 */
export function parseFormat(format: string): FormatSpec {
  const table = format.startsWith('table');
  let f = table ? format.slice(5) : format === 'json' ? '{{json .}}' : format;
  f = f.replace(/^ +| +$/g, '').replace(/\\t|\\n/g, (m) => (m === '\\t' ? '\t' : '\n'));
  return { table, template: f };
}

/**
 * Go's text/tabwriter as docker sets it up (minwidth 10, tabwidth 1, padding 3, spaces, no
 * flags): a cell is tab-terminated, so a row's last cell is not in any column; a column is
 * sized per block of consecutive rows that have it, as tabwriter does.
 */
export function renderTable(rows: string[][]): string {
  const width = (s: string) => [...s].length;
  const cellWidth: number[][] = rows.map(() => []);
  const layout = (line0: number, line1: number, column: number): void => {
    for (let row = line0; row < line1; row++) {
      if (column >= rows[row]!.length - 1) continue;
      let end = row;
      let w = 10;
      while (end < line1 && column < rows[end]!.length - 1) w = Math.max(w, width(rows[end++]![column]!) + 3);
      for (let r = row; r < end; r++) cellWidth[r]![column] = w;
      layout(row, end, column + 1);
      row = end - 1;
    }
  };
  layout(0, rows.length, 0);
  const line = (cells: string[], r: number) => cells.map((cell, c) => (c < cells.length - 1 ? cell + ' '.repeat(cellWidth[r]![c]! - width(cell)) : cell)).join('');
  return rows.map((cells, r) => `${line(cells, r)}\n`).join('');
}

/**
 * docker's formatter: in a table, a header line (the template run over `headers`, field names
 * missing there shown upper-cased) and the rows, aligned; otherwise each row's output and a newline.
 */
/** `{{.Field}}` placeholders in literal text and nothing else: the shape of every default table. */
const PLAIN_FIELDS = /^(?:[^{}]|\{\{\.[A-Za-z_]\w*\}\})*$/;
const FIELD = /\{\{\.(\w+)\}\}/g;

export function formatRows(format: string, rows: object[], headers: Record<string, string>, defaultTable: string): string {
  const spec = parseFormat(format === '' || format === 'table' ? defaultTable : format);
  const own = (k: string) => (Object.hasOwn(headers, k) ? headers[k] : undefined);
  const headerOf = (path: string[]) => own(path.join('.')) ?? own(path.at(-1)!) ?? path.at(-1)!.toUpperCase();
  // Plain fields over string values are a substitution: the same text as the template engine
  // gives, without loading and running it (ps of a hundred containers spent 3 ms there).
  const keys = PLAIN_FIELDS.test(spec.template) ? [...spec.template.matchAll(FIELD)].map((m) => m[1]!) : undefined;
  const all = rows as Record<string, unknown>[];
  const plain = keys !== undefined && all.every((r) => keys.every((k) => typeof r[k] === 'string'));
  let body: string;
  let header = () => new Exec(spec.template, headerOf).run(parse(spec.template), headers);
  if (plain) {
    body = all.map((r) => `${spec.template.replace(FIELD, (_, k: string) => r[k] as string)}\n`).join('');
    header = () => spec.template.replace(FIELD, (_, k: string) => headerOf([k]));
  } else {
    const nodes = parse(spec.template);
    const structs = new Set<unknown>(rows);
    body = rows.map((r) => `${new Exec(spec.template, undefined, structs).run(nodes, r)}\n`).join('');
  }
  if (!spec.table) return body;
  const text = `${header()}\n${body}`;
  return renderTable(text.slice(0, -1).split('\n').map((l) => l.split('\t')));
}
