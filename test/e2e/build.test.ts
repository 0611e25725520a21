/**
 * Making images: `commit` of a container's changes and `build` from Dockerfiles, run as the
 * unprivileged test user — RUN steps in real rootless containers, layers holding only their
 * differences, the build cache, and the images run afterwards.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { freePort, inspectJson } from '../support/harness.js';
import { useSandbox } from '../support/hooks.js';

const sb = useSandbox('build', { pull: ['busybox'] });

function context(name: string, files: Record<string, string>): string {
  const dir = path.join(sb.dir, name);
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

function layerCount(image: string): number {
  return inspectJson<{ RootFS: { Layers: string[] } }>(sb, image).RootFS.Layers.length;
}



describe('commit', () => {
  test('the writable layer becomes one new layer: added files, deletions as whiteouts, --change and -m', () => {
    sb.ok(['run', '--name', 'c1', 'busybox', 'sh', '-c', 'echo hello > /hello && rm /bin/ls && mkdir -p /data && echo x > /data/x']);
    const id = sb.ok(['commit', '-m', 'first commit', '-c', 'CMD ["cat", "/hello"]', '-c', 'ENV COMMITTED=yes', 'c1', 'committed:v1']).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(layerCount('committed:v1'), layerCount('busybox') + 1);
    assert.equal(sb.ok(['run', '--rm', 'committed:v1']), 'hello\n');
    const r = sb.run(['run', '--rm', 'committed:v1', 'sh', '-c', 'cat /data/x; echo $COMMITTED; ls /bin/ls']);
    assert.equal(r.stdout, 'x\nyes\n');
    assert.match(r.stderr, /ls: \/bin\/ls: No such file or directory/);
    // The runtime's mount points (hostname, hosts, resolv.conf) are not part of the change.
    const hist = sb.ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'committed:v1']).split('\n');
    assert.match(hist[0]!, /echo hello > \/hello.*\|first commit$/);
    const cfg = inspectJson<{ Config: { Cmd: string[] }; Parent: string }>(sb, 'committed:v1');
    assert.deepEqual(cfg.Config.Cmd, ['cat', '/hello']);
  });

  test('bad input changes nothing', () => {
    const before = sb.ok(['images', '-aq']);
    const r1 = sb.run(['commit', 'no-such-container', 'x:1']);
    assert.equal(r1.code, 125);
    assert.match(r1.stderr, /^Error: No such container: no-such-container/);
    const r2 = sb.run(['commit', '-c', 'RUN echo no', 'c1', 'x:1']);
    assert.equal(r2.code, 125);
    assert.match(r2.stderr, /RUN is not a valid change command/);
    const r3 = sb.run(['commit', 'c1', 'Bad:Name']);
    assert.equal(r3.code, 125);
    assert.equal(sb.ok(['images', '-aq']), before);
  });
});

describe('build', () => {
  const app = context('app', {
    Dockerfile: [
      '# syntax=docker/dockerfile:1',
      'FROM busybox',
      'ARG GREETING=hello',
      'ENV APP=/app \\',
      '    MODE=prod',
      'WORKDIR $APP',
      'COPY index.html ./',
      'COPY data/ ./data/',
      'RUN echo "$GREETING from build" > /app/greet && \\',
      '    rm -f /bin/vi',
      'LABEL org.example.name="demo app"',
      'EXPOSE 8080/tcp',
      'STOPSIGNAL SIGQUIT',
      'CMD ["cat", "/app/greet"]',
      '',
    ].join('\n'),
    'index.html': '<h1>v1</h1>\n',
    'data/sub/file': 'data\n',
    'data/secret.txt': 'do not ship\n',
    '.dockerignore': '# comments are fine\ndata/secret.txt\n',
  });

  test('a Dockerfile builds into an image that runs as described', () => {
    const out = sb.ok(['build', '-t', 'demo:1', '--build-arg', 'GREETING=hey', app]);
    assert.match(out, /^Step 1\/11 : FROM busybox$/m);
    assert.match(out, /^Step 7\/11 : RUN echo/m);
    assert.match(out, /^ ---> Running in [0-9a-f]{12}$/m);
    assert.match(out, /^Successfully built [0-9a-f]{12}$/m);
    assert.match(out, /^Successfully tagged demo:1$/m);
    assert.equal(sb.ok(['run', '--rm', 'demo:1']), 'hey from build\n');
    const r = sb.run(['run', '--rm', 'demo:1', 'sh', '-c', 'pwd; echo $APP $MODE; cat index.html data/sub/file; ls data; ls /bin/vi']);
    assert.equal(r.stdout, '/app\n/app prod\n<h1>v1</h1>\ndata\nsub\n');
    assert.match(r.stderr, /No such file or directory/);
    const cfg = inspectJson<{ Config: Record<string, unknown> }>(sb, 'demo:1').Config;
    assert.deepEqual(cfg.ExposedPorts, { '8080/tcp': {} });
    assert.deepEqual(cfg.Labels, { 'org.example.name': 'demo app' });
    assert.equal(cfg.StopSignal, 'SIGQUIT');
    assert.equal(cfg.WorkingDir, '/app');
    // One layer per COPY and RUN, on busybox's; the RUN's holds exactly what it changed.
    assert.equal(layerCount('demo:1'), layerCount('busybox') + 3);
    const archive = path.join(sb.dir, 'demo.tar');
    sb.ok(['save', '-o', archive, 'demo:1']);
    const runLayer = inspectJson<{ RootFS: { Layers: string[] } }>(sb, 'demo:1').RootFS.Layers.at(-1)!.slice(7);
    const listing = spawnSync('sh', ['-c', `tar -xOf ${archive} ${runLayer}/layer.tar | tar -t`], { encoding: 'utf8' });
    assert.deepEqual(listing.stdout.trim().split('\n').sort(), ['app/', 'app/greet', 'bin/', 'bin/.wh.vi']);
    // The steps' images are hidden from `images`, shown by `images -a`.
    assert.doesNotMatch(sb.ok(['images']), /<none>/);
    assert.match(sb.ok(['images', '-a']), /<none>/);
  });

  test('unchanged steps come from the cache; a changed file rebuilds from its COPY on', () => {
    const again = sb.ok(['build', '-t', 'demo:1', '--build-arg', 'GREETING=hey', app]);
    assert.equal((again.match(/Using cache/g) ?? []).length, 10);
    assert.doesNotMatch(again, /Running in/);
    const id1 = inspectJson<{ Id: string }>(sb, 'demo:1').Id;
    assert.match(again, new RegExp(`Successfully built ${id1.slice(7, 19)}`));

    fs.writeFileSync(path.join(app, 'index.html'), '<h1>v2</h1>\n');
    const changed = sb.ok(['build', '-t', 'demo:2', '--build-arg', 'GREETING=hey', app]);
    assert.equal((changed.match(/Using cache/g) ?? []).length, 3); // ARG, ENV, WORKDIR; not COPY index.html and after
    assert.match(changed, /Running in/);
    assert.equal(sb.ok(['run', '--rm', 'demo:2', 'cat', 'index.html']), '<h1>v2</h1>\n');
    // The ignored file changing does not bust the cache.
    fs.writeFileSync(path.join(app, 'data/secret.txt'), 'still secret\n');
    assert.equal((sb.ok(['build', '-t', 'demo:2', '--build-arg', 'GREETING=hey', app]).match(/Using cache/g) ?? []).length, 10);
    // Another build argument reruns the RUN (its environment is part of the key).
    const other = sb.ok(['build', '-t', 'demo:3', '--build-arg', 'GREETING=bonjour', app]);
    assert.match(other, /Running in/);
    assert.equal(sb.ok(['run', '--rm', 'demo:3']), 'bonjour from build\n');
    // --no-cache runs everything.
    assert.doesNotMatch(sb.ok(['build', '--no-cache', '-t', 'demo:3', '--build-arg', 'GREETING=bonjour', app]), /Using cache/);
  });

  test('rmi of a built image removes its build steps with it', () => {
    const ctx = context('rmi', { Dockerfile: 'FROM busybox\nENV ONLY_HERE=1\nRUN echo unique-rmi-step > /f\nCMD ["cat", "/f"]\n' });
    sb.ok(['build', '-t', 'gone:1', ctx]);
    const before = sb.ok(['images', '-aq', '--no-trunc']).trim().split('\n').length;
    const out = sb.ok(['rmi', 'gone:1']);
    const deleted = out.split('\n').filter((l) => l.startsWith('Deleted: sha256:')).length;
    // The image (its CMD step), the RUN and ENV steps, and the RUN's layer.
    assert.equal(deleted, 4, out);
    assert.equal(sb.ok(['images', '-aq', '--no-trunc']).trim().split('\n').length, before - 3);
  });

  test('multi-stage: COPY --from a stage, ADD unpacks a tarball, COPY --chown, USER and ENTRYPOINT', () => {
    const ctx = context('multi', {
      'src/app.sh': 'echo "built by stage one as $(id -u)"\n',
      Dockerfile: [
        'FROM busybox AS build',
        'WORKDIR /src',
        'COPY src/ .',
        'RUN mkdir /out && cp app.sh /out/ && chmod 755 /out/app.sh && \\',
        '    echo "app:x:1234:1234::/home/app:/bin/sh" >> /etc/passwd && echo "app:x:1234:" >> /etc/group',
        '',
        'FROM busybox AS unused',
        'RUN exit 3',
        '',
        'FROM busybox',
        'COPY --from=build /out/app.sh /usr/local/bin/',
        'COPY --from=build /etc/passwd /etc/group /etc/',
        'ADD bundle.tgz /opt/bundle/',
        'COPY --chown=app:app src/app.sh /home/app/',
        'COPY --chmod=700 src/app.sh /private/run.sh',
        'USER app',
        'ENTRYPOINT ["sh", "/usr/local/bin/app.sh"]',
      ].join('\n'),
    });
    spawnSync('tar', ['czf', path.join(ctx, 'bundle.tgz'), '-C', path.join(ctx, 'src'), 'app.sh']);
    // Building every stage (classic builder) would fail on the unused one; --target picks.
    const r = sb.run(['build', '-t', 'multi-app', ctx]);
    assert.equal(r.code, 125, 'the unused stage runs without --target and fails');
    assert.match(r.stderr, /^Error: Dockerfile:8: The command '\/bin\/sh -c exit 3' returned a non-zero code: 3$/m);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), fs.readFileSync(path.join(ctx, 'Dockerfile'), 'utf8').replace('RUN exit 3', 'RUN true'));
    sb.ok(['build', '-q', '-t', 'multi-app', ctx]);
    assert.equal(sb.ok(['run', '--rm', 'multi-app']), 'built by stage one as 1234\n');
    const ls = sb.ok(['run', '--rm', '--entrypoint', 'sh', 'multi-app', '-c', 'ls -ln /home/app/app.sh /opt/bundle/app.sh /private/run.sh']);
    assert.match(ls, /^-rwx------\s+1 0\s+0\s.*\/private\/run.sh$/m);
    assert.match(ls, /1234\s+1234\s+.*\/home\/app\/app.sh/);
    // Unpacked files keep the archive's owners (here: the test user that made it).
    assert.match(ls, new RegExp(`${process.getuid!()}\\s+${process.getgid!()}\\s+.*/opt/bundle/app.sh`));
    // --target stops at a stage.
    sb.ok(['build', '-q', '--target', 'build', '-t', 'multi-build', ctx]);
    assert.equal(sb.ok(['run', '--rm', 'multi-build', 'ls', '/out']), 'app.sh\n');
  });

  test('a multi-stage C build: gcc in the first stage, only the static binary in a scratch image', () => {
    sb.ok(['pull', '-q', 'gcc']);
    const ctx = context('cbuild', {
      'hello.c': '#include <stdio.h>\nint main(void) { printf("hello from C\\n"); return 0; }\n',
      Dockerfile: [
        'FROM gcc AS build',
        'WORKDIR /src',
        'COPY hello.c .',
        'RUN gcc -O2 -static -o /hello hello.c && strip /hello',
        '',
        'FROM scratch',
        'COPY --from=build /hello /hello',
        'CMD ["/hello"]',
      ].join('\n'),
    });
    sb.ok(['build', '-q', '-t', 'hello-c', ctx]);
    assert.equal(sb.ok(['run', '--rm', 'hello-c']), 'hello from C\n');
    assert.equal(layerCount('hello-c'), 1, 'the binary alone');
  });

  test('a static site on nginx serves its page through a published port', async () => {
    sb.ok(['pull', '-q', 'nginx']);
    const ctx = context('site', {
      Dockerfile: 'FROM nginx\nCOPY site/ /var/www/html/\n',
      'site/index.html': '<h1>built with tsctr</h1>\n',
    });
    sb.ok(['build', '-q', '--label', 'org.example.site=yes', '-t', 'site', ctx]);
    assert.equal(sb.ok(['inspect', '-f', '{{index .Config.Labels "org.example.site"}}', 'site']), 'yes\n');
    const port = await freePort();
    sb.ok(['run', '-d', '--name', 'site', '-p', `${port}:80`, 'site']);
    let body = '';
    for (let i = 0; i < 100 && !body.includes('built with tsctr'); i++) {
      body = spawnSync('curl', ['-s', '-m', '2', `http://127.0.0.1:${port}/`], { encoding: 'utf8' }).stdout;
      if (!body) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(body, '<h1>built with tsctr</h1>\n');
    sb.ok(['rm', '-f', 'site']);
  });

  test('errors point at the Dockerfile line and leave no image behind', () => {
    const before = sb.ok(['images', '-q']);
    const containers = sb.ok(['ps', '-aq']);
    const cases: [Record<string, string>, RegExp][] = [
      [{ Dockerfile: 'FROM busybox\nFROBNICATE now\n' }, /^Error: Dockerfile:2: unknown instruction: FROBNICATE$/m],
      [{ Dockerfile: 'FROM busybox\nRUN echo out; echo err >&2; exit 7\n' }, /^Error: Dockerfile:2: The command '\/bin\/sh -c echo out; echo err >&2; exit 7' returned a non-zero code: 7$/m],
      [{ Dockerfile: 'FROM busybox\nCOPY ../outside /x\n' }, /^Error: Dockerfile:2: forbidden path outside the build context: \.\.\/outside$/m],
      [{ Dockerfile: 'FROM busybox\nCOPY missing.txt /x\n' }, /^Error: Dockerfile:2: COPY failed: file not found in build context/m],
      [{ Dockerfile: 'RUN true\n' }, /^Error: Dockerfile:1: RUN before the first FROM/m],
    ];
    for (const [files, want] of cases) {
      const ctx = context(`err-${cases.findIndex((c) => c[0] === files)}`, files);
      const r = sb.run(['build', '-t', 'broken', ctx]);
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, want);
    }
    const failing = sb.run(['build', context('err-1', {})]);
    assert.match(failing.stdout, /^out$/m);
    assert.match(failing.stderr, /^err$/m);
    assert.equal(sb.ok(['images', '-q']), before);
    assert.equal(sb.ok(['ps', '-aq']), containers, 'no build container left behind');
  });

  test('a symlink in the context is copied as a link, never followed out of the context', () => {
    const ctx = context('links', { Dockerfile: 'FROM busybox\nCOPY . /ctx/\n' });
    fs.symlinkSync('/etc/shadow', path.join(ctx, 'shadow-link'));
    fs.symlinkSync('/etc', path.join(ctx, 'etc-link'));
    sb.ok(['build', '-q', '-t', 'links', ctx]);
    assert.equal(sb.ok(['run', '--rm', 'links', 'readlink', '/ctx/shadow-link']), '/etc/shadow\n');
    const ctx2 = context('links2', { Dockerfile: 'FROM busybox\nCOPY etc-link/passwd /x\n' });
    fs.symlinkSync('/etc', path.join(ctx2, 'etc-link'));
    const r2 = sb.run(['build', '-t', 'links2', ctx2]);
    assert.equal(r2.code, 125);
    assert.match(r2.stderr, /file not found in build context/);
  });
});
