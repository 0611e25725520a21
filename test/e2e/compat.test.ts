/**
 * What a docker or podman user types: docker's exit codes and messages, podman's spellings that
 * scripts use.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { useSandbox } from '../support/hooks.js';

describe('docker and podman compatibility', () => {
  const sb = useSandbox('compat', { pull: ['busybox'] });

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

  test('--mount, docker\'s long form: bind (readonly), volume (named and anonymous), tmpfs (size, mode); bad ones refused', () => {
    const dir = `${sb.dir}/mnt-src`;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(`${dir}/f`, 'from-host\n');
    const out = sb.ok(['run', '--rm',
      '--mount', `type=bind,source=${dir},target=/b,readonly`,
      '--mount', 'type=volume,src=mvol,dst=/v',
      '--mount', 'type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770',
      'busybox', 'sh', '-c', 'cat /b/f; touch /b/x 2>/dev/null || echo ro; echo v > /v/f; grep " /t " /proc/mounts; stat -c %a /t']);
    assert.match(out, /^from-host\nro\n/);
    assert.match(out, /tmpfs \/t tmpfs [^\n]*size=1024k/);
    assert.match(out, /\n1770\n$/);
    assert.equal(sb.ok(['run', '--rm', '--mount', 'source=mvol,target=/v', 'busybox', 'cat', '/v/f']), 'v\n', 'type defaults to volume');
    const before = sb.ok(['ps', '-aq']);
    for (const [m, msg] of [
      ['type=bind,target=/b', /source is required/],
      [`type=bind,source=${dir}/nope,target=/b`, /bind source path does not exist/],
      ['type=volume,source=v', /target is required/],
      ['type=volume,target=/v,bogus=1', /unexpected key 'bogus'/],
      ['type=tmpfs,target=/proc', /\/proc cannot be mounted over/],
      ['type=nfs,target=/n', /mount type "nfs" is not supported/],
      ['type=bind,source=/tmp,target=/b,readonly=maybe', /invalid value for readonly/],
    ] as const) {
      const r = sb.run(['run', '--rm', '--mount', m, 'busybox', 'true']);
      assert.equal(r.code, 125, m);
      assert.match(r.stderr, msg, m);
    }
    assert.equal(sb.ok(['ps', '-aq']), before);
  });
});

