import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, formatRows, parseFormat, renderTable } from '../../src/util/template.js';
import { humanDuration, humanSize, parseBytes, parseDuration, parseSince } from '../../src/util/units.js';

const t = (src: string, data: unknown) => compileTemplate(src)(data);

test('Go template fields, functions and control flow', () => {
  const d = { Name: 'web', Labels: { a: '1', 'b.c': '2' }, Cmd: ['nginx', '-g', 'daemon off;'], N: 0, Nested: { X: { Y: 'deep' } } };
  assert.equal(t('{{.Name}}', d), 'web');
  assert.equal(t('{{.Nested.X.Y}}', d), 'deep');
  assert.equal(t('{{.Missing}}', d), '<no value>');
  assert.equal(t('{{json .Cmd}}', d), '["nginx","-g","daemon off;"]');
  assert.equal(t('{{.Cmd}}', d), '[nginx -g daemon off;]');
  assert.equal(t('{{.Name | upper}}', d), 'WEB');
  assert.equal(t('{{index .Labels "b.c"}}', d), '2');
  assert.equal(t('{{join .Cmd ","}}', d), 'nginx,-g,daemon off;');
  assert.equal(t('{{if .N}}yes{{else}}no{{end}}', d), 'no');
  assert.equal(t('{{if eq .Name "x"}}x{{else if eq .Name "web"}}w{{else}}z{{end}}', d), 'w');
  assert.equal(t('{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}', d), 'a=1;b.c=2;');
  assert.equal(t('{{range .Cmd}}[{{.}}]{{end}}', d), '[nginx][-g][daemon off;]');
  assert.equal(t('a {{- " b " -}} c', d), 'a b c');
  assert.equal(t('{{printf "%s-%d" .Name 7}}', d), 'web-7');
  assert.equal(t('{{len .Cmd}} {{truncate .Name 2}}', d), '3 we');
  assert.equal(t('{{/* comment */}}x', d), 'x');
  assert.equal(t('{{.Labels}}', d), 'map[a:1 b.c:2]');
});

test('template errors are clear', () => {
  assert.throws(() => compileTemplate('{{.Name'), /template parsing error: unclosed action/);
  assert.throws(() => compileTemplate('{{if .X}}'), /template parsing error: unexpected EOF/);
  assert.throws(() => compileTemplate('{{nosuchfunc .X}}'), /function "nosuchfunc" not defined/);
});

test('table formats align like docker (tabwriter minwidth 10, padding 3)', () => {
  assert.deepEqual(parseFormat('table {{.A}}\\t{{.B}}'), { table: true, template: '{{.A}}\t{{.B}}' });
  assert.equal(renderTable([['REPOSITORY', 'TAG', 'SIZE'], ['nginx', 'latest', '1MB']]), 'REPOSITORY   TAG       SIZE\nnginx        latest    1MB\n');
  const out = formatRows('table {{.ID}}\t{{.Name}}', [{ ID: 'abc', Name: 'n' }], { ID: 'CONTAINER ID' }, '');
  assert.equal(out, 'CONTAINER ID   NAME\nabc            n\n');
  assert.equal(formatRows('{{.ID}}', [{ ID: 'a' }, { ID: 'b' }], {}, ''), 'a\nb\n');
});

test('docker units', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(77_830_000), '77.8MB');
  assert.equal(humanSize(187_400_000), '187MB');
  assert.equal(humanSize(4_256_000), '4.26MB');
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1000), '1 second');
  assert.equal(humanDuration(59_000), '59 seconds');
  assert.equal(humanDuration(90_000), 'About a minute');
  assert.equal(humanDuration(3 * 60_000), '3 minutes');
  assert.equal(humanDuration(3_600_000), 'About an hour');
  assert.equal(humanDuration(5 * 3_600_000), '5 hours');
  assert.equal(humanDuration(3 * 86_400_000), '3 days');
  assert.equal(humanDuration(21 * 86_400_000), '3 weeks');
  assert.equal(humanDuration(90 * 86_400_000), '3 months');
  assert.equal(humanDuration(800 * 86_400_000), '2 years');
  assert.equal(parseBytes('512m'), 512 * 1024 * 1024);
  assert.equal(parseBytes('1g'), 1024 ** 3);
  assert.equal(parseBytes('1024'), 1024);
  assert.throws(() => parseBytes('lots'), /invalid size/);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('300ms'), 300);
  assert.throws(() => parseDuration('10x'), /invalid duration/);
  assert.equal(parseSince('10m', 1_000_000_000), 1_000_000_000 - 600_000);
  assert.equal(parseSince('2024-01-01T00:00:00Z', 0), Date.parse('2024-01-01T00:00:00Z'));
});
