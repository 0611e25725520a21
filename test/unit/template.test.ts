import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TsctrError } from '../../src/errors.js';
import { compileTemplate, formatRows, parseFormat, renderTable } from '../../src/util/template.js';

const DATA = {
  Name: 'web',
  ID: '0123456789abcdef0123',
  Labels: { a: '1', 'b.c': '2', z: '' },
  Cmd: ['nginx', '-g', 'daemon off;'],
  Empty: [] as string[],
  NoLabels: {},
  N: 0,
  Size: 1234,
  Ratio: 1.5,
  Running: true,
  Stopped: false,
  Nil: null,
  Nested: { X: { Y: 'deep' } },
  Unicode: 'héllo',
};
const t = (src: string, data: unknown = DATA) => compileTemplate(src)(data);
const cases = (list: [string, string][], data: unknown = DATA) => {
  for (const [src, want] of list) assert.equal(t(src, data), want, src);
};

test('text and fields', () => {
  cases([
    ['', ''],
    ['plain text', 'plain text'],
    ['{{.Name}}', 'web'],
    ['<{{.Name}}>{{.Name}}', '<web>web'],
    ['{{.Nested.X.Y}}', 'deep'],
    ['{{.Missing}}', '<no value>'],
    ['{{.Missing.X.Y}}', '<no value>'],
    ['{{.Nil}}', '<nil>'],
    ['{{.Size}} {{.Ratio}} {{.N}}', '1234 1.5 0'],
    ['{{.Running}} {{.Stopped}}', 'true false'],
    ['{{ .Name }}', 'web'],
    ['{{\n.Name\n}}', 'web'],
    ['a } b }} c {', 'a } b }} c {'],
  ]);
});

test('Go default printing: lists, maps (sorted keys), the dot', () => {
  cases([
    ['{{.Cmd}}', '[nginx -g daemon off;]'],
    ['{{.Empty}}', '[]'],
    ['{{.Labels}}', 'map[a:1 b.c:2 z:]'],
    ['{{.NoLabels}}', 'map[]'],
    ['{{.Nested}}', 'map[X:map[Y:deep]]'],
  ]);
  assert.equal(t('{{.}}', { b: [1], a: '1', c: null }), 'map[a:1 b:[1] c:<nil>]');
  assert.equal(t('{{.}}', 'just a string'), 'just a string');
  assert.equal(t('{{.}}', [1, 'two', null, [3]]), '[1 two <nil> [3]]');
  assert.equal(t('{{.}}', 1e6), '1000000');
  assert.equal(t('{{.}}', 0.000001), '1e-06');
  assert.equal(t('{{.}}', 1234567.5), '1.2345675e+06');
});

test('json: compact, keys in object order, no HTML escaping', () => {
  cases([
    ['{{json .Cmd}}', '["nginx","-g","daemon off;"]'],
    ['{{json .Labels}}', '{"a":"1","b.c":"2","z":""}'],
    ['{{.Labels | json}}', '{"a":"1","b.c":"2","z":""}'],
    ['{{json .Missing}}', 'null'],
    ['{{json .Nil}}', 'null'],
    ['{{json .Running}}', 'true'],
    ['{{json .Name}}', '"web"'],
  ]);
  assert.equal(t('{{json .}}', { z: 1, a: [true, null], '<b>': 'x&y' }), '{"z":1,"a":[true,null],"<b>":"x&y"}');
  assert.equal(t('{{json .}}', 'a\u2028b'), '"a\\u2028b"');
});

test('pipelines pass the value as the last argument', () => {
  cases([
    ['{{.Name | upper}}', 'WEB'],
    ['{{.Name | upper | lower}}', 'web'],
    ['{{"b" | printf "%s-%s" "a"}}', 'a-b'],
    ['{{.Cmd | len}}', '3'],
    // The piped value comes last: here it is truncate's length, as in Go.
    ['{{12 | truncate .ID}}', '0123456789ab'],
    ['{{(index .Nested "X").Y}}', 'deep'],
    ['{{(.Nested).X.Y}}', 'deep'],
    ['{{len (split "a,b,c" ",")}}', '3'],
  ]);
});

test('docker functions', () => {
  cases([
    ['{{upper .Name}} {{lower "ABC"}}', 'WEB abc'],
    ['{{title "hello wORLD-foo_bar élan"}}', 'Hello WORLD-Foo_bar Élan'],
    ['{{join .Cmd ","}}', 'nginx,-g,daemon off;'],
    ['{{join .Empty ","}}', ''],
    ['{{split "a,b,c" ","}}', '[a b c]'],
    ['{{split "abc" ""}}', '[a b c]'],
    ['{{index .Labels "b.c"}}', '2'],
    ['[{{index .Labels "nope"}}]', '[]'],
    ['[{{index .Nil "k"}}]', '[]'],
    ['{{index .Cmd 0}}', 'nginx'],
    ['{{index .Nested "X" "Y"}}', 'deep'],
    ['{{len .Cmd}} {{len .Labels}} {{len .Name}} {{len .Unicode}}', '3 3 3 6'],
    ['{{truncate .ID 12}}', '0123456789ab'],
    ['{{truncate .Name 10}}', 'web'],
    ['{{truncate .Unicode 2}}', 'h'],
    ['[{{pad .Name 2 1}}]', '[  web ]'],
    ['[{{pad "" 2 1}}]', '[]'],
    ['{{slice .Cmd 1}}', '[-g daemon off;]'],
    ['{{slice .Cmd 1 2}}', '[-g]'],
    ['{{slice .Name 1 3}}', 'eb'],
  ]);
});

test('print, println, printf', () => {
  cases([
    ['{{print 1 2 "a" "b" 3}}', '1 2ab3'],
    ['{{println .Name 1}}', 'web 1\n'],
    ['{{printf "%s is %d" .Name .Size}}', 'web is 1234'],
    ['{{printf "%v|%v|%v" .Cmd .Labels .Running}}', '[nginx -g daemon off;]|map[a:1 b.c:2 z:]|true'],
    ['{{printf "%q" .Name}}', '"web"'],
    ['{{printf "%q" "tab\\there \\"q\\""}}', '"tab\\there \\"q\\""'],
    ['{{printf "%5s|%-5s|%05d|%+d" "a" "b" 42 7}}', '    a|b    |00042|+7'],
    ['{{printf "%.2f %e %g" 3.14159 1234.5678 0.5}}', '3.14 1.234568e+03 0.5'],
    ['{{printf "%x %X %x" 255 255 "hi"}}', 'ff FF 6869'],
    ['{{printf "%t %.3s %%" true "abcdef"}}', 'true abc %'],
    ['{{printf "%d" "x"}}', '%!d(string=x)'],
    ['{{printf "%s" 5}}', '%!s(int=5)'],
    ['{{printf "%s"}}', '%!s(MISSING)'],
    ['{{printf "%s" "a" "b"}}', 'a%!(EXTRA string=b)'],
    ['{{printf "%d" .Nil}}', '%!d(<nil>)'],
    ['{{printf "100%"}}', '100%!(NOVERB)'],
  ]);
});

test('if / else if / else, with Go truthiness', () => {
  const truthy = ['.Name', '.Cmd', '.Labels', '.Size', '.Ratio', '.Running', '1', '"x"', 'true'];
  const falsy = ['.N', '.Empty', '.NoLabels', '.Stopped', '.Nil', '.Missing', '""', '0', 'false', '(not 1)'];
  for (const v of truthy) assert.equal(t(`{{if ${v}}}T{{else}}F{{end}}`), 'T', v);
  for (const v of falsy) assert.equal(t(`{{if ${v}}}T{{else}}F{{end}}`), 'F', v);
  cases([
    ['{{if eq .Name "x"}}x{{else if eq .Name "web"}}w{{else}}z{{end}}', 'w'],
    ['{{if eq .Name "x"}}x{{else if eq .Name "y"}}y{{else}}z{{end}}', 'z'],
    ['{{if .N}}n{{end}}', ''],
    ['{{if not .N}}zero{{end}}', 'zero'],
  ]);
});

test('and/or short-circuit and return a value, not a boolean', () => {
  cases([
    ['{{and .Name .Size}}', '1234'],
    ['{{and .N .Name}}', '0'],
    ['{{or .N .Empty .Name}}', 'web'],
    ['{{or .N .Stopped}}', 'false'],
    // The second operand would fail if evaluated.
    ['{{if and .Cmd (index .Cmd 2)}}ok{{end}}', 'ok'],
    ['{{if or .Name (index .Empty 5)}}ok{{end}}', 'ok'],
    ['{{if and .Empty (index .Empty 5)}}bad{{else}}ok{{end}}', 'ok'],
  ]);
});

test('comparisons', () => {
  cases([
    ['{{eq .Name "web"}} {{eq .Size 1234}} {{eq .Name "a" "b" "web"}}', 'true true true'],
    ['{{ne .Name "web"}} {{ne 1 2}}', 'false true'],
    ['{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}', 'true true true false'],
    ['{{eq .Missing "x"}} {{eq .Nil .Missing}}', 'false true'],
  ]);
});

test('range over lists, maps (sorted), integers; else; break and continue', () => {
  cases([
    ['{{range .Cmd}}[{{.}}]{{end}}', '[nginx][-g][daemon off;]'],
    ['{{range $i, $e := .Cmd}}{{$i}}={{$e}};{{end}}', '0=nginx;1=-g;2=daemon off;;'],
    ['{{range $e := .Cmd}}{{$e}},{{end}}', 'nginx,-g,daemon off;,'],
    ['{{range $k, $v := .Labels}}{{$k}}={{$v}} {{end}}', 'a=1 b.c=2 z= '],
    ['{{range .Labels}}<{{.}}>{{end}}', '<1><2><>'],
    ['{{range .Empty}}x{{else}}empty{{end}}', 'empty'],
    ['{{range .Missing}}x{{else}}none{{end}}', 'none'],
    ['{{range .Nil}}x{{end}}', ''],
    ['{{range 3}}{{.}}{{end}}', '012'],
    ['{{range .Cmd}}{{if eq . "-g"}}{{break}}{{end}}{{.}}{{end}}', 'nginx'],
    ['{{range .Cmd}}{{if eq . "-g"}}{{continue}}{{end}}{{.}} {{end}}', 'nginx daemon off; '],
    ['{{range .Cmd}}{{$.Name}}:{{.}} {{end}}', 'web:nginx web:-g web:daemon off; '],
  ]);
  assert.equal(t('{{range .}}{{range .}}{{.}}{{end}};{{end}}', [[1, 2], [3]]), '12;3;');
  // Maps are visited in key order, whatever the insertion order.
  assert.equal(t('{{range $k, $v := .}}{{$k}}={{$v}} {{end}}', { z: 1, a: 2, m: 3 }), 'a=2 m=3 z=1 ');
  assert.equal(t('{{range .}}{{.}}{{end}}', { z: 1, a: 2, m: 3 }), '231');
});

test('with sets the dot; else with', () => {
  cases([
    ['{{with .Nested.X}}{{.Y}}{{end}}', 'deep'],
    ['{{with .Missing}}x{{else}}no{{end}}', 'no'],
    ['{{with .Missing}}x{{else with .Name}}{{.}}{{end}}', 'web'],
    ['{{with $x := .Name}}{{$x}}{{.}}{{end}}', 'webweb'],
  ]);
});

test('variables: declaration, assignment, scope, $', () => {
  cases([
    ['{{$x := .Name}}{{$x}}', 'web'],
    ['{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}', '2'],
    ['{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}', '21'],
    ['{{$.Name}}{{with .Nested}}{{$.Name}}{{end}}', 'webweb'],
    ['{{$n := len .Cmd}}{{printf "%d items" $n}}', '3 items'],
    ['{{$l := .Labels}}{{$l.a}}', '1'],
  ]);
});

test('literals: strings with escapes, raw strings, numbers, chars', () => {
  cases([
    ['{{"a\\tb\\n\\"c\\"\\\\"}}', 'a\tb\n"c"\\'],
    ['{{"\\x41\\u00e9\\101"}}', 'AéA'],
    ['{{`raw \\n {{not an action}}`}}', 'raw \\n {{not an action}}'],
    ['{{1}} {{-3}} {{1.5}} {{1e3}} {{0x1F}} {{017}} {{1_000}}', '1 -3 1.5 1000 31 15 1000'],
    ["{{'a'}}", '97'],
    ['{{true}} {{false}}', 'true false'],
  ]);
});

test('trim markers and comments', () => {
  cases([
    ['a  {{- .Name -}}  b', 'awebb'],
    ['a \n\t {{- .Name}} b', 'aweb b'],
    ['a {{.Name -}} \n b', 'a webb'],
    ['{{/* a comment */}}x', 'x'],
    ['x{{/* multi\nline */}}y', 'xy'],
    ['a  {{- /* c */ -}}  b', 'ab'],
    ['{{range .Cmd -}}\n  {{.}}\n{{- end}}', 'nginx-gdaemon off;'],
    ['{{-3}}', '-3'],
  ]);
});

test('methods and getters of row objects are called', () => {
  class Row {
    constructor(private readonly id: string) {}
    get ID() {
      return this.id.slice(0, 3);
    }
    Short() {
      return `${this.id}!`;
    }
  }
  assert.equal(t('{{.ID}} {{.Short}}', new Row('abcdef')), 'abc abcdef!');
  assert.equal(t('{{.constructor}}|{{.toString}}|{{.hasOwnProperty}}', {}), '<no value>|<no value>|<no value>');
});

test('parse errors: template parsing error: ...', () => {
  const errors: [string, string][] = [
    ['{{.Name', 'unclosed action'],
    ['{{if .X}}', 'unexpected EOF'],
    ['{{range .X}}{{else}}', 'unexpected EOF'],
    ['{{end}}', 'unexpected {{end}}'],
    ['{{else}}', 'unexpected {{else}}'],
    ['{{if .X}}{{else}}{{else}}{{end}}', 'unexpected {{else}}'],
    ['{{nosuchfunc .X}}', 'function "nosuchfunc" not defined'],
    ['{{$x}}', 'undefined variable "$x"'],
    ['{{$x = 1}}', 'undefined variable "$x"'],
    ['{{if true}}{{$x := 1}}{{end}}{{$x}}', 'undefined variable "$x"'],
    ['{{break}}', '{{break}} outside {{range}}'],
    ['{{continue}}', '{{continue}} outside {{range}}'],
    ['{{}}', 'missing value for command'],
    ['{{if}}{{end}}', 'missing value for if'],
    ['{{.A |}}', 'empty command'],
    ['{{1 | 2}}', 'non executable command in pipeline stage 2'],
    ['{{.A | "x"}}', 'non executable command in pipeline stage 2'],
    ['{{(.A}}', 'unclosed left paren'],
    ['{{.A)}}', 'unexpected right paren'],
    ['{{@}}', "bad character U+0040 '@'"],
    ['{{"abc}}', 'unterminated quoted string'],
    ['{{`abc}}', 'unterminated raw quoted string'],
    ['{{"\\q"}}', 'invalid syntax in "\\q"'],
    ['{{/* x }}', 'unclosed comment'],
    ['{{/* x */ .A}}', 'comment ends before closing delimiter'],
    ['{{template "x"}}', '{{template}} is not supported'],
    ['{{define "x"}}{{end}}', '{{define}} is not supported'],
    ['{{with $x, $y := .A}}{{end}}', 'too many declarations in with'],
    ['{{3x}}', 'bad number syntax: "3x"'],
    ['{{"a".B}}', 'unexpected . after term ""a""'],
    ['{{end 1}}', 'unexpected {{end}}'],
  ];
  for (const [src, msg] of errors) {
    assert.throws(() => compileTemplate(src), (e: unknown) => e instanceof TsctrError && e.exitCode === 125 && e.message === `template parsing error: ${msg}`, src);
  }
});

test('execution errors read like Go\'s, with line and column', () => {
  const errors: [string, string][] = [
    ['{{.Name.X}}', 'template: :1:7: executing "" at <.Name.X>: can\'t evaluate field X in type string'],
    ['{{.Cmd.X}}', 'template: :1:6: executing "" at <.Cmd.X>: can\'t evaluate field X in type []interface {}'],
    ['x\n  {{index .Cmd 5}}', 'template: :2:4: executing "" at <index .Cmd 5>: error calling index: index out of range: 5'],
    ['{{index .Cmd "a"}}', 'template: :1:2: executing "" at <index .Cmd "a">: wrong type for value; expected int; got string'],
    ['{{upper .Missing}}', 'template: :1:2: executing "" at <upper .Missing>: invalid value; expected string'],
    ['{{upper 1 2}}', 'template: :1:2: executing "" at <upper 1 2>: wrong number of args for upper: want 1 got 2'],
    ['{{printf}}', 'template: :1:2: executing "" at <printf>: wrong number of args for printf: want at least 1 got 0'],
    ['{{len .Size}}', 'template: :1:2: executing "" at <len .Size>: error calling len: len of type int'],
    ['{{lt 1 "a"}}', 'template: :1:2: executing "" at <lt 1 "a">: error calling lt: incompatible types for comparison'],
    ['{{eq .Cmd .Cmd}}', 'template: :1:2: executing "" at <eq .Cmd .Cmd>: error calling eq: invalid type for comparison'],
    ['{{range .Name}}{{end}}', 'template: :1:8: executing "" at <.Name>: range can\'t iterate over web'],
    ['{{"x" .Name}}', 'template: :1:2: executing "" at <"x" .Name>: can\'t give argument to non-function "x"'],
    ['{{nil}}', 'template: :1:2: executing "" at <nil>: nil is not a command'],
    ['{{.ID | truncate 12}}', 'template: :1:8: executing "" at <truncate 12>: wrong type for value; expected int; got string'],
    ['{{slice .Cmd 2 9}}', 'template: :1:2: executing "" at <slice .Cmd 2 9>: error calling slice: index out of range: 9'],
  ];
  for (const [src, message] of errors) {
    const run = compileTemplate(src);
    assert.throws(() => run(DATA), (e: unknown) => e instanceof TsctrError && e.message === message, src);
  }
});

test('a compiled template is reusable and keeps no state between runs', () => {
  const run = compileTemplate('{{$n := .}}{{range .}}{{.}}{{end}}:{{len $n}}');
  assert.equal(run([1, 2]), '12:2');
  assert.equal(run(['x']), 'x:1');
});

test('parseFormat: docker preFormat', () => {
  assert.deepEqual(parseFormat('table {{.A}}\\t{{.B}}'), { table: true, template: '{{.A}}\t{{.B}}' });
  assert.deepEqual(parseFormat('table'), { table: true, template: '' });
  assert.deepEqual(parseFormat('tablefoo {{.A}}'), { table: true, template: 'foo {{.A}}' });
  assert.deepEqual(parseFormat('{{.A}}\\n{{.B}}'), { table: false, template: '{{.A}}\n{{.B}}' });
  assert.deepEqual(parseFormat('  {{.A}}  '), { table: false, template: '{{.A}}' });
  assert.deepEqual(parseFormat('{{.A}}\n'), { table: false, template: '{{.A}}\n' }, 'only spaces are trimmed');
  assert.deepEqual(parseFormat('json'), { table: false, template: '{{json .}}' });
  assert.deepEqual(parseFormat('{{json .}}'), { table: false, template: '{{json .}}' });
});

test('renderTable: Go tabwriter, minwidth 10, padding 3', () => {
  assert.equal(renderTable([]), '');
  assert.equal(renderTable([['REPOSITORY', 'TAG', 'SIZE'], ['nginx', 'latest', '1MB']]), 'REPOSITORY   TAG       SIZE\nnginx        latest    1MB\n');
  assert.equal(renderTable([['only']]), 'only\n');
  assert.equal(renderTable([['a', ''], ['b', '']]), 'a         \nb         \n', 'a trailing tab pads the cell before it');
  assert.equal(renderTable([['né', 'x']]), `né${' '.repeat(8)}x\n`, 'widths count characters, not bytes');
  // Columns are sized per block of consecutive rows that have them, as tabwriter does.
  const dots = (s: string) => s.replace(/ /g, '.');
  assert.equal(
    dots(renderTable([['a', 'b', 'c'], ['x'], ['longer cell here', 'y', 'z'], ['p', 'q']])),
    ['a.........b.........c', 'x', 'longer.cell.here...y.........z', 'p..................q', ''].join('\n'),
  );
});

const HEADERS = { ID: 'CONTAINER ID', Names: 'NAMES', Labels: 'LABELS' };
const ROWS = [
  { ID: 'abc', Names: 'one', Size: 10, Labels: { a: '1' } },
  { ID: 'abcdefghijklmnop', Names: 'second', Size: 2000, Labels: {} },
];

test('formatRows: tables have a header row made from the template', () => {
  assert.equal(formatRows('table {{.ID}}\t{{.Names}}', ROWS, HEADERS, ''), ['CONTAINER ID       NAMES', 'abc                one', 'abcdefghijklmnop   second', ''].join('\n'));
  // Unknown fields are their own name upper-cased; formatting functions leave headers alone.
  assert.equal(formatRows('table {{.ID}}\\t{{.Size}}\\t{{json .Labels}}\\t{{.Names | upper}}', ROWS, HEADERS, ''), [
    'CONTAINER ID       SIZE      LABELS      NAMES',
    'abc                10        {"a":"1"}   ONE',
    'abcdefghijklmnop   2000      {}          SECOND',
    '',
  ].join('\n'));
  assert.equal(formatRows('table {{truncate .ID 3}}: {{join .Names ","}}', ROWS.slice(0, 1), HEADERS, ''), 'CONTAINER ID: NAMES\nabc: one\n');
  assert.equal(formatRows('table {{.ID}}', [], HEADERS, ''), 'CONTAINER ID\n', 'the header is printed even with no rows');
  assert.equal(formatRows('table {{.Nested.Deep}}', [{ Nested: { Deep: 'x' } }], {}, ''), 'DEEP\nx\n');
  assert.equal(formatRows('table {{.constructor}}', [{}], {}, ''), 'CONSTRUCTOR\n<no value>\n');
});

test('formatRows: `table` alone and the empty format use the default table', () => {
  const def = 'table {{.ID}}\t{{.Names}}';
  const want = formatRows(def, ROWS, HEADERS, def);
  assert.equal(formatRows('table', ROWS, HEADERS, def), want);
  assert.equal(formatRows('', ROWS, HEADERS, def), want);
  assert.match(want, /^CONTAINER ID {7}NAMES\n/);
});

test('formatRows: without table, each row and a newline, no header, no alignment', () => {
  assert.equal(formatRows('{{.ID}}', ROWS, HEADERS, 'table {{.ID}}'), 'abc\nabcdefghijklmnop\n');
  assert.equal(formatRows('{{.ID}}\\t{{.Names}}', ROWS, HEADERS, ''), 'abc\tone\nabcdefghijklmnop\tsecond\n');
  assert.equal(formatRows('json', ROWS.slice(0, 1), HEADERS, ''), '{"ID":"abc","Names":"one","Size":10,"Labels":{"a":"1"}}\n');
  assert.equal(formatRows('{{.ID}}', [], HEADERS, ''), '');
});

test('formatRows: parse errors surface before any output', () => {
  assert.throws(() => formatRows('table {{.ID', ROWS, HEADERS, ''), /^TsctrError: template parsing error: unclosed action$/);
});

test('plain-field tables take the substitution path and render as the engine does', () => {
  const rows = [{ ID: 'abc', Names: 'web', Status: 'Up 2 seconds', Ports: '' }, { ID: 'def', Names: 'db', Status: 'Exited (0)', Ports: '0.0.0.0:80->80/tcp' }];
  const headers = { ID: 'CONTAINER ID', Names: 'NAMES', Status: 'STATUS', Ports: 'PORTS' };
  const fast = formatRows('table {{.ID}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}', rows, headers, '');
  // Spaces inside the actions keep the same meaning but go through the template engine.
  const engine = formatRows('table {{ .ID }}\t{{ .Status }}\t{{ .Ports }}\t{{ .Names }}', rows, headers, '');
  assert.equal(fast, engine);
  assert.equal(formatRows('{{.ID}}:{{.Names}}', rows, headers, ''), 'abc:web\ndef:db\n');
  // A field that is not a string goes to the engine (which prints numbers Go's way).
  assert.equal(formatRows('{{.N}}', [{ N: 1.5 }], {}, ''), '1.5\n');
});
