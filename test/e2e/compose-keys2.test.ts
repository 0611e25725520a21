/**
 * The compose keys of the second round (issue 18), end to end: published port ranges (one host port
 * per replica, and run -p range to range), mode/uid/gid of configs and secrets as the container sees
 * them, external ones refused with nothing created, a changed config recreating just its service,
 * build.dockerfile_inline, and platform (a multi-arch image pulled for it; foreign builds and
 * platforms the image lacks refused, naming the service).
 */
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Sandbox, REGISTRY, freePortRange } from '../support/harness.js';
import { getBody } from '../support/http.js';

const sb = new Sandbox('compose-keys2');
const dir = path.join(sb.dir, 'k2');
const file = path.join(dir, 'compose.yaml');
const BUSYBOX = `${REGISTRY}/library/busybox:latest`;
const MULTI = `${REGISTRY}/library/multi:latest`;
const exec = (c: string, ...cmd: string[]) => sb.ok(['exec', c, ...cmd]).trim();
const httpd = (root = '/www') => `["sh", "-c", "mkdir -p ${root} && hostname > ${root}/index.html && exec httpd -f -p 80 -h ${root}"]`;
let R = 0;

const get = async (port: number) => (await getBody(port, { timeout: 3000 })).trim();

function compose(config: string): void {
  fs.writeFileSync(
    file,
    `name: k2
services:
  web:
    image: ${BUSYBOX}
    command: ${httpd()}
    deploy: { replicas: 3 }
    ports: ["${R}-${R + 2}:80"]
  files:
    image: ${BUSYBOX}
    command: ["sleep", "300"]
    configs:
      - { source: conf, target: /etc/app.conf, mode: 0440, uid: "1000", gid: "1001" }
      - conf
      - { source: inline, target: /etc/inline, mode: 0400, uid: "70" }
    secrets: [token]
  keep:
    image: ${BUSYBOX}
    command: ["sleep", "300"]
    userns_mode: keep-id
    network_mode: bridge
    configs: [{ source: inline, target: /etc/inline, uid: "0" }]
  cfg:
    image: ${BUSYBOX}
    command: ["sleep", "300"]
    stop_grace_period: 1s
    configs: [site]
  other:
    image: ${BUSYBOX}
    command: ["sleep", "300"]
    stop_grace_period: 1s
  side:
    image: ${BUSYBOX}
    command: ["sleep", "300"]
    stop_grace_period: 1s
    network_mode: service:other
  built:
    stop_grace_period: 1s
    build:
      context: ./ctx
      dockerfile_inline: |
        FROM ${BUSYBOX}
        COPY data.txt /data.txt
        CMD ["sleep", "300"]
  arm:
    image: ${MULTI}
    platform: linux/arm64
    command: ["sleep", "300"]
  v2:
    image: ${BUSYBOX}
    platform: linux/amd64/v2
    command: ["sleep", "300"]
configs:
  conf: { file: ./app.conf }
  inline: { content: "inline-data" }
  site: { content: "${config}" }
secrets:
  token: { environment: TOKEN }
`,
  );
}

const names = () => sb.ok(['ps', '-a', '--format', '{{.Names}}']).trim().split('\n').filter(Boolean).sort();
const ids = () => Object.fromEntries(sb.ok(['ps', '-a', '--format', '{{.Names}} {{.ID}}']).trim().split('\n').filter(Boolean).map((l) => l.split(' ')));

before(async () => {
  R = await freePortRange(3);
  fs.mkdirSync(path.join(dir, 'ctx'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'ctx', 'data.txt'), 'from-the-context\n');
  fs.writeFileSync(path.join(dir, 'app.conf'), 'setting=42\n', { mode: 0o644 });
  compose('v1');
});
after(() => {
  sb.run(['compose', '-f', file, 'down', '-t', '1']);
  sb.dispose();
});

describe('compose keys, second round', () => {
  test('run -p A-B:80-81 publishes each container port on its host port', async () => {
    const a = await freePortRange(2);
    sb.ok(['run', '-d', '--name', 'pair', '-p', `${a}-${a + 1}:80-81`, BUSYBOX, 'sh', '-c',
      'mkdir -p /a /b && echo eighty > /a/index.html && echo eighty-one > /b/index.html && httpd -p 81 -h /b && exec httpd -f -p 80 -h /a']);
    try {
      assert.equal(await get(a), 'eighty');
      assert.equal(await get(a + 1), 'eighty-one');
    } finally {
      sb.run(['rm', '-f', '-t', '0', 'pair']);
    }
  });

  test('external secrets are refused at up, as docker compose does without swarm, and nothing is created', () => {
    const ext = path.join(dir, 'ext.yaml');
    fs.writeFileSync(ext, `name: ext\nservices:\n  s:\n    image: ${BUSYBOX}\n    secrets: [vault]\nsecrets:\n  vault: { external: true }\n`);
    const r = sb.run(['compose', '-f', ext, 'up', '-d']);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /^Error: service "s": unsupported external secret vault\n$/m);
    assert.deepEqual(names(), []);
    assert.doesNotMatch(sb.ok(['network', 'ls']), /ext_default/);
  });

  test('create flags a later service cannot have (keep-id on a user network) fail up before an earlier service is created', () => {
    const late = path.join(dir, 'late.yaml');
    fs.writeFileSync(late, `name: late\nservices:\n  first:\n    image: ${BUSYBOX}\n    command: [sleep, '60']\n  second:\n    image: ${BUSYBOX}\n    depends_on: [first]\n    userns_mode: keep-id\n`);
    const r = sb.run(['compose', '-f', late, 'up', '-d']);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /^Error: --userns keep-id cannot be used with .*\n$/m);
    assert.deepEqual(names(), []);
    assert.doesNotMatch(sb.ok(['network', 'ls']), /late_default/);
  });

  test('a platform the multi-arch image lacks, and a build for a foreign platform: errors naming the service, nothing created', () => {
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, `name: bad\nservices:\n  s390:\n    image: ${MULTI}\n    platform: linux/s390x\n`);
    let r = sb.run(['compose', '-f', bad, 'up', '-d']);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /Error: service "s390": platform linux\/s390x: .*linux\/amd64, linux\/arm64\/v8/);
    fs.writeFileSync(bad, `name: bad\nservices:\n  b:\n    build: { context: ./ctx, dockerfile_inline: "FROM scratch" }\n    platform: linux/arm64\n`);
    r = sb.run(['compose', '-f', bad, 'up', '-d']);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /^Error: service "b": platform linux\/arm64: tsctr builds images for this host's platform \(linux\/amd64\) only\n$/m);
    assert.deepEqual(names(), []);
  });

  test('up: every service starts and none of these keys is warned about', () => {
    const r = sb.run(['compose', '-f', file, 'up', '-d'], { timeout: 300_000, env: { TOKEN: 't0k3n' } });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /not supported|ignored/, r.stderr);
    assert.deepEqual(names(), ['k2-arm-1', 'k2-built-1', 'k2-cfg-1', 'k2-files-1', 'k2-keep-1', 'k2-other-1', 'k2-side-1', 'k2-v2-1', 'k2-web-1', 'k2-web-2', 'k2-web-3']);
  });

  test('a published range: replica N answers on the range\'s Nth port', async () => {
    for (let n = 1; n <= 3; n++) {
      const hostname = exec(`k2-web-${n}`, 'hostname');
      assert.equal(await get(R + n - 1), hostname, `port ${R + n - 1}`);
    }
  });

  test('--scale beyond the range: refused before anything changes', () => {
    const before = ids();
    const r = sb.run(['compose', '-f', file, 'up', '-d', '--scale', 'web=4'], { env: { TOKEN: 't0k3n' } });
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /^Error: service "web": the published port range \d+-\d+ for 80\/tcp has 3 ports, too few for 4 replicas/m);
    assert.deepEqual(ids(), before);
  });

  test('configs and secrets get their mode and owner (container ids), default 0444 root; read-only; the file source untouched', () => {
    assert.equal(exec('k2-files-1', 'cat', '/etc/app.conf'), 'setting=42');
    assert.equal(exec('k2-files-1', 'stat', '-c', '%a %u %g', '/etc/app.conf'), '440 1000 1001');
    // Without mode/uid/gid the file itself is bound: the user's own file, as root of the container sees it.
    assert.equal(exec('k2-files-1', 'stat', '-c', '%a %u %g', '/conf'), '644 0 0');
    assert.equal(exec('k2-files-1', 'cat', '/etc/inline'), 'inline-data');
    assert.equal(exec('k2-files-1', 'stat', '-c', '%a %u %g', '/etc/inline'), '400 70 0');
    assert.equal(exec('k2-files-1', 'cat', '/run/secrets/token'), 't0k3n');
    assert.equal(exec('k2-files-1', 'stat', '-c', '%a %u %g', '/run/secrets/token'), '444 0 0');
    // Another user of the container reads the 0440 file only through its group.
    assert.notEqual(sb.run(['exec', '-u', '1002:1002', 'k2-files-1', 'cat', '/etc/app.conf']).code, 0);
    assert.equal(sb.ok(['exec', '-u', '1002:1001', 'k2-files-1', 'cat', '/etc/app.conf']).trim(), 'setting=42');
    assert.notEqual(sb.run(['exec', 'k2-files-1', 'sh', '-c', 'echo x > /etc/app.conf']).code, 0, 'writable');
    const st = fs.statSync(path.join(dir, 'app.conf'));
    assert.equal(st.mode & 0o777, 0o644);
    assert.equal(st.uid, process.getuid!());
    assert.equal(fs.readFileSync(path.join(dir, 'app.conf'), 'utf8'), 'setting=42\n');
    // keep-id maps container root elsewhere than the default namespace: the owner follows the container's maps.
    assert.equal(exec('k2-keep-1', 'stat', '-c', '%a %u %g', '/etc/inline'), '444 0 0');
    assert.equal(exec('k2-keep-1', 'cat', '/etc/inline'), 'inline-data');
    // On the host the copies are in the owner-only project directory.
    assert.equal(fs.statSync(path.join(sb.root, 'compose-files', 'k2')).mode & 0o777, 0o700);
  });

  test('build.dockerfile_inline: built from the inline text with the context of context:', () => {
    assert.equal(exec('k2-built-1', 'cat', '/data.txt'), 'from-the-context');
  });

  test('platform: the arm64 image of the multi-arch index is pulled; linux/amd64/v2 runs the host\'s image', () => {
    const img = JSON.parse(sb.ok(['image', 'inspect', MULTI]))[0] as { Architecture: string; Config: { Labels: Record<string, string> } };
    assert.equal(img.Architecture, 'arm64');
    assert.equal(img.Config.Labels.arch, 'arm64');
    assert.equal(sb.ok(['inspect', '--format', '{{.State.Status}}', 'k2-arm-1']).trim(), 'running');
    assert.equal(sb.ok(['inspect', '--format', '{{.State.Status}}', 'k2-v2-1']).trim(), 'running');
    // compose pull asks for the service's platform too (the host's would replace the tag with amd64).
    sb.ok(['compose', '-f', file, 'pull', 'arm'], { env: { TOKEN: 't0k3n' } });
    assert.equal(sb.ok(['image', 'inspect', '--format', '{{.Architecture}}', MULTI]).trim(), 'arm64');
  });

  test('a changed content: config recreates just its service, and the new content is visible', () => {
    const before = ids();
    compose('v2');
    const r = sb.run(['compose', '-f', file, 'up', '-d'], { timeout: 300_000, env: { TOKEN: 't0k3n' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /k2-cfg-1\s+Recreate/);
    assert.equal((r.stderr.match(/Recreate/g) ?? []).length, 1, r.stderr);
    const now = ids();
    assert.notEqual(now['k2-cfg-1'], before['k2-cfg-1']);
    for (const n of Object.keys(before)) if (n !== 'k2-cfg-1') assert.equal(now[n], before[n], `${n} was recreated`);
    assert.equal(exec('k2-cfg-1', 'cat', '/site'), 'v2');
  });

  test('a rebuilt image recreates its service (up --build), as compose\'s image digest label does', () => {
    const before = ids();
    fs.writeFileSync(path.join(dir, 'ctx', 'data.txt'), 'changed\n');
    const r = sb.run(['compose', '-f', file, 'up', '-d', '--build'], { timeout: 300_000, env: { TOKEN: 't0k3n' } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stderr.match(/\S+(?=\s+Recreate)/g), ['k2-built-1'], r.stderr);
    assert.equal(exec('k2-built-1', 'cat', '/data.txt'), 'changed');
    assert.equal(ids()['k2-web-1'], before['k2-web-1']);
  });

  test('a service recreated alone takes the one in its network namespace (network_mode: service:) along on the next up', () => {
    sb.ok(['compose', '-f', file, 'up', '-d', '--force-recreate', 'other'], { env: { TOKEN: 't0k3n' } });
    const r = sb.run(['compose', '-f', file, 'up', '-d'], { timeout: 300_000, env: { TOKEN: 't0k3n' } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stderr.match(/\S+(?=\s+Recreate)/g), ['k2-side-1'], r.stderr);
    assert.equal(exec('k2-side-1', 'readlink', '/proc/self/ns/net'), exec('k2-other-1', 'readlink', '/proc/self/ns/net'));
  });

  test('down removes the written files, including those owned by other ids', () => {
    sb.ok(['compose', '-f', file, 'down', '-t', '1']);
    assert.equal(fs.existsSync(path.join(sb.root, 'compose-files', 'k2')), false);
    assert.deepEqual(names(), []);
  });
});
