/**
 * The monitor runs from the cached shim file (shared page cache), not from a sealed memfd copy
 * (1 MB of private memory per container): the copy is made per start for the container's first
 * process only, which re-executes it right after clone. What the container can reach still runs
 * sealed (escape.test.ts covers --init, a pod's pause and the exec helper).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { useSandbox } from '../support/hooks.js';
import { compileProbe } from '../support/probes.js';

function exeOf(pid: number): string {
  return fs.readlinkSync(`/proc/${pid}/exe`);
}

/** The processes of a container's monitor (itself and its children: the container's first
 * process, helpers) that map a sealed copy of the shim. Not all of the user's: other test files
 * run holders, exec helpers and --init containers meanwhile. */
function memfdHolders(monitor: number): number[] {
  const children = fs.readdirSync(`/proc/${monitor}/task`).flatMap((t) =>
    fs.readFileSync(`/proc/${monitor}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  return [monitor, ...children].filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/maps`, 'utf8').includes('memfd:tsctr-shim');
    } catch {
      return false; // gone meanwhile
    }
  });
}

describe('the monitor runs from the shim file', () => {
  const sb = useSandbox('monmem', { pull: ['busybox'] });
  const runDir = (id: string) => path.join(sb.env.XDG_RUNTIME_DIR!, 'tsctr', 'containers', id);

  test('an idle container: its monitor runs from the file, and no process holds a sealed copy', () => {
    const id = sb.ok(['run', '-d', '--network', 'none', 'busybox', 'sleep', '1000']).trim();
    const monitor = Number(fs.readFileSync(path.join(runDir(id), 'monitor.pid'), 'utf8').split(' ')[0]);
    assert.doesNotMatch(exeOf(monitor), /memfd/);
    assert.match(exeOf(monitor), /tsctr-shim$/);
    const init = Number(fs.readFileSync(path.join(runDir(id), 'pid'), 'utf8').split(' ')[0]);
    assert.match(exeOf(init), /\/bin\/busybox$/, 'the container\'s program replaced the sealed copy');
    assert.ok(fs.readFileSync(`/proc/${monitor}/task/${monitor}/children`, 'utf8').split(' ').includes(String(init)), 'the first process is the monitor\'s child');
    assert.deepEqual(memfdHolders(monitor), [], 'the sealed copies lived only until the first process\'s execve');
    // A restart makes a new first process from a new copy (the spec is read again by it).
    sb.ok(['restart', '-t', '0', id]);
    assert.equal(sb.ok(['exec', id, 'sh', '-c', 'echo $((1+1))']).trim(), '2');
    const monitor2 = Number(fs.readFileSync(path.join(runDir(id), 'monitor.pid'), 'utf8').split(' ')[0]);
    assert.deepEqual(memfdHolders(monitor2), []);
    sb.ok(['rm', '-f', id]);
  });

  test('a container sharing the pid namespace never gets hold of another first process\'s shim file', () => {
    const probeDir = path.join(sb.dir, 'probe');
    fs.mkdirSync(probeDir);
    compileProbe('exec-watcher', probeDir);
    sb.ok(['run', '-d', '--name', 'watch', '--network', 'none', '-v', `${probeDir}:/probe:ro`, 'busybox', '/probe/exec-watcher', '8', 'TSCTR_SECRET']);
    for (let i = 0; i < 15; i++) sb.ok(['run', '--rm', '--network', 'none', '--pid', 'container:watch', 'busybox', 'true']);
    assert.equal(sb.ok(['wait', 'watch']).trim(), '0');
    const out = sb.ok(['logs', 'watch']);
    assert.match(out, /^done \d+$/m, 'the watcher ran to its end');
    // A sealed copy may be opened (nobody can write it); the shim file never.
    const found = out.split('\n').filter((l) => /^exe /.test(l) && !/memfd:tsctr-shim/.test(l));
    assert.deepEqual(found, [], 'what the container got hold of');
    sb.ok(['rm', '-f', 'watch']);
  });
});
