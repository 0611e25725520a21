/**
 * The compose file side (src/compose/): discovery, project name, env files, interpolation, merge,
 * profiles, validation against the compose-spec schema (docker compose's wording, with lines),
 * normalisation of every short and long syntax, the config hash, `compose config`'s output, and
 * hostile files. Each test writes real files into a fresh directory and loads them as `up` would.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject, normalizeProjectName, type LoadOptions } from '../../src/compose/load.js';
import { interpolateString } from '../../src/compose/interpolate.js';
import { parseEnv } from '../../src/compose/env-file.js';
import { shellSplit, parsePortSpec } from '../../src/compose/normalize.js';
import { configHash } from '../../src/compose/hash.js';
import { configTree, configYaml, goDuration, allProfiles } from '../../src/compose/config-output.js';
import { replicas, unsupportedKeys, type Project } from '../../src/compose/model.js';
import { ComposeError } from '../../src/compose/errors.js';

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures', 'compose', 'files');
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-file-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

let n = 0;
/** A fresh directory (named `name`) holding `files`. */
function dir(files: Record<string, string>, name = `proj${n++}`): string {
  const d = path.join(tmpRoot, `${n++}`, name);
  fs.mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    fs.writeFileSync(path.join(d, f), text);
  }
  return d;
}

function load(cwd: string, opts: Partial<LoadOptions> = {}): Promise<Project> {
  return loadProject({ cwd, env: {}, ...opts });
}

async function loadError(cwd: string, opts: Partial<LoadOptions> = {}): Promise<ComposeError> {
  try {
    await load(cwd, opts);
  } catch (err) {
    assert.ok(err instanceof ComposeError, `a ComposeError, not ${String(err)}`);
    assert.equal(err.exitCode, 1);
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
    return err;
  }
  assert.fail('the project loaded');
}

const one = (yaml: string, opts: Partial<LoadOptions> = {}) => load(dir({ 'compose.yaml': yaml }), opts);
const svc = async (yaml: string, opts: Partial<LoadOptions> = {}) => (await one(`services:\n  s:\n${yaml.replace(/^/gm, '    ')}\n`, opts)).services.s!;

describe('interpolation', () => {
  const env: Record<string, string> = { SET: 'v', EMPTY: '' };
  const look = (k: string) => env[k];
  const cases: [string, string][] = [
    ['${SET}', 'v'],
    ['$SET', 'v'],
    ['a$SET-b', 'av-b'],
    ['${UNSET}', ''],
    ['${UNSET:-d}', 'd'],
    ['${EMPTY:-d}', 'd'],
    ['${EMPTY-d}', ''],
    ['${UNSET-d}', 'd'],
    ['${SET:-d}', 'v'],
    ['${SET:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET+alt}', ''],
    ['$$SET', '$SET'],
    ['$${SET}', '${SET}'],
    ['${UNSET:-${SET}}', 'v'],
    ['${UNSET:-${ALSO:-deep}}', 'deep'],
    ['cost: 5$', 'cost: 5$'],
    ['$1', '$1'],
  ];
  for (const [input, want] of cases) test(`${input} → ${JSON.stringify(want)}`, () => assert.equal(interpolateString(input, look), want));

  test('${VAR:?err} and ${VAR?err} fail with the message; set values pass', () => {
    assert.throws(() => interpolateString('${UNSET:?need it}', look), /required variable UNSET is missing a value: need it/);
    assert.throws(() => interpolateString('${EMPTY:?need it}', look), /required variable EMPTY is missing a value: need it/);
    assert.equal(interpolateString('${EMPTY?need it}', look), '');
    assert.throws(() => interpolateString('${UNSET?}', look), /required variable UNSET is missing a value$/);
    assert.equal(interpolateString('${SET:?x}', look), 'v');
  });

  test('a broken template is an error naming it', () => {
    assert.throws(() => interpolateString('${SET', look), /Invalid template: "\$\{SET"/);
    assert.throws(() => interpolateString('${}', look), /Invalid template/);
    assert.throws(() => interpolateString('${SET/a/b}', look), /Invalid template/);
  });

  test('unset variables are reported once each, and only when their default is used', () => {
    const seen: string[] = [];
    interpolateString('${A} $B ${SET:-${C}} ${UNSET:-${D}}', look, (v) => seen.push(v));
    assert.deepEqual(seen, ['A', 'B', 'D']);
  });

  test('in a file: values interpolated, keys not; the warning names the variable; the error names the path', async () => {
    const p = await one('services:\n  web:\n    image: "${IMG}:${TAG:-1.0}"\n    labels:\n      "$KEY": "${MISSING}"\n', { env: { IMG: 'nginx' } });
    assert.equal(p.services.web!.image, 'nginx:1.0');
    assert.deepEqual(p.services.web!.labels, { $KEY: '' });
    assert.deepEqual(p.warnings, ['The "MISSING" variable is not set. Defaulting to a blank string.']);
    const err = await loadError(dir({ 'compose.yaml': 'services:\n  web:\n    image: ${IMG:?set IMG}\n' }));
    assert.match(err.message, /compose\.yaml: error while interpolating services\.web\.image: required variable IMG is missing a value: set IMG$/);
  });

  test('interpolation happens before validation: a port from a variable is checked with its value', async () => {
    const s = await svc('image: x\nports: ["${PORT}:80"]', { env: { PORT: '8081' } });
    assert.equal(s.ports[0]!.published, '8081');
  });
});

describe('env files', () => {
  test('KEY=VALUE, export, comments, quotes, escapes, variables', () => {
    const text = [
      '# comment',
      'A=1',
      'export B = two ',
      'C="x\\ny ${A}"',
      "D='${A} literal'",
      'E=unquoted # comment',
      'F=',
      'G="multi',
      'line"',
      'H=${FROM_ENV:-dflt}',
      'BARE',
    ].join('\n');
    assert.deepEqual(parseEnv(text, (k) => ({ BARE: 'b', FROM_ENV: undefined })[k]), {
      A: '1',
      B: 'two',
      C: 'x\ny 1',
      D: '${A} literal',
      E: 'unquoted',
      F: '',
      G: 'multi\nline',
      H: 'dflt',
      BARE: 'b',
    });
  });

  test('a bad line names the file and line', () => {
    assert.throws(() => parseEnv('A=1\nnot a key=2\n', undefined, 'my.env'), /my\.env: line 2: unexpected character/);
    assert.throws(() => parseEnv('A="open\n', undefined, 'my.env'), /unterminated quoted value for A/);
  });

  test('.env in the project directory feeds interpolation; the process environment wins over it', async () => {
    const d = dir({ '.env': 'TAG=fromfile\nOTHER=fromfile\n', 'compose.yaml': 'services:\n  web:\n    image: "img:${TAG}-${OTHER}"\n' });
    assert.equal((await load(d, { env: { OTHER: 'fromenv' } })).services.web!.image, 'img:fromfile-fromenv');
  });

  test('--env-file replaces .env; several are read in order', async () => {
    const d = dir({ '.env': 'TAG=dotenv\n', 'a.env': 'TAG=a\nX=a\n', 'b.env': 'TAG=b\n', 'compose.yaml': 'services:\n  web:\n    image: "i:${TAG}-${X}"\n' });
    assert.equal((await load(d, { envFiles: ['a.env', 'b.env'] })).services.web!.image, 'i:b-a');
    const err = await loadError(d, { envFiles: ['missing.env'] });
    assert.match(err.message, /missing\.env not found/);
  });

  test('env_file and environment: files first, environment over them, a bare name from the project environment', async () => {
    const d = dir({
      'web.env': 'A=file\nB=file\n',
      'compose.yaml': 'services:\n  web:\n    image: x\n    env_file: web.env\n    environment:\n      - B=env\n      - FROM_HOST\n      - NOT_SET\n',
    });
    const web = (await load(d, { env: { FROM_HOST: 'h' } })).services.web!;
    assert.deepEqual(web.environment, { A: 'file', B: 'env', FROM_HOST: 'h' });
    assert.deepEqual(web.env_file, [{ path: path.join(d, 'web.env'), required: true }]);
  });

  test('a missing required env_file fails; an optional one is skipped', async () => {
    const err = await loadError(dir({ 'compose.yaml': 'services:\n  web:\n    image: x\n    env_file: nope.env\n' }));
    assert.match(err.message, /env file .*nope\.env not found/);
    const s = await svc('image: x\nenv_file:\n  - path: nope.env\n    required: false');
    assert.deepEqual(s.environment, {});
  });
});

describe('files and project name', () => {
  test('discovery: compose.yaml plus compose.override.yaml, found from a subdirectory', async () => {
    const d = dir({
      'compose.yaml': 'services:\n  web:\n    image: base\n',
      'compose.override.yaml': 'services:\n  web:\n    image: over\n',
      'sub/deeper/.keep': '',
    });
    const p = await load(path.join(d, 'sub', 'deeper'));
    assert.deepEqual(p.config_files, [path.join(d, 'compose.yaml'), path.join(d, 'compose.override.yaml')]);
    assert.equal(p.working_dir, d);
    assert.equal(p.services.web!.image, 'over');
  });

  test('discovery order: compose.yaml before docker-compose.yml, with a warning', async () => {
    const d = dir({ 'docker-compose.yml': 'services:\n  a:\n    image: old\n', 'compose.yaml': 'services:\n  a:\n    image: new\n' });
    const p = await load(d);
    assert.equal(p.services.a!.image, 'new');
    assert.match(p.warnings.join('\n'), /Found multiple config files/);
    assert.equal((await load(dir({ 'docker-compose.yml': 'services:\n  a:\n    image: old\n' }))).services.a!.image, 'old');
  });

  test('no file: the error docker compose gives', async () => {
    const err = await loadError(fs.mkdtempSync(path.join(tmpRoot, 'empty-')));
    assert.equal(err.message, 'no configuration file provided: not found');
  });

  test('COMPOSE_FILE names the files (also from .env), separated by COMPOSE_PATH_SEPARATOR', async () => {
    const d = dir({ 'a.yaml': 'services:\n  a:\n    image: a\n', 'b.yaml': 'services:\n  b:\n    image: b\n', '.env': 'COMPOSE_FILE=a.yaml:b.yaml\n' });
    assert.deepEqual(Object.keys((await load(d)).services), ['a', 'b']);
    assert.deepEqual(Object.keys((await load(d, { env: { COMPOSE_FILE: 'b.yaml;a.yaml', COMPOSE_PATH_SEPARATOR: ';' } })).services), ['b', 'a']);
  });

  test('name: -p, then COMPOSE_PROJECT_NAME, then name:, then the directory (normalised)', async () => {
    const d = dir({ 'compose.yaml': 'name: fromfile\nservices:\n  a:\n    image: x\n' });
    assert.equal((await load(d, { projectName: 'flag', env: { COMPOSE_PROJECT_NAME: 'envname' } })).name, 'flag');
    assert.equal((await load(d, { env: { COMPOSE_PROJECT_NAME: 'envname' } })).name, 'envname');
    assert.equal((await load(d)).name, 'fromfile');
    const e = dir({ 'compose.yaml': 'services:\n  a:\n    image: x\n' }, '-My.App_2 Dir');
    assert.equal((await load(e)).name, 'myapp_2dir');
    assert.equal(normalizeProjectName('__Über-Proj'), 'ber-proj');
  });

  test('the name in the file is interpolated; COMPOSE_PROJECT_NAME may come from .env', async () => {
    assert.equal((await one('name: "app-${ENV_NAME}"\nservices:\n  a:\n    image: x\n', { env: { ENV_NAME: 'prod' } })).name, 'app-prod');
    const d = dir({ '.env': 'COMPOSE_PROJECT_NAME=dotenvname\n', 'compose.yaml': 'services:\n  a:\n    image: x\n' });
    assert.equal((await load(d)).name, 'dotenvname');
  });

  test('an explicit invalid project name is refused', async () => {
    const err = await loadError(dir({ 'compose.yaml': 'services:\n  a:\n    image: x\n' }), { projectName: 'Bad Name' });
    assert.match(err.message, /invalid project name "Bad Name"/);
  });

  test('relative paths in an override file are relative to the project directory (the first file\'s)', async () => {
    const d = dir({ 'compose.yaml': 'services:\n  a:\n    image: x\n', 'over/o.yaml': 'services:\n  a:\n    volumes: ["./data:/data"]\n' });
    const p = await load(d, { files: ['compose.yaml', 'over/o.yaml'] });
    assert.equal(p.services.a!.volumes[0]!.source, path.join(d, 'data'));
  });
});

describe('merge', () => {
  const base = `
services:
  web:
    image: web:1
    command: ["a", "b"]
    entrypoint: /bin/sh
    environment: [A=1, B=1]
    labels: {x: "1"}
    ports: ["8080:80", "9090:90"]
    expose: ["1000"]
    dns: [1.1.1.1]
    volumes: ["data:/data", "./conf:/conf:ro"]
    healthcheck: {test: ["CMD", "a"], interval: 10s}
    networks: [front]
    depends_on: [db]
  db:
    image: db
networks:
  front: {}
  back: {}
volumes:
  data: {}
`;
  const over = `
services:
  web:
    image: web:2
    command: c
    environment: {B: "2", C: "3"}
    labels: ["y=2"]
    ports: ["8080:80", "7070:70"]
    expose: ["1000", "2000"]
    dns: 8.8.8.8
    volumes: ["other:/data"]
    healthcheck: {test: ["CMD", "b"]}
    networks: {back: {aliases: [w]}}
    depends_on: {db: {condition: service_healthy}}
volumes:
  other: {}
`;
  test('mappings merged, sequences appended without repeats, commands replaced, unique targets replaced', async () => {
    const d = dir({ 'compose.yaml': base, 'compose.override.yaml': over });
    const web = (await load(d)).services.web!;
    assert.equal(web.image, 'web:2');
    assert.deepEqual(web.command, ['c']);
    assert.deepEqual(web.entrypoint, ['/bin/sh']);
    assert.deepEqual(web.environment, { A: '1', B: '2', C: '3' });
    assert.deepEqual(web.labels, { x: '1', y: '2' });
    assert.deepEqual(web.ports.map((p) => `${p.published}:${p.target}`), ['8080:80', '9090:90', '7070:70']);
    assert.deepEqual(web.expose, ['1000', '2000']);
    assert.deepEqual(web.dns, ['1.1.1.1', '8.8.8.8']);
    assert.deepEqual(web.volumes.map((v) => `${v.source}:${v.target}`), ['other:/data', `${path.join(d, 'conf')}:/conf`]);
    assert.deepEqual(web.healthcheck?.test, ['CMD', 'b']);
    assert.equal(web.healthcheck?.interval, 10_000);
    assert.deepEqual(Object.keys(web.networks), ['front', 'back']);
    assert.deepEqual(web.networks.back!.aliases, ['w']);
    assert.equal(web.depends_on.db!.condition, 'service_healthy');
  });

  test('-f files merge in the order given', async () => {
    const d = dir({ 'one.yaml': 'services:\n  a:\n    image: one\n', 'two.yaml': 'services:\n  a:\n    image: two\n' });
    assert.equal((await load(d, { files: ['one.yaml', 'two.yaml'] })).services.a!.image, 'two');
    assert.equal((await load(d, { files: ['two.yaml', 'one.yaml'] })).services.a!.image, 'one');
  });

  test('build as a string and as a mapping merge into one', async () => {
    const d = dir({ 'compose.yaml': 'services:\n  a:\n    build: ./app\n', 'compose.override.yaml': 'services:\n  a:\n    build:\n      target: dev\n' });
    const b = (await load(d)).services.a!.build!;
    assert.equal(b.context, path.join(d, 'app'));
    assert.equal(b.target, 'dev');
  });

  test('!reset removes, !override replaces whole', async () => {
    const d = dir({
      'compose.yaml': 'services:\n  a:\n    image: x\n    ports: ["8080:80"]\n    environment: {FOO: bar, KEEP: k}\n    dns: [1.1.1.1]\n',
      'compose.override.yaml': 'services:\n  a:\n    ports: !reset []\n    environment:\n      FOO: !reset null\n    dns: !override [9.9.9.9]\n',
    });
    const a = (await load(d)).services.a!;
    assert.deepEqual(a.ports, []);
    assert.deepEqual(a.environment, { KEEP: 'k' });
    assert.deepEqual(a.dns, ['9.9.9.9']);
  });
});

describe('profiles', () => {
  const yaml = 'services:\n  web:\n    image: w\n  debug:\n    image: d\n    profiles: [debug]\n  tools:\n    image: t\n    profiles: [tools, debug]\n';
  test('services with profiles only when one of them is active', async () => {
    const d = dir({ 'compose.yaml': yaml });
    assert.deepEqual(Object.keys((await load(d)).services), ['web']);
    assert.deepEqual(Object.keys((await load(d, { profiles: ['tools'] })).services), ['web', 'tools']);
    assert.deepEqual(Object.keys((await load(d, { env: { COMPOSE_PROFILES: 'debug' } })).services), ['web', 'debug', 'tools']);
    assert.deepEqual(Object.keys((await load(d, { profiles: ['*'] })).services), ['web', 'debug', 'tools']);
    const p = await load(d);
    assert.deepEqual(Object.keys(p.disabled_services), ['debug', 'tools']);
    assert.deepEqual(allProfiles(p), ['debug', 'tools']);
  });

  test('an enabled service that requires a disabled one is an error', async () => {
    const err = await loadError(dir({ 'compose.yaml': 'services:\n  web:\n    image: w\n    depends_on: [db]\n  db:\n    image: d\n    profiles: [db]\n' }));
    assert.match(err.message, /service "db" is required by "web" but is disabled/);
  });
});

describe('validation', () => {
  const cases: [string, string, RegExp][] = [
    ['unknown top-level key', 'servicez:\n  web: {}\n', /compose\.yaml: line 1: \(root\) Additional property servicez is not allowed$/],
    ['wrong type', 'services:\n  web:\n    image: x\n    ports: 8080\n', /compose\.yaml: line 4: services\.web\.ports must be a array$/],
    ['unknown service key', 'services:\n  web:\n    image: x\n\n    imagez: y\n', /line 5: services\.web Additional property imagez is not allowed$/],
    ['oneOf: the types listed', 'services:\n  web:\n    build: 3\n', /line 3: services\.web\.build must be a string or object$/],
    ['deeper in a list', 'services:\n  web:\n    image: x\n    ports:\n      - target: 80\n        bogus: 1\n', /line 6: services\.web\.ports\.0 Additional property bogus is not allowed$/],
    ['enum', 'services:\n  web:\n    image: x\n    depends_on:\n      db:\n        condition: service_happy\n  db:\n    image: y\n', /line 6: services\.web\.depends_on\.db\.condition must be one of the following: .*service_healthy/],
    ['service name pattern', 'services:\n  "we b":\n    image: x\n', /line 2: services Additional property we b is not allowed$/],
    ['top-level must be a mapping', '- a\n- b\n', /Top-level object must be a mapping/],
    ['YAML syntax', 'services:\n  web:\n    image: [x\n', /compose\.yaml: line \d+: /],
    ['duplicate key', 'services:\n  web:\n    image: x\n    image: y\n', /line 4: Map keys must be unique/],
  ];
  for (const [name, yaml, want] of cases) {
    test(`${name}: one line naming the file, line and path`, async () => {
      const err = await loadError(dir({ 'compose.yaml': yaml }));
      assert.match(err.message, want);
      assert.ok(err.message.startsWith(tmpRoot), err.message);
    });
  }

  test('each file is validated, and the error names the file that has the problem', async () => {
    const d = dir({ 'compose.yaml': 'services:\n  a:\n    image: x\n', 'compose.override.yaml': 'services:\n  a:\n    cpu_sharez: 1\n' });
    const err = await loadError(d);
    assert.match(err.message, /compose\.override\.yaml: line 3: services\.a Additional property cpu_sharez is not allowed$/);
  });

  test('references the schema cannot check: undefined network, volume, service, config, secret; no image nor build', async () => {
    const cases: [string, RegExp][] = [
      ['  a:\n    image: x\n    networks: [nope]\n', /service "a" refers to undefined network nope/],
      ['  a:\n    image: x\n    volumes: ["nope:/data"]\n', /service "a" refers to undefined volume nope/],
      ['  a:\n    image: x\n    depends_on: [nope]\n', /service "a" depends on undefined service "nope"/],
      ['  a:\n    image: x\n    configs: [nope]\n', /service "a" refers to undefined config nope/],
      ['  a:\n    image: x\n    secrets: [nope]\n', /service "a" refers to undefined secret nope/],
      ['  a:\n    restart: always\n', /service "a" has neither an image nor a build context specified/],
      ['  a:\n    image: x\n    ports: ["70000:80"]\n', /invalid port range "70000"/],
      ['  a:\n    image: x\n    ports: ["8000-8002:80-81"]\n', /invalid ranges specified/],
      ['  a:\n    image: x\n    healthcheck: {interval: soon}\n', /services\.a\.healthcheck\.interval: time: invalid duration "soon"/],
      ['  a:\n    image: x\n    volumes: ["./a:/b:rx"]\n', /invalid mode "rx"/],
      ['  a:\n    image: x\n    ports: [{published: 80}]\n', /services\.a\.ports\[0\]: a port mapping needs a target/],
    ];
    for (const [yaml, want] of cases) assert.match((await loadError(dir({ 'compose.yaml': `services:\n${yaml}` }))).message, want);
  });

  test('the generated validator is the one of the vendored schema (npm run gen:compose)', async () => {
    const { validatorModule, OUT_FILE } = await import('../../scripts/gen-compose-validator.js');
    assert.equal(fs.readFileSync(OUT_FILE, 'utf8'), await validatorModule());
  });
});

describe('normalisation', () => {
  test('ports: short forms, ranges, host IPs, protocols, the long form', async () => {
    const s = await svc(
      [
        'image: x',
        'ports:',
        '  - 80',
        '  - "8080:80"',
        '  - "127.0.0.1:8081:81/udp"',
        '  - "127.0.0.1::82"',
        '  - "[::1]:8083:83"',
        '  - "9000-9001:90-91"',
        '  - "7000-7010:70"',
        '  - "100-101"',
        '  - target: 443',
        '    published: "8443"',
        '    host_ip: 0.0.0.0',
        '    protocol: tcp',
        '    mode: host',
        '    name: https',
      ].join('\n'),
    );
    const brief = s.ports.map((p) => `${p.host_ip ?? ''}|${p.published ?? ''}|${p.target}/${p.protocol}|${p.mode}`);
    assert.deepEqual(brief, [
      '||80/tcp|ingress',
      '|8080|80/tcp|ingress',
      '127.0.0.1|8081|81/udp|ingress',
      '127.0.0.1||82/tcp|ingress',
      '::1|8083|83/tcp|ingress',
      '|9000|90/tcp|ingress',
      '|9001|91/tcp|ingress',
      '|7000-7010|70/tcp|ingress',
      '||100/tcp|ingress',
      '||101/tcp|ingress',
      '0.0.0.0|8443|443/tcp|host',
    ]);
    assert.equal(s.ports.at(-1)!.name, 'https');
    assert.throws(() => parsePortSpec('80/icmp'), /invalid protocol/);
  });

  test('volumes: named, bind (relative, absolute, ~), anonymous, modes; long syntax with bind, volume and tmpfs options', async () => {
    const d = dir({
      'compose.yaml': `
services:
  s:
    image: x
    volumes:
      - data:/data
      - ./rel:/rel:ro,z
      - /abs:/abs:rw,rshared
      - ~/cfg:/cfg
      - /anon
      - data:/nocopy:nocopy
      - type: bind
        source: ./long
        target: /long
        read_only: true
        bind: {propagation: rslave, create_host_path: false}
      - type: volume
        source: data
        target: /sub
        volume: {nocopy: true, subpath: sub}
      - type: tmpfs
        target: /tmp
        tmpfs: {size: 64m, mode: 1777}
volumes:
  data:
`,
    });
    const v = (await load(d, { env: { HOME: '/home/u' } })).services.s!.volumes;
    assert.deepEqual(v[0], { type: 'volume', source: 'data', target: '/data', read_only: false });
    assert.deepEqual(v[1], { type: 'bind', source: path.join(d, 'rel'), target: '/rel', read_only: true, bind: { create_host_path: true, selinux: 'z' } });
    assert.deepEqual(v[2], { type: 'bind', source: '/abs', target: '/abs', read_only: false, bind: { create_host_path: true, propagation: 'rshared' } });
    assert.equal(v[3]!.source, '/home/u/cfg');
    assert.deepEqual(v[4], { type: 'volume', target: '/anon', read_only: false });
    assert.deepEqual(v[5]!.volume, { nocopy: true });
    assert.deepEqual(v[6], { type: 'bind', source: path.join(d, 'long'), target: '/long', read_only: true, bind: { propagation: 'rslave', create_host_path: false } });
    assert.deepEqual(v[7]!.volume, { nocopy: true, subpath: 'sub' });
    assert.deepEqual(v[8], { type: 'tmpfs', target: '/tmp', read_only: false, tmpfs: { size: 64 * 1024 * 1024, mode: 1777 } });
  });

  test('networks: list or map with aliases and addresses; `default` when none; top-level names', async () => {
    const p = await one(`
name: proj
services:
  a:
    image: x
    networks: [front]
  b:
    image: x
    networks:
      front:
        aliases: [bee, b2]
        ipv4_address: 10.5.0.9
      back:
  c:
    image: x
  d:
    image: x
    network_mode: host
networks:
  front:
    driver: bridge
    internal: true
    ipam:
      config:
        - subnet: 10.5.0.0/24
          gateway: 10.5.0.1
  back:
    name: custom-back
  outside:
    external: true
`);
    assert.deepEqual(p.services.a!.networks, { front: { aliases: [] } });
    assert.deepEqual(p.services.b!.networks.front, { aliases: ['bee', 'b2'], ipv4_address: '10.5.0.9' });
    assert.deepEqual(p.services.b!.networks.back, { aliases: [] });
    assert.deepEqual(p.services.c!.networks, { default: { aliases: [] } });
    assert.deepEqual(p.services.d!.networks, {});
    assert.equal(p.services.d!.network_mode, 'host');
    assert.equal(p.networks.front!.name, 'proj_front');
    assert.equal(p.networks.front!.internal, true);
    assert.deepEqual(p.networks.front!.ipam.config, [{ subnet: '10.5.0.0/24', gateway: '10.5.0.1' }]);
    assert.equal(p.networks.back!.name, 'custom-back');
    assert.deepEqual([p.networks.outside!.name, p.networks.outside!.external], ['outside', true]);
    assert.equal(p.networks.default!.name, 'proj_default');
  });

  test('depends_on: list (started, required) or map with condition, restart, required', async () => {
    const p = await one(`
services:
  a:
    image: x
    depends_on: [b]
  b:
    image: x
    depends_on:
      c: {condition: service_healthy, restart: true}
      d: {condition: service_completed_successfully, required: false}
  c:
    image: x
  d:
    image: x
`);
    assert.deepEqual(p.services.a!.depends_on, { b: { condition: 'service_started', restart: false, required: true } });
    assert.deepEqual(p.services.b!.depends_on, {
      c: { condition: 'service_healthy', restart: true, required: true },
      d: { condition: 'service_completed_successfully', restart: false, required: false },
    });
  });

  test('healthcheck: string, CMD list, NONE, disable, durations in milliseconds', async () => {
    const h1 = (await svc('image: x\nhealthcheck:\n  test: curl -f http://localhost\n  interval: 1m30s\n  timeout: 500ms\n  start_period: 2s\n  start_interval: 1s\n  retries: 4')).healthcheck;
    assert.deepEqual(h1, { disable: false, test: ['CMD-SHELL', 'curl -f http://localhost'], interval: 90_000, timeout: 500, start_period: 2000, start_interval: 1000, retries: 4 });
    assert.deepEqual((await svc('image: x\nhealthcheck:\n  test: ["CMD", "true"]')).healthcheck?.test, ['CMD', 'true']);
    assert.equal((await svc('image: x\nhealthcheck:\n  test: ["NONE"]')).healthcheck?.disable, true);
    assert.equal((await svc('image: x\nhealthcheck:\n  disable: true')).healthcheck?.disable, true);
  });

  test('command and entrypoint: a string is split as a shell does, a list kept', async () => {
    const s = await svc(`image: x\ncommand: sh -c 'echo "hi there"' done\\ ok\nentrypoint: ["/bin/tini", "--"]`);
    assert.deepEqual(s.command, ['sh', '-c', 'echo "hi there"', 'done ok']);
    assert.deepEqual(s.entrypoint, ['/bin/tini', '--']);
    assert.deepEqual(shellSplit(`a "b \\"c\\"" 'd e' f\\ g ""`), ['a', 'b "c"', 'd e', 'f g', '']);
    assert.throws(() => shellSplit(`a 'b`), /unterminated quote/);
  });

  test('deploy: replicas, resources limits in bytes and CPUs; scale wins over replicas', async () => {
    const s = await svc('image: x\ndeploy:\n  replicas: 3\n  resources:\n    limits: {cpus: "0.5", memory: 50M, pids: 100}\n    reservations: {memory: 10m}\n  placement: {constraints: []}');
    assert.equal(s.deploy!.replicas, 3);
    assert.deepEqual(s.deploy!.resources.limits, { cpus: 0.5, memory: 50 * 1024 * 1024, pids: 100 });
    assert.deepEqual(s.deploy!.resources.reservations, { memory: 10 * 1024 * 1024 });
    assert.equal(replicas(s), 3);
    assert.equal(replicas(await svc('image: x\nscale: 2\ndeploy: {replicas: 5}')), 2);
    assert.equal(replicas(await svc('image: x')), 1);
  });

  test('the other service keys', async () => {
    const d = dir({
      'app.conf': 'x',
      'token.txt': 's3cret',
      'compose.yaml': `
services:
  s:
    image: x
    build:
      context: ./app
      dockerfile: Dockerfile.dev
      args: [A=1, B]
      target: dev
    user: "1000:1000"
    working_dir: /app
    hostname: host1
    labels: [com.example=1]
    init: true
    read_only: "true"
    stop_signal: SIGINT
    stop_grace_period: 1m
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    tmpfs: /run
    extra_hosts: ["db:10.0.0.2", "v6=::1", "h2:[::2]"]
    dns: 9.9.9.9
    ulimits:
      nofile: {soft: 1024, hard: 2048}
      nproc: 512
    logging: {driver: json-file, options: {max-size: 10m}}
    container_name: my-s
    restart: unless-stopped
    expose: [3000, "4000-4001/udp"]
    mem_limit: 1g
    configs:
      - app_conf
      - source: app_conf
        target: /etc/app.conf
        mode: 0440
    secrets:
      - token
      - source: token
        target: other
configs:
  app_conf:
    file: ./app.conf
secrets:
  token:
    file: ./token.txt
  from_env:
    environment: TOKEN
`,
    });
    const p = await load(d, { env: { B: 'from-env' } });
    const s = p.services.s!;
    assert.deepEqual(s.build, { context: path.join(d, 'app'), dockerfile: 'Dockerfile.dev', args: { A: '1', B: 'from-env' }, labels: {}, target: 'dev' });
    assert.equal(s.user, '1000:1000');
    assert.equal(s.working_dir, '/app');
    assert.equal(s.hostname, 'host1');
    assert.deepEqual(s.labels, { 'com.example': '1' });
    assert.equal(s.init, true);
    assert.equal(s.read_only, true);
    assert.equal(s.stop_signal, 'SIGINT');
    assert.equal(s.stop_grace_period, 60_000);
    assert.deepEqual([s.cap_add, s.cap_drop], [['NET_ADMIN'], ['ALL']]);
    assert.deepEqual(s.tmpfs, ['/run']);
    assert.deepEqual(s.extra_hosts, ['db:10.0.0.2', 'v6:::1', 'h2:::2']);
    assert.deepEqual(s.dns, ['9.9.9.9']);
    assert.deepEqual(s.ulimits, { nofile: { soft: 1024, hard: 2048 }, nproc: { soft: 512, hard: 512 } });
    assert.deepEqual(s.logging, { driver: 'json-file', options: { 'max-size': '10m' } });
    assert.equal(s.container_name, 'my-s');
    assert.equal(s.restart, 'unless-stopped');
    assert.deepEqual(s.expose, ['3000', '4000-4001/udp']);
    assert.equal(s.mem_limit, 1024 ** 3);
    assert.deepEqual(s.configs, [
      { source: 'app_conf', target: '/app_conf' },
      { source: 'app_conf', target: '/etc/app.conf', mode: 0o440 },
    ]);
    assert.deepEqual(s.secrets, [
      { source: 'token', target: '/run/secrets/token' },
      { source: 'token', target: '/run/secrets/other' },
    ]);
    assert.deepEqual(p.configs.app_conf, { name: `${p.name}_app_conf`, external: false, labels: {}, file: path.join(d, 'app.conf') });
    assert.equal(p.secrets.token!.file, path.join(d, 'token.txt'));
    assert.equal(p.secrets.from_env!.environment, 'TOKEN');
  });

  test('top-level volumes: project-prefixed names, external, name:, labels', async () => {
    const p = await one('name: p\nservices:\n  a:\n    image: x\nvolumes:\n  data:\n  ext:\n    external: true\n  named:\n    name: exact\n    labels: [k=v]\n');
    assert.deepEqual(p.volumes.data, { name: 'p_data', driver_opts: {}, external: false, labels: {} });
    assert.deepEqual([p.volumes.ext!.name, p.volumes.ext!.external], ['ext', true]);
    assert.deepEqual([p.volumes.named!.name, p.volumes.named!.labels], ['exact', { k: 'v' }]);
  });

  test('valid keys the model does not carry are listed by unsupportedKeys, with their path', async () => {
    const p = await one('version: "3.8"\nservices:\n  a:\n    image: x\n    cpu_shares: 512\n    deploy:\n      placement: {constraints: []}\n    x-custom: 1\ninclude: []\nx-top: 1\n');
    assert.deepEqual(unsupportedKeys(p).sort(), ['services.a.cpu_shares', 'services.a.deploy.placement'].sort());
    assert.deepEqual(p.services.a!.extra, { cpu_shares: 512 });
    assert.match(p.warnings.join('\n'), /compose\.yaml: the attribute `version` is obsolete/);
  });
});

describe('configHash', () => {
  test('stable for the same config, different when a container-relevant key changes, blind to replicas', async () => {
    const hash = async (yaml: string) => {
      const p = await one(`name: h\nservices:\n  s:\n${yaml.replace(/^/gm, '    ')}\n`);
      return configHash(p, p.services.s!);
    };
    const a = await hash('image: x\nenvironment: {A: "1", B: "2"}\nports: ["80"]');
    const b = await hash('image: x\nenvironment: {B: "2", A: "1"}\nports: ["80"]\ndeploy: {replicas: 4}\nscale: 4');
    const c = await hash('image: x\nenvironment: {A: "1", B: "3"}\nports: ["80"]');
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.equal(a, b);
    assert.notEqual(a, c);
  });
});

describe('compose config output', () => {
  test('docker compose v2 shape: long syntax, absolute paths, Go durations, null attachments, sorted', async () => {
    const d = dir({ 'compose.yaml': 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n    healthcheck: {test: "true", interval: 90s}\n    volumes: ["./html:/usr/share/nginx/html:ro"]\n  api:\n    image: api\n' }, 'shop');
    const p = await load(d);
    const t = configTree(p) as any;
    assert.deepEqual(Object.keys(t), ['name', 'services', 'networks']);
    assert.deepEqual(Object.keys(t.services), ['api', 'web']);
    assert.deepEqual(t.services.web.ports, [{ mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' }]);
    assert.deepEqual(t.services.web.networks, { default: null });
    assert.equal(t.services.web.healthcheck.interval, '1m30s');
    assert.deepEqual(t.networks, { default: { name: 'shop_default' } });
    const yaml = await configYaml(p);
    assert.match(yaml, /^name: shop\nservices:\n  api:\n/);
    assert.ok(yaml.includes(`      - type: bind\n        source: ${path.join(d, 'html')}\n        target: /usr/share/nginx/html\n        read_only: true\n`), yaml);
    assert.ok(yaml.includes('published: "8080"'), yaml);
  });

  test('Go durations', () => {
    assert.deepEqual([0, 500, 1000, 90_000, 3_600_000, 5_400_500].map(goDuration), ['0s', '500ms', '1s', '1m30s', '1h0m0s', '1h30m0.5s']);
  });

  test('the fixture project loads and round-trips through its own output', async () => {
    const p = await load(path.join(FIXTURES, 'counter'), { env: {} });
    assert.deepEqual(Object.keys(p.services), ['web', 'redis']);
    const again = dir({ 'compose.yaml': await configYaml(p) }, 'counter');
    const q = await load(again);
    assert.deepEqual(configTree(q), configTree(p));
  });
});

describe('hostile files', () => {
  test('an alias bomb is refused before it expands', async () => {
    const lines = ['x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    let prev = 'a';
    for (const name of 'bcdefghij') {
      lines.push(`x-${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
      prev = name;
    }
    lines.push(`services:\n  a:\n    image: x\n    command: *${prev}`);
    const t0 = Date.now();
    const err = await loadError(dir({ 'compose.yaml': `${lines.join('\n')}\n` }));
    assert.match(err.message, /Excessive alias count/);
    assert.ok(Date.now() - t0 < 5000);
  });

  test('deep nesting is refused with a message, not a stack overflow', async () => {
    const deep = (n: number) => `services:\n  a:\n    image: x\n    labels: ${'['.repeat(n)}${']'.repeat(n)}\n`;
    assert.match((await loadError(dir({ 'compose.yaml': deep(200) }))).message, /nested deeper than 64 levels/);
    assert.match((await loadError(dir({ 'compose.yaml': deep(20000) }))).message, /nested too deeply|nested deeper/);
  });

  test('a __proto__ key stays a key: no prototype is touched', async () => {
    const s = await svc('image: x\nenvironment:\n  __proto__: evil\n  A: "1"\nlabels:\n  constructor: c');
    assert.deepEqual(Object.keys(s.environment), ['__proto__', 'A']);
    assert.equal(Object.getPrototypeOf(s.environment), Object.prototype);
    assert.equal(({} as Record<string, unknown>).evil, undefined);
    assert.equal(s.labels.constructor, 'c');
  });

  test('a compose file that is not a regular file, or huge, is refused', async () => {
    const d = dir({});
    fs.mkdirSync(path.join(d, 'compose.yaml'));
    assert.match((await loadError(d, { files: ['compose.yaml'] })).message, /not a regular file/);
    const big = dir({});
    fs.writeFileSync(path.join(big, 'compose.yaml'), Buffer.alloc(9 * 1024 * 1024, 0x20));
    assert.match((await loadError(big)).message, /larger than/);
  });

  test('an env_file that is a device is not read', async () => {
    const err = await loadError(dir({ 'compose.yaml': 'services:\n  a:\n    image: x\n    env_file: /dev/zero\n' }));
    assert.match(err.message, /not a regular file/);
  });
});

describe('compose convert --kube', () => {
  test('Deployments, Services and claims that validate against the Kubernetes schemas', async () => {
    const { kubeObjects, kubeName } = await import('../../src/compose/kube.js');
    const { Deployment } = await import('kubernetes-models/apps/v1/Deployment');
    const { Service } = await import('kubernetes-models/v1/Service');
    const { PersistentVolumeClaim } = await import('kubernetes-models/v1/PersistentVolumeClaim');
    const d = dir({
      'token.txt': 't',
      'compose.yaml': `
name: my_shop
services:
  web_app:
    image: nginx
    command: ["nginx", "-g", "daemon off;"]
    entrypoint: /docker-entrypoint.sh
    environment: {A: "1"}
    ports: ["8080:80", "127.0.0.1:9090:90/udp"]
    expose: ["3000"]
    volumes: ["data:/data", "./html:/usr/share/nginx/html:ro", {type: tmpfs, target: /cache, tmpfs: {size: 1m}}]
    tmpfs: [/run]
    healthcheck: {test: "curl -f localhost", interval: 5s, timeout: 2s, retries: 3, start_period: 10s}
    deploy: {replicas: 3, resources: {limits: {memory: 64m, cpus: "0.5"}}}
    user: "101:101"
    read_only: true
    cap_drop: [ALL]
    secrets: [token]
    stop_grace_period: 20s
  worker:
    image: busybox
volumes:
  data:
secrets:
  token: {file: ./token.txt}
`,
    });
    const objs = kubeObjects(await load(d));
    assert.deepEqual(objs.map((o) => `${o.kind}/${(o.metadata as { name: string }).name}`), ['PersistentVolumeClaim/data', 'Deployment/web-app', 'Service/web-app', 'Deployment/worker']);
    for (const o of objs) {
      const Model = { Deployment, Service, PersistentVolumeClaim }[o.kind as 'Deployment' | 'Service' | 'PersistentVolumeClaim'];
      new Model(o as never).validate();
    }
    const web = objs[1] as any;
    assert.equal(web.spec.replicas, 3);
    const c = web.spec.template.spec.containers[0];
    assert.deepEqual([c.command, c.args], [['/docker-entrypoint.sh'], ['nginx', '-g', 'daemon off;']]);
    assert.deepEqual(c.ports, [{ containerPort: 80, protocol: 'TCP', hostPort: 8080 }, { containerPort: 90, protocol: 'UDP', hostPort: 9090, hostIP: '127.0.0.1' }]);
    assert.deepEqual(c.resources.limits, { memory: String(64 * 1024 * 1024), cpu: '0.5' });
    assert.deepEqual(c.livenessProbe, { exec: { command: ['/bin/sh', '-c', 'curl -f localhost'] }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3, initialDelaySeconds: 10 });
    assert.deepEqual(c.securityContext, { readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, runAsUser: 101, runAsGroup: 101 });
    const vols = web.spec.template.spec.volumes;
    assert.deepEqual(vols.map((v: any) => Object.keys(v)[1]), ['persistentVolumeClaim', 'hostPath', 'emptyDir', 'hostPath', 'emptyDir']);
    assert.equal(vols[1].hostPath.path, path.join(d, 'html'));
    assert.deepEqual(vols[3].hostPath, { path: path.join(d, 'token.txt'), type: 'File' });
    assert.equal(web.spec.template.spec.terminationGracePeriodSeconds, 20);
    const svc = objs[2] as any;
    assert.deepEqual(svc.spec.ports.map((p: any) => `${p.port}->${p.targetPort}/${p.protocol}`), ['8080->80/TCP', '9090->90/UDP', '3000->3000/TCP']);
    assert.equal(kubeName('My_App.v2'), 'my-app-v2');
  });
});

describe('extends', () => {
  test('a service of the same file: merged by the file rules, the extending service winning; chains', async () => {
    const p = await one(`
services:
  base:
    image: app:1
    environment: {A: "1", B: "1"}
    ports: ["8080:80"]
    command: ["base"]
  mid:
    extends: base
    environment: {B: "2"}
  web:
    extends: {service: mid}
    command: ["web"]
    ports: ["9090:90"]
`);
    const web = p.services.web!;
    assert.equal(web.image, 'app:1');
    assert.deepEqual(web.environment, { A: '1', B: '2' });
    assert.deepEqual(web.command, ['web']);
    assert.deepEqual(web.ports.map((x) => x.target), [80, 90]);
    assert.deepEqual(web.extra, {});
    assert.deepEqual(unsupportedKeys(p), []);
  });

  test('a service of another file: its relative paths are that file\'s', async () => {
    const d = dir({
      'common/base.yaml': 'services:\n  svc:\n    build: ./ctx\n    env_file: base.env\n    volumes: ["./data:/data"]\n',
      'common/base.env': 'FROM_BASE=1\n',
      'compose.yaml': 'services:\n  web:\n    extends:\n      file: common/base.yaml\n      service: svc\n    environment: [OWN=2]\n',
    });
    const web = (await load(d)).services.web!;
    assert.equal(web.build!.context, path.join(d, 'common', 'ctx'));
    assert.deepEqual(web.environment, { FROM_BASE: '1', OWN: '2' });
    assert.equal(web.volumes[0]!.source, path.join(d, 'common', 'data'));
  });

  test('a cycle or a missing service is an error', async () => {
    assert.match((await loadError(dir({ 'compose.yaml': 'services:\n  a:\n    extends: b\n  b:\n    extends: a\n' }))).message, /circular reference with extends/);
    assert.match((await loadError(dir({ 'compose.yaml': 'services:\n  a:\n    extends: nope\n' }))).message, /cannot extend service "a": service "nope" not found/);
  });
});

describe('include', () => {
  test('an included application: its resources copied in, its paths and .env its own, the outer environment winning', async () => {
    const d = dir({
      'db/compose.yaml': 'services:\n  db:\n    image: "postgres:${PG_TAG}"\n    env_file: db.env\n    volumes: ["./init:/init", "pg:/var/lib/postgresql"]\nvolumes:\n  pg:\n',
      'db/.env': 'PG_TAG=15\n',
      'db/db.env': 'POSTGRES_PASSWORD=x\n',
      'compose.yaml': 'include:\n  - db/compose.yaml\nservices:\n  web:\n    image: web\n    depends_on: [db]\n',
    });
    const p = await load(d);
    assert.deepEqual(Object.keys(p.services).sort(), ['db', 'web']);
    assert.equal(p.services.db!.image, 'postgres:15');
    assert.deepEqual(p.services.db!.environment, { POSTGRES_PASSWORD: 'x' });
    assert.equal(p.services.db!.volumes[0]!.source, path.join(d, 'db', 'init'));
    assert.equal(p.volumes.pg!.name, `${p.name}_pg`);
    assert.equal((await load(d, { env: { PG_TAG: '16' } })).services.db!.image, 'postgres:16');
  });

  test('long syntax (path list, env_file); a conflicting definition and a cycle are errors', async () => {
    const d = dir({
      'sub/a.yaml': 'services:\n  s:\n    image: "a:${T}"\n',
      'sub/b.yaml': 'services:\n  s:\n    environment: [B=1]\n',
      'sub/vars.env': 'T=9\n',
      'compose.yaml': 'include:\n  - path: [sub/a.yaml, sub/b.yaml]\n    env_file: sub/vars.env\n',
    });
    const s = (await load(d)).services.s!;
    assert.deepEqual([s.image, s.environment], ['a:9', { B: '1' }]);
    const conflict = dir({ 'inc.yaml': 'services:\n  s:\n    image: other\n', 'compose.yaml': 'include: [inc.yaml]\nservices:\n  s:\n    image: mine\n' });
    assert.match((await loadError(conflict)).message, /defines conflicting service s/);
    const loop = dir({ 'a.yaml': 'include: [b.yaml]\nservices: {}\n', 'b.yaml': 'include: [a.yaml]\nservices: {}\n', 'compose.yaml': 'include: [a.yaml]\nservices: {}\n' });
    assert.match((await loadError(loop)).message, /include cycle/);
  });
});

describe('YAML features compose files use', () => {
  test('x- extension fields with anchors and << merge keys', async () => {
    const p = await one(`
x-common: &common
  image: app:1
  restart: always
  environment: {SHARED: "1"}
services:
  a:
    <<: *common
    environment: {OWN: "a"}
  b:
    <<: *common
`);
    assert.deepEqual([p.services.a!.image, p.services.a!.restart, p.services.a!.environment], ['app:1', 'always', { OWN: 'a' }]);
    assert.deepEqual(p.services.b!.environment, { SHARED: '1' });
    assert.deepEqual(unsupportedKeys(p), []);
  });

  test('mode: 0440 is octal, as docker compose reads it; 0o440 too', async () => {
    const d = dir({ 'f': 'x', 'compose.yaml': 'services:\n  a:\n    image: x\n    configs:\n      - {source: c, mode: 0440}\n      - {source: c, target: /d, mode: 0o440}\nconfigs:\n  c: {file: ./f}\n' });
    assert.deepEqual((await load(d)).services.a!.configs.map((c) => c.mode), [0o440, 0o440]);
  });
});
