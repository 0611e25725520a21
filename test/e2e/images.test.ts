/**
 * The image store end to end: real registries (plain mirror, basic auth, token auth), real
 * extraction in a user namespace, run as an unprivileged user.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, Sandbox, inspectJson, subordinateStart, AUTH_REGISTRY, AUTH_USER, AUTH_PASS, TOKEN_REGISTRY, TOKEN_SERVER } from '../support/harness.js';
import { inScript } from '../support/pty.js';

interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Architecture: string;
  Config: { Cmd: string[]; ExposedPorts: Record<string, object>; StopSignal: string; Labels: Record<string, string> | null };
  RootFS: { Layers: string[] };
  Size: number;
}

const layerDirs = (sb: Sandbox) => fs.readdirSync(path.join(sb.root, 'layers')).sort();
const layerPath = (sb: Sandbox, diffId: string) => path.join(sb.root, 'layers', diffId.slice(7));

describe('pull and the image store', () => {
  const sb = new Sandbox('images');
  after(() => sb.cleanup());

  test('an invalid reference fails with exit 125 before any network call or store change', () => {
    for (const bad of ['Nginx', 'nginx@sha256:123', '', 'a//b', 'nginx:-tag']) {
      const r = sb.run(['pull', bad]);
      assert.equal(r.code, 125, `pull "${bad}" → ${r.code} ${r.stderr}`);
      assert.match(r.stderr, /^Error: invalid reference format/);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
    }
    assert.equal(fs.existsSync(sb.root), false, 'no store was created');
  });

  test('pull nginx resolves docker.io/library/nginx through the mirror', () => {
    const out = sb.ok(['pull', 'nginx']);
    assert.match(out, /latest: Pulling from library\/nginx/);
    assert.match(out, /Pull complete/);
    assert.match(out, /Digest: sha256:[a-f0-9]{64}/);
    assert.match(out, /Status: Downloaded newer image for nginx:latest/);
    assert.equal(out.trim().split('\n').at(-1), 'docker.io/library/nginx:latest');
    const img = inspectJson<ImageInspect>(sb, 'nginx');
    assert.deepEqual(img.RepoTags, ['nginx:latest']);
    assert.deepEqual(img.Config.Cmd, ['nginx', '-g', 'daemon off;']);
    assert.deepEqual(Object.keys(img.Config.ExposedPorts), ['80/tcp']);
    assert.equal(img.Config.StopSignal, 'SIGQUIT');
    assert.equal(img.RootFS.Layers.length, 2);
    assert.ok(img.Size > 50_000_000, `size ${img.Size}`);
  });

  test('a second pull is a no-op that says so', () => {
    const out = sb.ok(['pull', 'nginx']);
    assert.match(out, /Already exists/);
    assert.match(out, /Status: Image is up to date for nginx:latest/);
  });

  test('layers keep their ownership as the container will see it (subordinate uids on the host)', () => {
    const img = inspectJson<ImageInspect>(sb, 'nginx');
    const subuid = subordinateStart('uid');
    const owners = new Set<number>();
    const walk = (dir: string, depth: number) => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return; // a 0700 directory of another (subordinate) uid: exactly the point
      }
      for (const e of entries) {
        const p = path.join(dir, e.name);
        owners.add(fs.lstatSync(p).uid);
        if (e.isDirectory() && depth < 6) walk(p, depth + 1);
      }
    };
    walk(layerPath(sb, img.RootFS.Layers[0]!), 0);
    const me = process.getuid!();
    // Image uid 0 is the user; image uid N>0 is subuid_start + N - 1.
    assert.ok(owners.has(me) || me === 0, `root-owned files map to ${me}: ${[...owners]}`);
    if (me !== 0) {
      assert.ok([...owners].some((u) => u >= subuid), `some files belong to subordinate uids: ${[...owners]}`);
      const passwd = fs.statSync(path.join(layerPath(sb, img.RootFS.Layers[0]!), 'usr/bin/passwd'));
      assert.equal(passwd.uid, me, 'passwd is owned by (container) root');
      assert.ok(passwd.mode & 0o4000, 'setuid bit kept');
    }
  });

  test('debian and nginx share their base layer on disk', () => {
    sb.ok(['pull', '-q', 'debian:bookworm']);
    const nginx = inspectJson<ImageInspect>(sb, 'nginx');
    const debian = inspectJson<ImageInspect>(sb, 'debian:bookworm');
    assert.equal(debian.RootFS.Layers.length, 1);
    assert.equal(nginx.RootFS.Layers[0], debian.RootFS.Layers[0]);
    assert.deepEqual(layerDirs(sb), [...new Set([...nginx.RootFS.Layers, ...debian.RootFS.Layers])].map((d) => d.slice(7)).sort());
  });

  test('images lists with docker columns, -q, --format, --filter and --digests', () => {
    const table = sb.ok(['images']);
    const lines = table.trim().split('\n');
    assert.match(lines[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.ok(lines.some((l) => /^nginx\s+latest\s+[a-f0-9]{12}\s+.+ago\s+\d+(\.\d+)?MB$/.test(l)), table);
    assert.ok(lines.some((l) => /^debian\s+bookworm\s/.test(l)), table);
    const ids = sb.ok(['images', '-q']).trim().split('\n');
    assert.equal(ids.length, 2);
    assert.ok(ids.every((id) => /^[a-f0-9]{12}$/.test(id)));
    assert.equal(sb.ok(['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=ngin*']).trim(), 'nginx:latest');
    const json = JSON.parse(sb.ok(['images', '--format', '{{json .}}', 'nginx']).trim());
    assert.equal(json.Repository, 'nginx');
    assert.match(json.ID, /^[a-f0-9]{12}$/);
    assert.match(sb.ok(['images', '--digests', 'nginx']), /nginx\s+latest\s+sha256:[a-f0-9]{64}\s+[a-f0-9]{12}/);
    assert.equal(sb.ok(['images', '--filter', 'dangling=true', '-q']).trim(), '');
    const bad = sb.run(['images', '--filter', 'colour=blue']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: invalid filter 'colour'/);
  });

  test('tag, inspect -f, history', () => {
    sb.ok(['tag', 'nginx', 'localhost:5999/web:v1']);
    assert.match(sb.ok(['images']), /localhost:5999\/web\s+v1\s/);
    assert.equal(sb.ok(['inspect', '-f', '{{.Config.StopSignal}} {{json .Config.Cmd}}', 'localhost:5999/web:v1']).trim(), 'SIGQUIT ["nginx","-g","daemon off;"]');
    assert.equal(sb.ok(['inspect', '-f', '{{.Id}}', 'nginx']), sb.ok(['inspect', '-f', '{{.Id}}', 'localhost:5999/web:v1']));
    const hist = sb.ok(['history', 'nginx']).trim().split('\n');
    assert.match(hist[0]!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.ok(hist.length >= 3);
    const missing = sb.run(['inspect', 'nosuchimage']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such object: nosuchimage/);
  });

  test('rmi untags first, refuses an ID with several tags, then frees only unshared layers', () => {
    const id = sb.ok(['inspect', '-f', '{{.Id}}', 'nginx']).trim();
    const refused = sb.run(['rmi', id.slice(7, 19)]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /must be forced\) - image is referenced in multiple repositories/);
    assert.equal(sb.ok(['rmi', 'localhost:5999/web:v1']).trim(), 'Untagged: localhost:5999/web:v1');
    const nginx = inspectJson<ImageInspect>(sb, 'nginx');
    const out = sb.ok(['rmi', 'nginx']);
    assert.match(out, /Untagged: nginx:latest/);
    assert.match(out, new RegExp(`Deleted: ${id}`));
    assert.deepEqual(layerDirs(sb), [nginx.RootFS.Layers[0]!.slice(7)], 'the debian base layer stays, the nginx layer goes');
    const gone = sb.run(['rmi', 'nginx']);
    assert.equal(gone.code, 1, 'as docker: 1 for a verb over names');
    assert.match(gone.stderr, /^Error: No such image: nginx/);
    // Several arguments: each reported, non-zero exit when one failed.
    const mixed = sb.run(['rmi', 'debian:bookworm', 'nosuch']);
    assert.notEqual(mixed.code, 0);
    assert.match(mixed.stdout, /Untagged: debian:bookworm/);
    assert.match(mixed.stderr, /No such image: nosuch/);
    assert.deepEqual(layerDirs(sb), []);
    assert.deepEqual(fs.readdirSync(path.join(sb.root, 'blobs', 'sha256')), [], 'no manifest/config blobs left');
  });
});

describe('platforms and layer semantics', () => {
  const sb = new Sandbox('platforms');
  after(() => sb.cleanup());

  test('an image index resolves to this machine, or to --platform', () => {
    sb.ok(['pull', '-q', 'multi']);
    assert.equal(sb.ok(['inspect', '-f', '{{.Architecture}} {{index .Config.Labels "arch"}}', 'multi']).trim(), 'amd64 amd64');
    sb.ok(['pull', '-q', '--platform', 'linux/arm64', 'multi']);
    assert.equal(sb.ok(['inspect', '-f', '{{.Architecture}} {{index .Config.Labels "arch"}}', 'multi']).trim(), 'arm64 arm64');
    const none = sb.run(['pull', '--platform', 'linux/s390x', 'multi']);
    assert.equal(none.code, 125);
    assert.match(none.stderr, /no image found in image index for architecture s390x/);
    assert.match(none.stderr, /linux\/amd64/);
  });

  test('whiteouts and opaque directories become overlay whiteouts and opaque xattrs', async () => {
    sb.ok(['pull', '-q', 'whiteout']);
    const img = inspectJson<ImageInspect>(sb, 'whiteout');
    const top = layerPath(sb, img.RootFS.Layers.at(-1)!);
    const wh = fs.lstatSync(path.join(top, 'etc', 'deleteme'));
    assert.ok(wh.isCharacterDevice(), 'whiteout is a character device');
    assert.equal(wh.rdev, 0, 'whiteout is device 0/0');
    assert.equal(fs.existsSync(path.join(top, 'etc', '.wh.deleteme')), false);
    assert.equal(fs.existsSync(path.join(top, 'opq', '.wh..wh..opq')), false);
    assert.ok(fs.existsSync(path.join(top, 'opq', 'c')));
    const { lgetxattr } = await import('../../src/rootless/syscalls.js');
    assert.equal(lgetxattr(path.join(top, 'opq'), 'user.overlay.opaque')?.toString(), 'y');
  });

  test('unknown images and tags are clear errors', () => {
    const r = sb.run(['pull', 'nosuchimage']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Error: manifest for nosuchimage:latest not found: manifest unknown/);
  });
});

describe('registry authentication', () => {
  const sb = new Sandbox('auth');
  after(() => sb.cleanup());

  test('basic auth: denied without login, wrong password refused, login stores 0600 credentials', () => {
    const denied = sb.run(['pull', `${AUTH_REGISTRY}/private/busybox`]);
    assert.equal(denied.code, 125);
    assert.match(denied.stderr, /access denied|unauthorized/i);
    const wrong = sb.run(['login', '-u', AUTH_USER, '--password-stdin', AUTH_REGISTRY], { input: 'nope\n' });
    assert.equal(wrong.code, 125);
    assert.match(wrong.stderr, /invalid username\/password/);
    assert.equal(fs.existsSync(sb.env.REGISTRY_AUTH_FILE!), false, 'nothing saved for bad credentials');
    assert.equal(sb.ok(['login', '-u', AUTH_USER, '--password-stdin', AUTH_REGISTRY], { input: `${AUTH_PASS}\n` }).trim(), 'Login Succeeded!');
    assert.equal(fs.statSync(sb.env.REGISTRY_AUTH_FILE!).mode & 0o777, 0o600);
    sb.ok(['pull', '-q', `${AUTH_REGISTRY}/private/busybox`]);
    assert.match(sb.ok(['images']), new RegExp(`${AUTH_REGISTRY}/private/busybox\\s+latest`));
    assert.equal(sb.ok(['logout', AUTH_REGISTRY]).trim(), `Removed login credentials for ${AUTH_REGISTRY}`);
    assert.equal(sb.run(['logout', AUTH_REGISTRY]).code, 125);
  });

  test('credentials are read from ~/.docker/config.json too', () => {
    const home = path.join(sb.dir, 'home');
    fs.mkdirSync(path.join(home, '.docker'), { recursive: true });
    fs.writeFileSync(path.join(home, '.docker', 'config.json'), JSON.stringify({ auths: { [AUTH_REGISTRY]: { auth: Buffer.from(`${AUTH_USER}:${AUTH_PASS}`).toString('base64') } } }));
    sb.ok(['rmi', `${AUTH_REGISTRY}/private/busybox`]);
    sb.ok(['pull', '-q', `${AUTH_REGISTRY}/private/busybox`], { env: { HOME: home, REGISTRY_AUTH_FILE: path.join(sb.dir, 'none.json') } });
  });

  test('bearer tokens: anonymous pull through the token flow, one token per pull', async () => {
    const before = ((await (await fetch(`${TOKEN_SERVER}/stats`)).json()) as { tokenRequests: number }).tokenRequests;
    sb.ok(['pull', '-q', `${TOKEN_REGISTRY}/tokentest/busybox`]);
    const after = ((await (await fetch(`${TOKEN_SERVER}/stats`)).json()) as { tokenRequests: number }).tokenRequests;
    assert.equal(after - before, 1, 'the token is cached for the manifest and every blob');
    const wrong = sb.run(['login', '-u', AUTH_USER, '-p', 'bad', TOKEN_REGISTRY]);
    assert.equal(wrong.code, 125);
    assert.match(wrong.stderr, /invalid username\/password/);
    assert.match(sb.ok(['login', '-u', AUTH_USER, '-p', AUTH_PASS, TOKEN_REGISTRY]), /Login Succeeded/);
  });
});

describe('layer compression and progress output', () => {
  const sb = new Sandbox('compress');
  after(() => sb.cleanup());
  const repo = `${process.env.REGISTRY || '127.0.0.1:5000'}/zstdtest-${process.pid}/busybox`;

  test('zstd-compressed layers are pulled, verified and run', () => {
    // skopeo recompresses the fixture into a zstd OCI image in the real registry.
    const copy = spawnSync('skopeo', ['--insecure-policy', 'copy', '-q', '--src-tls-verify=false', '--dest-tls-verify=false', '--format', 'oci',
      '--dest-compress-format', 'zstd', `docker://${process.env.REGISTRY || '127.0.0.1:5000'}/library/busybox:latest`, `docker://${repo}:zstd`], { encoding: 'utf8', env: { ...process.env, HOME: sb.dir } });
    assert.equal(copy.status, 0, copy.stderr);
    const raw = spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${repo}:zstd`], { encoding: 'utf8', env: { ...process.env, HOME: sb.dir } });
    assert.match(raw.stdout, /application\/vnd\.oci\.image\.layer\.v1\.tar\+zstd/);
    sb.ok(['pull', '-q', `${repo}:zstd`]);
    assert.equal(sb.ok(['run', '--rm', `${repo}:zstd`, 'echo', 'zstd ok']), 'zstd ok\n');
    // The same content as the gzip original: same diffIDs, so the store holds the layer once.
    sb.ok(['pull', '-q', 'busybox']);
    const layers = (ref: string) => inspectJson<ImageInspect>(sb, ref).RootFS.Layers;
    assert.deepEqual(layers(`${repo}:zstd`), layers('busybox'));
  });

  test('on a terminal, pull draws a progress line per layer in place; elsewhere plain lines', () => {
    // script(1) gives the pull a pseudo-terminal as stdout.
    const env = Object.entries(sb.env).map(([k, v]) => `${k}=${v}`);
    const tty = inScript(['env', '-i', ...env, BIN, 'pull', 'nginx'].map((a) => `'${a}'`).join(' '));
    assert.equal(tty.status, 0, tty.stdout);
    assert.match(tty.stdout, /\x1b\[\d+A/, 'cursor moved up to redraw');
    assert.match(tty.stdout, /\x1b\[2K[0-9a-f]{12}: Downloading\s+\[=*>? *\]\s+\S+\/\S+/, 'a download bar');
    assert.match(tty.stdout, /[0-9a-f]{12}: Pull complete/);
    assert.match(tty.stdout, /Status: Downloaded newer image for nginx:latest/);
    sb.ok(['rmi', 'nginx']);
    const plain = sb.ok(['pull', 'nginx']);
    assert.doesNotMatch(plain, /\x1b\[/, 'no escape sequences when not a terminal');
    assert.match(plain, /^[0-9a-f]{12}: Pull complete$/m);
  });
});
