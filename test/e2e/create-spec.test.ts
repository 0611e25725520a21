/**
 * The create path as a user sees it, beyond what containers.test.ts covers: the command line kept
 * as podman's CreateCommand (inspect, generate systemd --new), --env-host, and containers the
 * engine makes itself (a pod's infra) saying that --new cannot recreate them.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Sandbox, inspectJson } from '../support/harness.js';

describe('create: spec and command line', () => {
  const sb = new Sandbox('create-spec');
  before(() => sb.ok(['pull', '-q', 'busybox']));
  after(() => {
    sb.run(['pod', 'rm', '-f', 'sp']);
    sb.dispose();
  });

  test('--env-host copies the caller’s environment, -e still wins; without it nothing of it leaks', () => {
    const env = { SPEC_MARK: 'from the host', SPEC_OVER: 'host' };
    const script = 'echo "$SPEC_MARK|$SPEC_OVER"';
    assert.equal(sb.ok(['run', '--rm', '--env-host', '-e', 'SPEC_OVER=flag', 'busybox', 'sh', '-c', script], { env }), 'from the host|flag\n');
    assert.equal(sb.ok(['run', '--rm', 'busybox', 'sh', '-c', script], { env }), '|\n');
  });

  test('inspect shows the create command line as typed after the verb, global options left out', () => {
    sb.ok(['--log-level', 'error', 'create', '--name', 'cc', '-l', 'a=b', '--env=X=1', 'busybox', 'echo', '-d', 'hi']);
    const c = inspectJson<{ Config: { CreateCommand?: string[]; Labels: Record<string, string>; Cmd: string[] } }>(sb, 'cc');
    assert.deepEqual(c.Config.CreateCommand, ['--name', 'cc', '-l', 'a=b', '--env=X=1', 'busybox', 'echo', '-d', 'hi']);
    assert.deepEqual([c.Config.Labels.a, c.Config.Cmd], ['b', ['echo', '-d', 'hi']]);
    // --new runs it again: the unit's own flags replace -d/--name, the command stays as typed.
    const unit = sb.ok(['generate', 'systemd', '--new', 'cc']);
    assert.match(unit, /^ExecStart=.* run -d --monitor-pidfile %t\/%n\.pid --name cc -l a=b --env=X=1 busybox echo -d hi$/m);
  });

  test('a pod’s infra container was made by the engine, not a command line: --new says so; bad --pod changes nothing', () => {
    sb.ok(['pod', 'create', '--name', 'sp']);
    const infra = inspectJson<{ Config: { CreateCommand?: string[] } }>(sb, 'sp-infra');
    assert.equal(infra.Config.CreateCommand, undefined);
    const r = sb.run(['generate', 'systemd', '--new', 'sp-infra']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Error: container sp-infra was not created from a command line \(pod create, play kube and build make their containers themselves\): --new cannot recreate it; generate the unit without --new\n$/);
    const before = sb.ok(['ps', '-aq', '--no-trunc']);
    const bad = sb.run(['run', '-d', '--pod', 'nopod', 'busybox', 'true']);
    assert.deepEqual([bad.code, bad.stderr], [125, 'Error: no such pod: nopod\n']);
    assert.equal(sb.ok(['ps', '-aq', '--no-trunc']), before, 'nothing created');
  });
});
