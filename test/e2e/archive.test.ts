/**
 * save, load, export and import end to end: archives that go round through tsctr, through podman
 * (and skopeo) and back, container filesystems out and in again, and archives that must be
 * refused whole.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { BIN, REGISTRY, Sandbox, inspectJson } from '../support/harness.js';
import { inScript } from '../support/pty.js';

interface ImageInspect {
  Id: string;
  RepoTags: string[];
  Comment: string;
  Config: { Cmd: string[] | null; Env: string[] | null };
  RootFS: { Layers: string[] };
}

const has = (tool: string) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
const hasPodman = has('podman') && has('skopeo');

/** tsctr with binary stdin and stdout (the harness speaks text). */
function bin(sb: Sandbox, args: string[], input?: Buffer): { code: number; stdout: Buffer; stderr: string } {
  const r = spawnSync(BIN, args, { env: sb.env, input, maxBuffer: 256 << 20, timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr.toString() };
}

function tarList(file: string): string[] {
  const r = spawnSync('tar', ['-tf', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

function tarCat(file: string, member: string): string {
  const r = spawnSync('tar', ['-xOf', file, member], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** Where a member's data starts in an uncompressed archive with short (ustar) names, and its size. */
function memberData(archive: Buffer, name: string): { offset: number; size: number } {
  const field = (h: Buffer, a: number, b: number) => h.toString('latin1', a, b).replace(/\0[\s\S]*$/, '');
  for (let off = 0; off + 512 <= archive.length; ) {
    const h = archive.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(field(h, 124, 136).trim() || '0', 8);
    if (field(h, 0, 100) === name) return { offset: off + 512, size };
    off += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${name} is not in the archive`);
}

describe('save, load, export and import', () => {
  const sb = new Sandbox('archive');
  const f = (name: string) => path.join(sb.dir, name);
  const id = (name: string) => inspectJson<ImageInspect>(sb, name).Id;
  const imageIds = () => sb.ok(['images', '-a', '-q', '--no-trunc']).split('\n').filter(Boolean).sort();
  const pulled: Record<string, string> = {};

  // podman in a store of its own inside the sandbox (runc, vfs: nothing to set up), and its pause
  // process's pid file there too, so that exactly that process is ended afterwards.
  const podmanTmp = path.join(sb.dir, 'podman', 'tmp');
  const podmanArgs = ['--root', path.join(sb.dir, 'podman', 'root'), '--runroot', path.join(sb.dir, 'podman', 'run'), '--tmpdir', podmanTmp,
    '--storage-driver', 'vfs', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
  // (the sandbox's auth file does not exist, and podman insists on one it is told of)
  const podmanEnv = Object.fromEntries(Object.entries(sb.env).filter(([k]) => k !== 'REGISTRY_AUTH_FILE'));
  const podman = (args: string[]) => {
    const r = spawnSync('podman', [...podmanArgs, ...args], { env: podmanEnv, encoding: 'utf8', timeout: 180_000 });
    if (r.status !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };

  before(() => {
    for (const name of ['busybox', 'multi']) {
      sb.ok(['pull', '-q', name]);
      pulled[name] = id(name);
    }
  });
  after(() => {
    const pause = path.join(podmanTmp, 'pause.pid');
    if (fs.existsSync(pause)) {
      try {
        process.kill(Number(fs.readFileSync(pause, 'utf8')), 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    sb.run(['rm', '-f', 'ex', 'live']);
    sb.cleanup();
  });

  test('save refuses an unknown image, an unknown format and a terminal, and writes nothing', () => {
    let r = sb.run(['save', '-o', f('x.tar'), 'busybox', 'nosuchimage']);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, 'Error: No such image: nosuchimage\n');
    r = sb.run(['save', '--format', 'docker-dir', '-o', f('x.tar'), 'busybox']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /unsupported archive format "docker-dir"/);
    assert.equal(fs.existsSync(f('x.tar')), false);
    assert.deepEqual(fs.readdirSync(sb.dir).filter((n) => n.startsWith('.x.tar')), [], 'no temporary file left');
    if (has('script')) {
      const t = inScript(`${BIN} save busybox`, { env: sb.env });
      assert.equal(t.status, 125);
      assert.match(t.stdout, /cowardly refusing to save to a terminal/);
    }
  });

  test('save busybox and multi; after rmi, load gives back the same images, which run', () => {
    sb.ok(['save', '-o', f('two.tar'), 'busybox', 'multi']);
    const names = tarList(f('two.tar'));
    assert.equal(names.filter((n) => n.endsWith('/layer.tar')).length, 1, `the layer both share is written once: ${names}`);
    const manifest = JSON.parse(tarCat(f('two.tar'), 'manifest.json')) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    assert.deepEqual(manifest.map((m) => m.RepoTags), [['docker.io/library/busybox:latest'], ['docker.io/library/multi:latest']]);
    assert.deepEqual(manifest.map((m) => m.Config), [`${pulled.busybox!.slice(7)}.json`, `${pulled.multi!.slice(7)}.json`]);

    sb.ok(['rmi', 'busybox', 'multi']);
    assert.deepEqual(imageIds(), []);
    assert.deepEqual(fs.readdirSync(path.join(sb.root, 'layers')), [], 'the layers went with the images');
    assert.equal(sb.ok(['load', '-i', f('two.tar')]), 'Loaded image: busybox:latest\nLoaded image: multi:latest\n');
    assert.equal(id('busybox'), pulled.busybox);
    assert.equal(id('multi'), pulled.multi);
    assert.equal(sb.ok(['run', '--rm', 'busybox', 'echo', 'hello']), 'hello\n');
    assert.equal(sb.ok(['run', '--rm', 'multi', 'echo', 'hello']), 'hello\n');
    // Loading what is there already changes nothing.
    assert.equal(sb.ok(['load', '-i', f('two.tar')]), 'Loaded image: busybox:latest\nLoaded image: multi:latest\n');
    assert.deepEqual(imageIds(), [pulled.busybox, pulled.multi].sort());
  });

  test('the same images make the same archive, on stdout too; a gzip-compressed one loads from stdin', () => {
    // Loaded images give the archive they came from, byte for byte (layers rebuilt exactly, dates fixed).
    sb.ok(['save', '-o', f('two-again.tar'), 'busybox', 'multi']);
    assert.ok(fs.readFileSync(f('two-again.tar')).equals(fs.readFileSync(f('two.tar'))), 'the same archive again');
    sb.ok(['save', '-o', f('one.tar'), 'busybox']);
    const out = bin(sb, ['save', 'busybox']);
    assert.equal(out.code, 0, out.stderr);
    assert.ok(out.stdout.equals(fs.readFileSync(f('one.tar'))), 'stdout and -o give the same bytes');
    sb.ok(['rmi', 'busybox']);
    const r = bin(sb, ['load'], zlib.gzipSync(out.stdout));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), 'Loaded image: busybox:latest\n');
    assert.equal(id('busybox'), pulled.busybox);
    // Saved by ID, an image goes untagged, and comes back so.
    sb.ok(['save', '-o', f('by-id.tar'), pulled.multi!.slice(7, 19)]);
    assert.equal(JSON.parse(tarCat(f('by-id.tar'), 'manifest.json'))[0].RepoTags, null);
  });

  test('an OCI archive goes round as well', () => {
    sb.ok(['save', '--format', 'oci-archive', '-o', f('two-oci.tar'), 'busybox', 'multi']);
    const names = tarList(f('two-oci.tar'));
    for (const n of ['oci-layout', 'index.json', `blobs/sha256/${pulled.busybox!.slice(7)}`]) assert.ok(names.includes(n), `${n} in ${names}`);
    const index = JSON.parse(tarCat(f('two-oci.tar'), 'index.json')) as { manifests: { annotations: Record<string, string> }[] };
    assert.deepEqual(index.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name']), ['docker.io/library/busybox:latest', 'docker.io/library/multi:latest']);
    sb.ok(['rmi', 'busybox', 'multi']);
    assert.equal(sb.ok(['load', '-i', f('two-oci.tar')]), 'Loaded image: busybox:latest\nLoaded image: multi:latest\n');
    assert.equal(id('busybox'), pulled.busybox);
    assert.equal(id('multi'), pulled.multi);
    assert.equal(sb.ok(['run', '--rm', 'multi', 'echo', 'oci']), 'oci\n');
  });

  test('podman loads our archives and skopeo reads the layers we have', { skip: !hasPodman && 'podman or skopeo missing' }, () => {
    const layers = inspectJson<ImageInspect>(sb, 'busybox').RootFS.Layers;
    const skopeo = (ref: string) => {
      const r = spawnSync('skopeo', ['inspect', ref], { env: podmanEnv, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { Layers: string[] };
    };
    assert.deepEqual(skopeo(`docker-archive:${f('two.tar')}:docker.io/library/busybox:latest`).Layers, layers);
    assert.deepEqual(skopeo(`oci-archive:${f('two-oci.tar')}:docker.io/library/busybox:latest`).Layers, layers);

    const loaded = podman(['load', '-i', f('two.tar')]);
    assert.match(loaded, /Loaded image: docker\.io\/library\/busybox:latest/);
    assert.match(loaded, /Loaded image: docker\.io\/library\/multi:latest/);
    assert.equal(podman(['images', '--no-trunc', '--format', '{{.ID}}', 'docker.io/library/busybox:latest']).trim(), pulled.busybox);
    assert.equal(podman(['run', '--rm', '--pull', 'never', '--network', 'none', 'docker.io/library/busybox:latest', 'echo', 'from podman']), 'from podman\n');
    // podman 4 reads one image per OCI archive.
    podman(['rmi', '-a', '-f']);
    sb.ok(['save', '--format', 'oci-archive', '-o', f('one-oci.tar'), 'multi']);
    assert.match(podman(['load', '-i', f('one-oci.tar')]), /Loaded image: docker\.io\/library\/multi:latest/);
    assert.equal(podman(['images', '--no-trunc', '--format', '{{.ID}}', 'docker.io/library/multi:latest']).trim(), pulled.multi);
  });

  test('archives written by podman save load into tsctr and run', { skip: !hasPodman && 'podman or skopeo missing' }, () => {
    const bb = `${REGISTRY}/library/busybox:latest`;
    const multi = `${REGISTRY}/library/multi:latest`;
    for (const ref of [bb, multi]) podman(['pull', '-q', '--tls-verify=false', ref]);
    podman(['save', '-o', f('p-docker.tar'), bb]);
    podman(['save', '--format', 'oci-archive', '-o', f('p-oci.tar'), bb]);
    // Several images in one docker-archive: podman links the shared layer (a symlink in the archive).
    podman(['save', '-m', '-o', f('p-multi.tar'), bb, multi]);
    assert.ok(spawnSync('tar', ['-tvf', f('p-multi.tar')], { encoding: 'utf8' }).stdout.includes(' -> '), 'podman wrote a symlink');

    for (const archive of ['p-docker.tar', 'p-oci.tar']) {
      sb.run(['rmi', '-f', 'busybox', 'multi', bb, multi]);
      assert.deepEqual(imageIds(), [], archive);
      assert.equal(sb.ok(['load', '-i', f(archive)]), `Loaded image: ${bb}\n`, archive);
      assert.equal(id(bb), pulled.busybox, archive);
      assert.equal(sb.ok(['run', '--rm', bb, 'echo', 'from', archive]), `from ${archive}\n`);
    }
    sb.run(['rmi', '-f', bb]);
    assert.equal(sb.ok(['load', '-i', f('p-multi.tar')]), `Loaded image: ${bb}\nLoaded image: ${multi}\n`);
    assert.equal(id(multi), pulled.multi);
    assert.equal(sb.ok(['run', '--rm', multi, 'echo', 'multi']), 'multi\n');
  });

  test('export: the container’s changes over its image, merged; import makes an image that sees the same', () => {
    sb.ok(['pull', '-q', 'whiteout']);
    sb.ok(['run', '--name', 'ex', 'whiteout', 'sh', '-c', 'test -e /bin/vi && echo new > /newfile && rm /bin/vi /keep/k']);
    sb.ok(['export', '-o', f('ex.tar'), 'ex']);
    const names = new Set(tarList(f('ex.tar')).map((n) => n.replace(/\/$/, '')));
    for (const n of ['newfile', 'bin/busybox', 'keep', 'opq/c', 'etc/passwd']) assert.ok(names.has(n), `${n} is exported`);
    // Deleted by the container (bin/vi, keep/k) or by the image's own whiteouts (etc/deleteme, opq/a).
    for (const n of ['bin/vi', 'keep/k', 'etc/deleteme', 'opq/a', 'opq/b']) assert.ok(!names.has(n), `${n} is not exported`);
    assert.ok(![...names].some((n) => n.includes('.wh.')), 'no whiteouts in a flat tar');
    const out = bin(sb, ['export', 'ex']);
    assert.equal(out.code, 0, out.stderr);
    assert.ok(out.stdout.equals(fs.readFileSync(f('ex.tar'))), 'stdout and -o give the same tar');

    const imported = sb.ok(['import', '-c', 'CMD ["sh"]', '-c', 'ENV GREETING=hi', '-m', 'flattened', f('ex.tar'), 'flat:v1']);
    assert.match(imported, /^sha256:[a-f0-9]{64}\n$/);
    const img = inspectJson<ImageInspect>(sb, 'flat:v1');
    assert.equal(img.Id, imported.trim());
    assert.deepEqual(img.Config.Cmd, ['sh']);
    assert.deepEqual(img.Config.Env, ['GREETING=hi']);
    assert.equal(img.Comment, 'flattened');
    assert.equal(img.RootFS.Layers.length, 1);
    assert.equal(sb.ok(['run', '--rm', 'flat:v1', 'sh', '-c', 'cat /newfile; test -e /bin/vi || echo no vi; ls /opq; echo $GREETING']), 'new\nno vi\nc\nhi\n');

    // The same tar gzipped, on stdin: the same layer (its diffID is the uncompressed tar's).
    const gz = bin(sb, ['import', '-', 'flat:gz'], zlib.gzipSync(out.stdout));
    assert.equal(gz.code, 0, gz.stderr);
    assert.deepEqual(inspectJson<ImageInspect>(sb, 'flat:gz').RootFS.Layers, img.RootFS.Layers);
    assert.equal(inspectJson<ImageInspect>(sb, 'flat:gz').Comment, 'Imported from -');
    // An imported image saves and loads like any other.
    sb.ok(['save', '-o', f('flat.tar'), 'flat:v1']);
    sb.ok(['rmi', 'flat:v1', 'flat:gz']);
    assert.equal(sb.ok(['load', '-i', f('flat.tar')]), 'Loaded image: flat:v1\n');
    assert.equal(id('flat:v1'), img.Id);
  });

  test('a running container exports too', () => {
    sb.ok(['pull', '-q', 'busybox']);
    sb.ok(['run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'echo running > /state && sleep 60']);
    let names: string[] = [];
    for (let i = 0; i < 50 && !names.includes('state'); i++) {
      sb.ok(['export', '-o', f('live.tar'), 'live']);
      names = tarList(f('live.tar'));
    }
    assert.ok(names.includes('state'), 'the running container’s file is exported');
    sb.ok(['rm', '-f', 'live']);
  });

  test('an interrupted save leaves no file, temporary or partial, behind', async () => {
    sb.ok(['pull', '-q', 'nginx']);
    // Ctrl-C: SIGINT to the whole process group, the CLI and its child in the user namespace alike.
    const child = spawn(BIN, ['save', '-o', f('int.tar'), 'nginx'], { env: sb.env, detached: true, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 400));
    try {
      process.kill(-child.pid!, 'SIGINT');
    } catch {
      /* it had finished */
    }
    const code = await exited;
    const left = fs.readdirSync(sb.dir).filter((n) => n.includes('int.tar'));
    if (code === 0) assert.deepEqual(left, ['int.tar'], 'finished before the signal: the whole file');
    else assert.deepEqual(left, [], `interrupted (exit ${code}): nothing left`);
    sb.ok(['rmi', 'nginx']);
  });

  test('import and export refuse bad input before doing anything', () => {
    const before = imageIds();
    const cases: [string[], RegExp][] = [
      [['import', f('missing.tar')], /^Error: open .*missing\.tar: no such file or directory\n$/],
      [['import', 'https://example.com/rootfs.tar'], /importing from a URL is not supported/],
      [['import', '-c', 'RUN true', f('ex.tar')], /RUN is not a valid change command/],
      [['import', f('ex.tar'), 'Bad:Name'], /invalid reference format/],
      [['import', sb.dir], /is a directory, not an archive/],
      [['export', '-o', f('none.tar'), 'nosuchcontainer'], /No such container: nosuchcontainer/],
      [['export', '-o', f('no/such/dir/ex.tar'), 'ex'], /cannot create .*ex\.tar: no such directory/],
    ];
    for (const [args, want] of cases) {
      const r = sb.run(args);
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, want, args.join(' '));
    }
    assert.equal(fs.existsSync(f('none.tar')), false);
    assert.deepEqual(imageIds(), before);
  });

  test('a tampered or malformed archive is refused whole (exit 125) and changes nothing', () => {
    sb.ok(['save', '-o', f('wh.tar'), 'whiteout']);
    const good = fs.readFileSync(f('wh.tar'));
    const layers = inspectJson<ImageInspect>(sb, 'whiteout').RootFS.Layers;
    assert.equal(layers.length, 3);

    // A store that lacks the layers, so that they are all read: the first two are fine, the last is not.
    const fresh = new Sandbox('archive-tamper');
    try {
      const tampered = Buffer.from(good);
      const last = memberData(tampered, `${layers[2]!.slice(7)}/layer.tar`);
      tampered[last.offset + Math.floor(last.size / 2)]! ^= 0x01;
      fs.writeFileSync(path.join(fresh.dir, 'tampered.tar'), tampered);
      const r = fresh.run(['load', '-i', path.join(fresh.dir, 'tampered.tar')]);
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, /^Error: .*(failed verification|checksum)/);
      assert.equal(r.stderr.split('\n').length, 2, 'one line');
      assert.equal(r.stdout, '');
      assert.equal(fresh.ok(['images', '-q']), '');
      assert.deepEqual(fs.readdirSync(path.join(fresh.root, 'layers')), [], 'the layers stored before the bad one are gone');
      assert.deepEqual(fs.readdirSync(path.join(fresh.root, 'tmp')), []);
      // The store is none the worse: the good archive loads.
      fs.writeFileSync(path.join(fresh.dir, 'good.tar'), good);
      assert.equal(fresh.ok(['load', '-i', path.join(fresh.dir, 'good.tar')]), 'Loaded image: whiteout:latest\n');
      assert.equal(fresh.ok(['run', '--rm', 'whiteout', 'ls', '/opq']), 'c\n');
    } finally {
      fresh.cleanup();
    }

    const listing = () => sb.ok(['images', '-a', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    const before = listing();
    const config = memberData(good, `${id('whiteout').slice(7)}.json`);
    const badConfig = Buffer.from(good);
    badConfig[config.offset + config.size - 2] = 0x20; // still JSON, another digest
    const write = (name: string, data: Buffer) => (fs.writeFileSync(f(name), data), f(name));
    const cases: [string, RegExp][] = [
      [write('bad-config.tar', badConfig), /config .*\.json failed verification: its digest is sha256:/],
      [write('truncated.tar', good.subarray(0, good.length >> 1)), /is not a valid archive: unexpected end of archive/],
      [write('random.tar', Buffer.from('this is not a tar archive at all'.repeat(40))), /is not a valid archive/],
      [write('empty-layout.tar', fs.readFileSync(f('ex.tar'))), /neither a docker archive .* nor an OCI archive/],
      [f('nonexistent.tar'), /no such file or directory/],
      [sb.dir, /is a directory, not an archive/],
    ];
    for (const [file, want] of cases) {
      const r = sb.run(['load', '-i', file]);
      assert.equal(r.code, 125, `${file}: ${r.stderr}`);
      assert.match(r.stderr, want, file);
      assert.equal(r.stderr.split('\n').length, 2, `one line for ${file}`);
    }
    const empty = sb.run(['load'], { input: '' });
    assert.equal(empty.code, 125);
    assert.equal(empty.stderr, 'Error: requested load from stdin, but stdin is empty\n');
    assert.equal(listing(), before);
    assert.deepEqual(fs.readdirSync(path.join(sb.root, 'tmp')), []);
  });
});
