/**
 * One Node start per command: pull, save, load, import, commit, export and push do their user
 * namespace work through the shim's helper (tsctr-shim userns-serve), not by running the CLI again
 * inside `unshare`. Starts are counted with an LD_PRELOAD'ed logger (test/support/exec-log.c) that
 * every process started with the command's environment runs. And what the helper reads or deletes
 * for the CLI (files the user may not open) is never reached through a symlink a container swaps in.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, REGISTRY, REPO, Sandbox } from '../support/harness.js';
import { RACER_SECRET as SECRET, startRacer } from '../support/racer.js';
import { useSandbox } from '../support/hooks.js';

describe('one Node process per command', () => {
  const sb = new Sandbox('single');
  const probeDir = path.join(sb.dir, 'probe');
  const log = path.join(sb.dir, 'exec.log');
  const binary = fs.realpathSync(BIN);
  let env: NodeJS.ProcessEnv;

  /** Runs a command with the logger; returns its stdout and how often the tsctr executable started. */
  function counted(args: string[], input?: string): { stdout: string; starts: number } {
    fs.rmSync(log, { force: true });
    const out = sb.ok(args, { env, input });
    const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
    const starts = lines.filter((l) => l.slice(l.indexOf(' ') + 1) === binary).length;
    return { stdout: out, starts };
  }

  before(() => {
    fs.mkdirSync(probeDir);
    const so = path.join(probeDir, 'exec-log.so');
    const cc = spawnSync('gcc', ['-shared', '-fPIC', '-O2', '-o', so, path.join(REPO, 'test/support/exec-log.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    env = { LD_PRELOAD: so, TSCTR_EXEC_LOG: log };
  });
  after(() => sb.dispose());

  test('the logger sees a start (or this test would prove nothing)', () => {
    assert.equal(counted(['--version']).starts, 1);
  });

  test('pull, save, load: one start each, and the image comes back byte for byte', () => {
    assert.equal(counted(['pull', '-q', 'busybox']).starts, 1, 'pull');
    const a = path.join(sb.dir, 'a.tar');
    assert.equal(counted(['save', '-o', a, 'busybox']).starts, 1, 'save');
    const id = sb.ok(['image', 'inspect', '--format', '{{.Id}}', 'busybox']).trim();
    sb.ok(['rmi', 'busybox']);
    assert.equal(counted(['load', '-i', a]).starts, 1, 'load');
    assert.equal(sb.ok(['image', 'inspect', '--format', '{{.Id}}', 'busybox']).trim(), id);
    const b = path.join(sb.dir, 'b.tar');
    sb.ok(['save', '-o', b, 'busybox']);
    assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)), 'saved again after load: the same archive');
  });

  test('commit, export, import and push of files only a subordinate id may read: one start each, ids and contents kept', () => {
    // A directory and a file of uid 1234 that the user (the namespace's root) may not open.
    sb.ok(['run', '--name', 'owner', 'busybox', 'sh', '-c',
      'mkdir -p /data/sec && echo secret-of-1234 > /data/sec/f && chown -R 1234:1235 /data/sec && chmod 600 /data/sec/f && chmod 700 /data/sec && cp /bin/busybox /data/suid && chmod 4755 /data/suid']);
    assert.equal(counted(['commit', '-q', 'owner', 'owned:1']).starts, 1, 'commit');
    const exported = path.join(sb.dir, 'owner.tar');
    assert.equal(counted(['export', '-o', exported, 'owner']).starts, 1, 'export');
    const list = spawnSync('tar', ['--numeric-owner', '-tvf', exported], { encoding: 'utf8' }).stdout;
    assert.match(list, /^drwx------ 1234\/1235 .* data\/sec\/$/m);
    assert.match(list, /^-rw------- 1234\/1235 +15 .* data\/sec\/f$/m);
    assert.match(list, /^-rwsr-xr-x 0\/0 .* data\/suid$/m);
    const content = spawnSync('tar', ['-xOf', exported, 'data/sec/f'], { encoding: 'utf8' }).stdout;
    assert.equal(content, 'secret-of-1234\n');
    // The committed layer, extracted again, has the owner, the mode and the set-uid bit back.
    const check = 'stat -c "%u:%g %a" /data/sec /data/sec/f /data/suid && cat /data/sec/f';
    assert.equal(sb.ok(['run', '--rm', 'owned:1', 'sh', '-c', check]), '1234:1235 700\n1234:1235 600\n0:0 4755\nsecret-of-1234\n');
    assert.equal(counted(['import', exported, 'imported:1']).starts, 1, 'import');
    assert.equal(sb.ok(['run', '--rm', 'imported:1', 'sh', '-c', check]), '1234:1235 700\n1234:1235 600\n0:0 4755\nsecret-of-1234\n');
    const dest = `${REGISTRY}/single-${process.pid}/owned:1`;
    sb.ok(['tag', 'owned:1', dest]);
    assert.equal(counted(['push', '-q', dest]).starts, 1, 'push');
  });

  test('run pulls a missing image in its own process: progress on stderr, stdout the container\'s', () => {
    sb.ok(['rmi', '-f', 'busybox']);
    fs.rmSync(log, { force: true });
    const r = sb.run(['run', '--rm', 'busybox', 'echo', 'hello'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello\n');
    assert.match(r.stderr, /^Unable to find image 'busybox:latest' locally$/m);
    assert.match(r.stderr, /^docker\.io\/library\/busybox:latest$/m);
    const starts = fs.readFileSync(log, 'utf8').trim().split('\n').filter((l) => l.slice(l.indexOf(' ') + 1) === binary);
    // Attached, the CLI removes the --rm container itself (the monitor's `container cleanup` is for a CLI that is gone).
    assert.equal(starts.length, 1, 'run with a pull');
    assert.equal(counted(['run', '--rm', '--pull', 'always', '--network', 'none', 'busybox', 'true']).starts, 1, 'run --pull always');
  });

  test('rm and rmi delete files of subordinate ids without a second start', () => {
    assert.equal(counted(['rm', 'owner']).starts, 1, 'rm');
    assert.equal(counted(['rmi', 'imported:1']).starts, 1, 'rmi');
  });
});

describe('the namespace helper reads through no symlink a container swaps in', () => {
  const sb = useSandbox('single-race', { pull: ['busybox'] });
  // Inside a directory of uid 1234 (mode 700): everything below it is read by the helper.
  before(() => startRacer(sb, '/sub/race', ['chown -R 1234:1234 /sub && chmod 700 /sub /sub/race']));

  test('export and commit succeed and hold none of the host file', () => {
    for (let i = 0; i < 10; i++) {
      const out = path.join(sb.dir, `export-${i}.tar`);
      const r = sb.run(['export', '-o', out, 'racer']);
      assert.equal(r.code, 0, `export ${i}: ${r.stderr}`);
      const list = spawnSync('tar', ['-tf', out], { encoding: 'utf8' });
      assert.equal(list.status, 0, `export ${i} is a valid tar`);
      assert.match(list.stdout, /^sub\/race\//m, 'the directory only the helper may read is in the export');
      assert.equal(fs.readFileSync(out).includes(SECRET), false, `export ${i} holds the host's file`);
      fs.rmSync(out);
    }
    const tags: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = sb.run(['commit', ...(i % 2 ? ['--pause=false'] : []), 'racer', `race:${i}`]);
      assert.equal(r.code, 0, `commit ${i}: ${r.stderr}`);
      tags.push(`race:${i}`);
    }
    const saved = path.join(sb.dir, 'commits.tar');
    sb.ok(['save', '-o', saved, ...tags]);
    assert.equal(fs.readFileSync(saved).includes(SECRET), false, "a committed layer holds the host's file");
  });
});
