/**
 * The rest of docker/podman compatibility (issue 16): events, update, search, run -a, cp with
 * stopped containers, volume copy-up, the image root's mode, ps --sort, noun forms, run --help.
 * Each as a docker user would use it, as the unprivileged user, with real containers.
 */
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox } from '../support/harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sb = new Sandbox('compat2');
before(() => sb.ok(['pull', '-q', 'busybox']));
after(() => {
  const ids = sb.ok(['ps', '-aq']).trim().split('\n').filter(Boolean);
  if (ids.length) sb.run(['rm', '-f', ...ids]);
  sb.cleanup();
});

async function until<T>(what: string, fn: () => T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface Ev {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
  timeNano: number;
}
const events = (...args: string[]): Ev[] =>
  sb.ok(['events', '--since', '10m', '--until', '0s', '--format', 'json', ...args]).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev);

describe('events', () => {
  test('a container run with --rm gives create, start, die (with its exit code), destroy, with docker fields', async () => {
    const r = sb.run(['run', '--rm', '--name', 'ev1', '--label', 'team=blue', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3);
    await sleep(1100); // --until 0s is whole seconds, as docker's
    const evs = events('--filter', 'container=ev1');
    assert.deepEqual(evs.map((e) => e.Action), ['create', 'start', 'die', 'destroy']);
    const die = evs[2]!;
    assert.equal(die.Type, 'container');
    assert.equal(die.Actor.Attributes.exitCode, '3');
    assert.equal(die.Actor.Attributes.name, 'ev1');
    assert.equal(die.Actor.Attributes.image, 'busybox');
    assert.equal(die.Actor.Attributes.team, 'blue', 'labels are attributes, as docker has them');
    assert.equal(die.status, 'die');
    assert.equal(die.from, 'busybox');
    assert.match(die.id!, /^[0-9a-f]{64}$/);
    assert.equal(die.time, Math.floor(die.timeNano / 1e9));
    // label= and event= filters, and a Go template
    assert.deepEqual(events('--filter', 'label=team=blue', '--filter', 'event=die').map((e) => e.Actor.Attributes.name), ['ev1']);
    const t = sb.ok(['events', '--since', '10m', '--until', '0s', '--filter', 'container=ev1', '--format', '{{.Type}} {{.Status}} {{.Actor.Attributes.name}}']);
    assert.equal(t, 'container create ev1\ncontainer start ev1\ncontainer die ev1\ncontainer destroy ev1\n');
    // docker's default line: time, type, action, id, sorted attributes
    const plain = sb.ok(['events', '--since', '10m', '--until', '0s', '--filter', 'container=ev1', '--filter', 'event=die']).trim();
    assert.match(plain, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) container die [0-9a-f]{64} \(exitCode=3, image=busybox, name=ev1, team=blue\)$/);
  });

  test('an exit while no tsctr command runs is in the journal: the monitor writes die itself', async () => {
    sb.ok(['run', '-d', '--name', 'ev2', 'busybox', 'sh', '-c', 'sleep 1; exit 7']);
    // Nothing of ours runs now but the container's monitor.
    await until('the exit', () => (sb.ok(['ps', '-a', '--filter', 'name=ev2', '--format', '{{.Status}}']).startsWith('Exited') ? true : undefined));
    await sleep(1100);
    const die = events('--filter', 'container=ev2', '--filter', 'event=die');
    assert.equal(die.length, 1);
    assert.equal(die[0]!.Actor.Attributes.exitCode, '7');
    sb.ok(['rm', 'ev2']);
  });

  test('without --until it follows new events until interrupted, filtered; since/until as unix time and RFC 3339', async () => {
    const start = Math.floor(Date.now() / 1000);
    const follow = sb.runAsync(['events', '--filter', 'container=ev3', '--format', '{{.Action}}']);
    await sleep(700);
    sb.ok(['run', '-d', '--name', 'ev3', 'busybox', 'sleep', '30']);
    sb.ok(['run', '--rm', 'busybox', 'true']); // another container: filtered out
    sb.ok(['kill', 'ev3']);
    await until('the die event', () => (sb.ok(['events', '--since', '1m', '--until', '0s', '--filter', 'container=ev3', '--filter', 'event=die']).includes('die') ? true : undefined));
    await sleep(500);
    follow.kill('SIGINT');
    const r = await follow;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['create', 'start', 'kill', 'die']);
    // the same from the journal, bounded by a unix time and an RFC 3339 time
    await sleep(1100);
    const rfc = new Date(Date.now()).toISOString();
    const past = sb.ok(['events', '--since', String(start - 1), '--until', rfc, '--filter', 'container=ev3', '--format', '{{.Action}}']);
    assert.equal(past, 'create\nstart\nkill\ndie\n');
    assert.equal(sb.ok(['events', '--since', String(start - 1), '--until', String(start - 1)]), '', 'nothing in an empty window');
    sb.ok(['rm', 'ev3']);
  });

  test('image, volume, network and exec events; type= filter', async () => {
    sb.ok(['tag', 'busybox', 'evtag:1']);
    sb.ok(['rmi', 'evtag:1']);
    sb.ok(['volume', 'create', 'evvol']);
    sb.ok(['volume', 'rm', 'evvol']);
    sb.ok(['network', 'create', 'evnet']);
    sb.ok(['network', 'rm', 'evnet']);
    sb.ok(['run', '-d', '--name', 'ev4', 'busybox', 'sleep', '30']);
    sb.ok(['exec', 'ev4', 'true']);
    sb.ok(['pause', 'ev4']);
    sb.ok(['unpause', 'ev4']);
    sb.ok(['rm', '-f', 'ev4']);
    await sleep(1100);
    const img = events('--filter', 'type=image').map((e) => `${e.Action} ${e.Actor.Attributes.name}`);
    assert.ok(img.includes('pull busybox'), img.join('; '));
    assert.ok(img.includes('tag evtag:1'), img.join('; '));
    assert.ok(img.includes('untag evtag:1'), img.join('; '));
    assert.deepEqual(events('--filter', 'volume=evvol').map((e) => `${e.Type} ${e.Action}`), ['volume create', 'volume destroy']);
    assert.deepEqual(events('--filter', 'network=evnet').map((e) => `${e.Type} ${e.Action} ${e.Actor.Attributes.type}`), ['network create bridge', 'network destroy bridge']);
    // rm -f: SIGTERM, then (sleep as pid 1 ignores it) SIGKILL
    const ctr = events('--filter', 'container=ev4').map((e) => e.Action);
    assert.deepEqual(ctr.filter((a) => a !== 'kill'), ['create', 'start', 'exec_create: true', 'exec_start: true', 'pause', 'unpause', 'die', 'stop', 'destroy']);
    assert.ok(ctr.indexOf('kill') > ctr.indexOf('unpause') && ctr.indexOf('kill') < ctr.indexOf('die'));
    assert.deepEqual(events('--filter', 'container=ev4', '--filter', 'event=exec_start').length, 1);
  });

  test('bad input: one line, exit 125', () => {
    for (const args of [['--filter', 'colour=red'], ['--filter', 'type=planet'], ['--since', 'yesterday'], ['--until', 'soon']]) {
      const r = sb.run(['events', ...(args[0] === '--until' ? [] : ['--until', '0s']), ...args]);
      assert.equal(r.code, 125, args.join(' '));
      assert.match(r.stderr, /^Error: .+\n$/);
    }
  });
});
