/**
 * `tsctr compose config` as a docker compose user runs it: the executable, as the unprivileged user,
 * on files in a project directory. A bad file gives one `Error:` line naming file, line and path,
 * exit 1 (docker compose's code), and leaves nothing behind in the store.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Sandbox, freePort } from '../support/harness.js';
import { getBodyOrEmpty } from '../support/http.js';

const sb = new Sandbox('compose-config');
after(() => sb.dispose());

function project(name: string, files: Record<string, string>): string {
  const d = path.join(sb.dir, name);
  fs.mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(d, f), text);
  return d;
}

const counter = project('Counter App', {
  'compose.yaml': `services:
  web:
    build: .
    ports: ["\${WEB_PORT:-8000}:5000"]
    depends_on:
      redis: {condition: service_healthy}
    environment: [REDIS_HOST=redis, "GREETING=\${GREETING}"]
  redis:
    image: redis:7
    healthcheck:
      test: redis-cli ping
      interval: 1s
    volumes: [data:/data]
  debug:
    image: busybox
    profiles: [debug]
volumes:
  data:
`,
  '.env': 'WEB_PORT=8081\n',
});

test('config prints the resolved project: name from the directory, .env applied, paths absolute', () => {
  const r = sb.run(['compose', 'config', '--project-directory', counter]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^name: counterapp\nservices:\n  redis:\n/);
  assert.ok(r.stdout.includes(`      context: ${counter}\n`), r.stdout);
  assert.ok(r.stdout.includes('        published: "8081"\n        protocol: tcp\n'), r.stdout);
  assert.ok(r.stdout.includes('    name: counterapp_data\n'), r.stdout);
  assert.ok(!r.stdout.includes('debug'), 'a service of an inactive profile is left out');
  assert.match(r.stderr, /^WARN\[0000\] The "GREETING" variable is not set\. Defaulting to a blank string\.$/m);
});

test('--services, --volumes, --profiles, --profile, -q, --format json, -p', () => {
  const run = (...a: string[]) => sb.ok(['compose', 'config', '--project-directory', counter, ...a], { env: { GREETING: 'hi' } });
  assert.equal(run('--services'), 'web\nredis\n');
  assert.equal(run('--services', '--profile', 'debug'), 'web\nredis\ndebug\n');
  assert.equal(run('--volumes'), 'data\n');
  assert.equal(run('--profiles'), 'debug\n');
  assert.equal(run('-q'), '');
  const json = JSON.parse(run('--format', 'json', '-p', 'other')) as { name: string; services: Record<string, { environment: Record<string, string> }> };
  assert.equal(json.name, 'other');
  assert.equal(json.services.web!.environment.GREETING, 'hi');
  assert.match(run('--hash', 'web'), /^web [0-9a-f]{64}\n$/);
});

test('an invalid file: one line naming the file, the line and the path; exit 1; nothing in the store', () => {
  const d = project('bad', { 'compose.yaml': 'services:\n  web:\n    image: nginx\n    ports: 8080\n' });
  const r = sb.run(['compose', 'config', '-f', path.join(d, 'compose.yaml')]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `Error: ${path.join(d, 'compose.yaml')}: line 4: services.web.ports must be a array\n`);
  const unknown = project('bad2', { 'compose.yaml': 'servicez:\n  web:\n    image: nginx\n' });
  const r2 = sb.run(['compose', 'config', '--project-directory', unknown]);
  assert.equal(r2.code, 1);
  assert.equal(r2.stderr, `Error: ${path.join(unknown, 'compose.yaml')}: line 1: (root) Additional property servicez is not allowed\n`);
  assert.equal(fs.existsSync(sb.root), false, 'config created the store');
});

test('a hostile file (alias bomb) fails fast with one line, no stack', () => {
  const lines = ['x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  let prev = 'a';
  for (const name of 'bcdefghij') {
    lines.push(`x-${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    prev = name;
  }
  lines.push(`services:\n  a:\n    image: x\n    command: *${prev}`);
  const d = project('bomb', { 'compose.yaml': `${lines.join('\n')}\n` });
  const t0 = Date.now();
  const r = sb.run(['compose', 'config', '--project-directory', d]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^Error: .*compose\.yaml: Excessive alias count indicates a resource exhaustion attack\n$/);
  assert.ok(Date.now() - t0 < 10_000);
});

test('compose convert --kube: play kube runs the result; the published port answers; --down removes it', async () => {
  const port = await freePort();
  const d = project('kubeapp', {
    'compose.yaml': `services:
  web:
    image: nginx
    ports: ["${port}:80"]
    volumes: [cache:/var/cache/nginx]
    healthcheck: {test: "true", interval: 10s}
volumes:
  cache:
`,
  });
  // Without --kube it is config's alias, as in docker compose.
  assert.equal(sb.ok(['compose', 'convert', '--project-directory', d, '--services']), 'web\n');
  const file = path.join(sb.dir, 'kubeapp.yaml');
  sb.ok(['compose', 'convert', '--kube', '--project-directory', d, '-o', file]);
  assert.match(fs.readFileSync(file, 'utf8'), /kind: PersistentVolumeClaim[\s\S]*kind: Deployment[\s\S]*kind: Service/);
  sb.ok(['pull', '-q', 'nginx']);
  const out = sb.ok(['play', 'kube', file]);
  assert.match(out, /^Pod:\nweb-pod\n/);
  assert.match(await getBodyOrEmpty(port, { ms: 15_000 }), /Welcome to nginx/);
  assert.match(sb.ok(['volume', 'ls', '--format', '{{.Name}}']), /^cache$/m);
  sb.ok(['play', 'kube', '--down', file]);
  assert.equal(sb.ok(['ps', '-aq']), '');
  assert.equal(await getBodyOrEmpty(port, { ms: 0 }), '');
});

test('-f - reads the file from stdin; errors name it `-`', () => {
  assert.equal(sb.ok(['compose', 'config', '-f', '-', '--services'], { input: 'services:\n  from_stdin:\n    image: busybox\n' }), 'from_stdin\n');
  const r = sb.run(['compose', 'config', '-f', '-'], { input: 'services:\n  x:\n    imag: busybox\n' });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error: -: line 3: services.x Additional property imag is not allowed\n');
});
