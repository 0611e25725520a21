/**
 * What a docker or podman user types: docker's exit codes and messages, podman's spellings that
 * scripts use.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox } from '../support/harness.js';

describe('docker and podman compatibility', () => {
  const sb = new Sandbox('compat');
  before(() => sb.ok(['pull', '-q', 'busybox']));
  after(() => {
    sb.run(['rm', '-f', ...sb.ok(['ps', '-aq']).trim().split('\n').filter(Boolean)]);
    sb.cleanup();
  });

  test('exit codes as docker: rm of a missing container 1, rm -f of one 0, rm of a running one 1', () => {
    const missing = sb.run(['rm', 'nosuch']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error: No such container: nosuch\n');
    const forced = sb.run(['rm', '-f', 'nosuch']);
    assert.deepEqual([forced.code, forced.stdout, forced.stderr], [0, '', '']);
    sb.ok(['run', '-d', '--name', 'up', 'busybox', 'sleep', '100']);
    const running = sb.run(['rm', 'up']);
    assert.equal(running.code, 1);
    assert.match(running.stderr, /^Error: cannot remove container "up": container is running/);
    assert.equal(sb.run(['stop', 'nosuch']).code, 1);
    assert.equal(sb.run(['kill', 'nosuch']).code, 1);
    sb.ok(['rm', '-f', 'up']);
  });

  test('an unknown verb names the closest ones, 125', () => {
    const r = sb.run(['imags']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Error: unknown command "imags" for "tsctr"; did you mean "image" or "images"\?\nSee 'tsctr --help'.\n$/);
    assert.match(sb.run(['zzzzzzzz']).stderr, /^Error: unknown command "zzzzzzzz" for "tsctr"\n/);
  });

  test('podman spellings: ps --noheading, stop --timeout, stop/kill/rm --all, rm --ignore, rm -t', () => {
    sb.ok(['run', '-d', '--name', 'p1', 'busybox', 'sleep', '100']);
    sb.ok(['run', '-d', '--name', 'p2', 'busybox', 'sleep', '100']);
    const rows = sb.ok(['ps', '--noheading']).trim().split('\n');
    assert.equal(rows.length, 2);
    assert.doesNotMatch(rows.join('\n'), /CONTAINER ID/);
    assert.equal(sb.ok(['stop', '--timeout', '0', 'p1']).trim(), 'p1');
    assert.equal(sb.ok(['kill', '--all']).trim().split('\n').length, 1, 'only p2 was running');
    assert.equal(sb.run(['stop', '--all', 'p1']).code, 125, 'names and --all together');
    assert.equal(sb.ok(['rm', '--ignore', 'nosuch']), '');
    sb.ok(['start', 'p1']);
    sb.ok(['rm', '-f', '-t', '1', 'p1']);
    sb.ok(['run', '-d', '--name', 'p3', 'busybox', 'sleep', '100']);
    assert.equal(sb.ok(['rm', '-a', '-f']).trim().split('\n').length, 2, 'p2 (exited) and p3 (running)');
    assert.equal(sb.ok(['ps', '-aq']), '');
  });
});
