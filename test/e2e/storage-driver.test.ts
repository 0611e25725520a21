/**
 * The storage driver: kernel overlay or fuse-overlayfs, asked for by flag, environment or
 * ~/.config/tsctr/storage.conf, otherwise probed once and remembered in the store.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Sandbox, inspectJson } from '../support/harness.js';
import { useSandbox } from '../support/hooks.js';

/** fuse-overlayfs processes of this user serving this sandbox (other tests may run their own). */
function fuseProcesses(sb: Sandbox): string[] {
  const out = spawnSync('ps', ['-u', String(process.getuid!()), '-o', 'pid=,comm=,args='], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter((l) => /^\s*\d+ fuse-overlayfs /.test(l) && l.includes(sb.dir));
}

function mountsOf(sb: Sandbox): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(sb.dir));
}

const driverOf = (sb: Sandbox, id: string) => inspectJson<{ GraphDriver: { Name: string }; Driver: string }>(sb, id);

describe('storage driver', () => {
  const sb = useSandbox('drv', { pull: ['busybox'] });
  const probeFile = path.join(sb.root, 'storage-driver.json');

  test('nothing asked for: the probe picks kernel overlay here and the store remembers it per kernel', () => {
    assert.ok(!fs.existsSync(probeFile));
    const id = sb.ok(['create', 'busybox']).trim();
    const ins = driverOf(sb, id);
    assert.equal(ins.GraphDriver.Name, 'overlay');
    assert.equal(ins.Driver, 'overlay');
    const doc = JSON.parse(fs.readFileSync(probeFile, 'utf8'));
    assert.deepEqual({ driver: doc.driver, kernel: doc.kernel }, { driver: 'overlay', kernel: os.release() });
    // A remembered answer is used as is, without probing again...
    fs.writeFileSync(probeFile, JSON.stringify({ ...doc, driver: 'fuse-overlayfs' }));
    assert.equal(driverOf(sb, sb.ok(['create', 'busybox']).trim()).GraphDriver.Name, 'fuse-overlayfs');
    // ...unless it was made under another kernel.
    fs.writeFileSync(probeFile, JSON.stringify({ ...doc, driver: 'fuse-overlayfs', kernel: '4.0.0-old' }));
    assert.equal(driverOf(sb, sb.ok(['create', 'busybox']).trim()).GraphDriver.Name, 'overlay');
    assert.equal(JSON.parse(fs.readFileSync(probeFile, 'utf8')).kernel, os.release());
    assert.match(sb.ok(['info', '--format', '{{.Store.GraphDriverName}}']), /^overlay$/m);
  });

  test('--storage-driver fuse-overlayfs: writes and whiteouts survive stop/start, the helper stays out of the container, rm -f leaves nothing', () => {
    const before = fuseProcesses(sb).length;
    sb.ok(['--storage-driver', 'fuse-overlayfs', 'run', '-d', '--name', 'fuse', 'busybox', 'sleep', '1000']);
    assert.equal(driverOf(sb, 'fuse').GraphDriver.Name, 'fuse-overlayfs');
    assert.equal(fuseProcesses(sb).length, before + 1, 'one fuse-overlayfs serves the container');
    sb.ok(['exec', 'fuse', 'sh', '-c', 'echo kept > /newfile && rm /bin/vi && test ! -e /bin/vi']);
    const inside = sb.ok(['exec', 'fuse', 'sh', '-c', 'cat /proc/[0-9]*/comm; grep " / " /proc/self/mountinfo']);
    assert.doesNotMatch(inside, /fuse-overlayfs$/m, 'fuse-overlayfs is outside the container\'s pid namespace');
    assert.match(inside, / - fuse\.fuse-overlayfs /, 'the root is the fuse mount');
    sb.ok(['stop', '-t', '1', 'fuse']);
    sb.ok(['start', 'fuse']);
    assert.equal(sb.ok(['exec', 'fuse', 'sh', '-c', 'cat /newfile; ls /bin/vi 2>&1 || true']), 'kept\nls: /bin/vi: No such file or directory\n');
    assert.equal(sb.ok(['run', '--rm', 'busybox', 'sh', '-c', 'ls /bin/vi']), '/bin/vi\n', 'the layer itself is untouched');
    sb.ok(['rm', '-f', 'fuse']);
    assert.equal(fuseProcesses(sb).length, before, 'no fuse-overlayfs left');
    assert.deepEqual(mountsOf(sb), [], 'no mount left');
  });

  test('flag, then TSCTR_STORAGE_DRIVER, then ~/.config/tsctr/storage.conf; podman\'s storage.conf is not read', () => {
    const confDir = path.join(sb.env.XDG_CONFIG_HOME!, 'tsctr');
    const podmanDir = path.join(sb.env.XDG_CONFIG_HOME!, 'containers');
    fs.mkdirSync(confDir, { recursive: true });
    fs.mkdirSync(podmanDir, { recursive: true });
    try {
      fs.writeFileSync(path.join(podmanDir, 'storage.conf'), '[storage]\ndriver = "fuse-overlayfs"\n');
      assert.equal(driverOf(sb, sb.ok(['create', 'busybox']).trim()).GraphDriver.Name, 'overlay');
      fs.writeFileSync(path.join(confDir, 'storage.conf'), '# as podman writes it\n[storage]\ndriver = "fuse-overlayfs"\n');
      assert.equal(driverOf(sb, sb.ok(['create', 'busybox']).trim()).GraphDriver.Name, 'fuse-overlayfs');
      const env = { TSCTR_STORAGE_DRIVER: 'overlay' };
      assert.equal(driverOf(sb, sb.ok(['create', 'busybox'], { env }).trim()).GraphDriver.Name, 'overlay');
      assert.equal(driverOf(sb, sb.ok(['--storage-driver=fuse-overlayfs', 'create', 'busybox'], { env }).trim()).GraphDriver.Name, 'fuse-overlayfs');
      // A container keeps the driver it was made with, whatever is asked for later.
      const id = sb.ok(['create', 'busybox', 'cat', '/proc/self/mountinfo']).trim();
      assert.match(sb.ok(['--storage-driver', 'overlay', 'start', '-a', id]), / \/ .* - fuse\.fuse-overlayfs /);
    } finally {
      fs.rmSync(confDir, { recursive: true, force: true });
      fs.rmSync(podmanDir, { recursive: true, force: true });
    }
  });

  test('a bad driver is one Error line, 125, and changes nothing in the store', () => {
    const snapshot = () => [fs.readdirSync(sb.root).sort().join(' '), fs.readFileSync(path.join(sb.root, 'containers.json'), 'utf8'), fs.readFileSync(probeFile, 'utf8')];
    const before = snapshot();
    const confDir = path.join(sb.env.XDG_CONFIG_HOME!, 'tsctr');
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['--storage-driver', 'zfs', 'run', 'busybox', 'true'], {}, /^Error: unknown storage driver "zfs" \(--storage-driver\): use overlay or fuse-overlayfs$/],
      [['--storage-driver', 'zfs', 'ps'], {}, /^Error: unknown storage driver "zfs"/],
      [['run', 'busybox', 'true'], { TSCTR_STORAGE_DRIVER: 'vfs' }, /^Error: unknown storage driver "vfs" \(TSCTR_STORAGE_DRIVER\)/],
      [['create', 'busybox'], { TSCTR_STORAGE_DRIVER: 'btrfs' }, /^Error: unknown storage driver "btrfs"/],
    ];
    for (const [args, env, msg] of cases) {
      const r = sb.run(args, { env });
      assert.equal(r.code, 125, args.join(' '));
      assert.match(r.stderr.trim(), msg);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    fs.mkdirSync(confDir, { recursive: true });
    try {
      fs.writeFileSync(path.join(confDir, 'storage.conf'), '[storage]\ndriver = "devicemapper"\n');
      const r = sb.run(['run', 'busybox', 'true']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /^Error: unknown storage driver "devicemapper" \(driver in .*tsctr\/storage\.conf\)/);
      fs.writeFileSync(path.join(confDir, 'storage.conf'), '[storage\n');
      const broken = sb.run(['create', 'busybox']);
      assert.equal(broken.code, 125);
      assert.match(broken.stderr, /^Error: .*tsctr\/storage\.conf: /);
    } finally {
      fs.rmSync(confDir, { recursive: true, force: true });
    }
    assert.deepEqual(snapshot(), before);
  });

  test('the probe falls back to fuse-overlayfs when kernel overlay fails, and names the fixes when both do', () => {
    // The overlay probe needs unshare: a PATH without it fails that probe, as an old kernel would.
    const onlyFuse = path.join(sb.dir, 'only-fuse');
    fs.mkdirSync(onlyFuse);
    fs.symlinkSync('/usr/bin/fuse-overlayfs', path.join(onlyFuse, 'fuse-overlayfs'));
    fs.rmSync(probeFile);
    const none = sb.run(['create', 'busybox'], { env: { PATH: '/nonexistent' } });
    assert.equal(none.code, 125);
    assert.match(none.stderr, /^Error: no storage driver works here: .*unshare not found in PATH.*; and fuse-overlayfs: not found in PATH.*\(fix: sudo apt-get install util-linux; or: sudo apt-get install fuse-overlayfs\)\n$/);
    assert.ok(!fs.existsSync(probeFile), 'a failed probe is not remembered');
    const id = sb.ok(['create', 'busybox'], { env: { PATH: onlyFuse } }).trim();
    assert.equal(driverOf(sb, id).GraphDriver.Name, 'fuse-overlayfs');
    assert.equal(JSON.parse(fs.readFileSync(probeFile, 'utf8')).driver, 'fuse-overlayfs');
    fs.rmSync(probeFile);
  });
});
