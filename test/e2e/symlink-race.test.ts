/**
 * A running container swaps names for symlinks to the host (RENAME_EXCHANGE in a tight loop)
 * while export, commit and cp read its files from outside: nothing of the host may end up in
 * what they produce, and they must still succeed.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { RACER_SECRET as SECRET, startRacer } from '../support/racer.js';
import { useSandbox } from '../support/hooks.js';

describe('symlink races against export, commit and cp', () => {
  const sb = useSandbox('race', { pull: ['busybox'] });
  // A directory and a file, each swapped with a symlink naming the host's private files.
  before(() => startRacer(sb, '/race'));

  test('export: 20 of 20 succeed while the container swaps, none holds a host file', () => {
    for (let i = 0; i < 20; i++) {
      const out = path.join(sb.dir, `export-${i}.tar`);
      const r = sb.run(['export', '-o', out, 'racer']);
      assert.equal(r.code, 0, `export ${i}: ${r.stderr}`);
      assert.equal(spawnSync('tar', ['-tf', out]).status, 0, `export ${i} is a valid tar`);
      assert.equal(fs.readFileSync(out).includes(SECRET), false, `export ${i} holds the host's file`);
      fs.rmSync(out);
    }
  });

  test('commit (paused and not): no host file in the committed layers', () => {
    const images: string[] = [];
    for (let i = 0; i < 6; i++) {
      const tag = `race:${i}`;
      const r = sb.run(['commit', ...(i % 2 ? ['--pause=false'] : []), 'racer', tag]);
      assert.equal(r.code, 0, `commit ${i}: ${r.stderr}`);
      images.push(tag);
    }
    assert.match(sb.ok(['ps', '--filter', 'name=racer', '--format', '{{.Status}}']), /^Up/, 'the container runs on, unpaused');
    const saved = path.join(sb.dir, 'commits.tar');
    sb.ok(['save', '-o', saved, ...images]);
    assert.equal(fs.readFileSync(saved).includes(SECRET), false, 'a committed layer holds the host\'s file');
  });

  test('cp out of the racing container: nothing of the host in the copy', () => {
    for (let i = 0; i < 10; i++) {
      const dest = path.join(sb.dir, `cp-${i}`);
      sb.run(['cp', 'racer:/race', dest]);
      const found = spawnSync('grep', ['-r', SECRET, dest], { encoding: 'utf8' });
      assert.notEqual(found.status, 0, `cp ${i} copied the host's file: ${found.stdout}`);
      fs.rmSync(dest, { recursive: true, force: true });
    }
  });
});
