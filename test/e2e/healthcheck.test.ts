/**
 * Health checks as docker runs them, here run by the container's C monitor: the transitions
 * (starting → unhealthy → healthy), a probe killed at its timeout, the image's HEALTHCHECK and
 * --no-healthcheck over it, what ps and inspect show, and `healthcheck run`.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { inspectJson } from '../support/harness.js';
import { useSandbox } from '../support/hooks.js';
import { sleep, until } from '../support/wait.js';

const sb = useSandbox('health', { pull: ['busybox'] });

interface Health {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}
const health = (name: string) => inspectJson<{ State: { Health?: Health } }>(sb, name).State.Health;
const status = (name: string) => sb.ok(['ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.Status}}']).trim();

describe('health checks', () => {
  test('unhealthy after `retries` failures, healthy again after one success; ps, inspect and ps --filter health= follow', async () => {
    sb.ok([
      'run', '-d', '--name', 'flip', '--health-cmd', 'cat /tmp/ok && echo fine', '--health-interval', '300ms',
      '--health-retries', '2', '--health-timeout', '5s', 'busybox', 'sleep', '600',
    ]);
    // The first probe runs after one interval: right after the start, the state is starting.
    const first = health('flip');
    assert.equal(first?.Status, 'starting');
    assert.match(status('flip'), /^Up .*\(health: starting\)$/);

    const bad = await until('unhealthy', () => {
      const h = health('flip');
      return h?.Status === 'unhealthy' ? h : undefined;
    });
    assert.ok(bad.FailingStreak >= 2, `streak ${bad.FailingStreak}`);
    assert.ok(bad.Log.length >= 2 && bad.Log.length <= 5);
    const last = bad.Log.at(-1)!;
    assert.equal(last.ExitCode, 1);
    assert.match(last.Output, /can't open '\/tmp\/ok'|No such file/);
    assert.ok(Date.parse(last.End) >= Date.parse(last.Start));
    assert.match(status('flip'), /^Up .*\(unhealthy\)$/);
    assert.equal(sb.ok(['ps', '--filter', 'health=unhealthy', '--format', '{{.Names}}']).trim(), 'flip');
    assert.equal(sb.ok(['ps', '--filter', 'health=healthy', '--format', '{{.Names}}']).trim(), '');
    assert.equal(sb.run(['healthcheck', 'run', 'flip']).code, 1);

    sb.ok(['exec', 'flip', 'touch', '/tmp/ok']);
    const good = await until('healthy', () => {
      const h = health('flip');
      return h?.Status === 'healthy' ? h : undefined;
    });
    assert.equal(good.FailingStreak, 0);
    assert.equal(good.Log.at(-1)!.ExitCode, 0);
    assert.equal(good.Log.at(-1)!.Output, 'fine\n');
    assert.match(status('flip'), /^Up .*\(healthy\)$/);
    assert.equal(sb.ok(['ps', '--filter', 'health=healthy', '--format', '{{.Names}}']).trim(), 'flip');
    const hr = sb.run(['healthcheck', 'run', 'flip']);
    assert.equal(hr.code, 0, hr.stderr);

    // Only the last 5 probes are kept.
    await sleep(2500);
    assert.equal(health('flip')!.Log.length, 5);
    const cfg = inspectJson<{ Config: { Healthcheck: Record<string, unknown> } }>(sb, 'flip').Config.Healthcheck;
    assert.deepEqual(cfg, { Test: ['CMD-SHELL', 'cat /tmp/ok && echo fine'], Interval: 300e6, Timeout: 5e9, Retries: 2 });

    // A restart is a new start: starting again, no history.
    sb.ok(['restart', '-t', '0', 'flip']);
    const fresh = health('flip')!;
    assert.equal(fresh.Status, 'starting');
    assert.equal(fresh.Log.length, 0);
  });

  test('a probe that hangs is killed at its timeout and counts as a failure; its processes are gone', async () => {
    sb.ok([
      'run', '-d', '--name', 'hang', '--health-cmd', 'sleep 1000', '--health-interval', '200ms', '--health-timeout', '500ms',
      '--health-retries', '1', 'busybox', 'sleep', '600',
    ]);
    const h = await until('unhealthy', () => {
      const s = health('hang');
      return s?.Status === 'unhealthy' ? s : undefined;
    });
    const log = h.Log[0]!;
    assert.equal(log.ExitCode, -1);
    assert.equal(log.Output, 'Health check exceeded timeout (500ms)');
    const took = Date.parse(log.End) - Date.parse(log.Start);
    assert.ok(took >= 450 && took < 4000, `the probe took ${took} ms`);
    // No `sleep 1000` is left in the container: the timeout ended the probe's processes (two
    // more probes have timed out meanwhile).
    await sleep(1500);
    const ps = sb.ok(['exec', 'hang', 'ps', '-o', 'pid,args']);
    const left = ps.split('\n').filter((l) => l.includes('sleep 1000'));
    assert.ok(left.length <= 1, `probes left behind:\n${ps}`); // at most the one running right now
  });

  test("the image's HEALTHCHECK is honoured (build keeps it), --no-healthcheck turns it off, a failed start period does not count", async () => {
    const ctx = fs.mkdtempSync(path.join(sb.dir, 'ctx-'));
    fs.writeFileSync(
      path.join(ctx, 'Dockerfile'),
      'FROM busybox\nHEALTHCHECK --interval=200ms --timeout=2s --start-period=60s --start-interval=100ms --retries=1 CMD ["test", "-e", "/tmp/ready"]\nCMD ["sleep", "600"]\n',
    );
    sb.ok(['build', '-q', '-t', 'localhost/hc:1', ctx]);
    const img = JSON.parse(sb.ok(['inspect', '--type', 'image', 'localhost/hc:1']))[0];
    assert.deepEqual(img.Config.Healthcheck, { Test: ['CMD', 'test', '-e', '/tmp/ready'], Interval: 200e6, Timeout: 2e9, StartPeriod: 60e9, StartInterval: 100e6, Retries: 1 });

    sb.ok(['run', '-d', '--name', 'img', 'localhost/hc:1']);
    // Failing probes inside the start period: still starting, no streak.
    await until('three probes', () => ((health('img')?.Log.length ?? 0) >= 3 ? true : undefined));
    const during = health('img')!;
    assert.equal(during.Status, 'starting');
    assert.equal(during.FailingStreak, 0);
    sb.ok(['exec', 'img', 'touch', '/tmp/ready']);
    await until('healthy', () => (health('img')?.Status === 'healthy' ? true : undefined));

    sb.ok(['run', '-d', '--name', 'off', '--no-healthcheck', 'localhost/hc:1']);
    await sleep(600);
    assert.equal(health('off'), undefined);
    assert.match(status('off'), /^Up [^()]*$/);
    assert.equal(sb.ok(['ps', '--filter', 'health=none', '--filter', 'name=^off$', '--format', '{{.Names}}']).trim(), 'off');
    const hr = sb.run(['healthcheck', 'run', 'off']);
    assert.equal(hr.code, 125);
    assert.match(hr.stderr, /^Error: container off has no defined healthcheck\n$/);

    // HEALTHCHECK NONE in a derived image turns the base image's off.
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM localhost/hc:1\nHEALTHCHECK NONE\n');
    sb.ok(['build', '-q', '-t', 'localhost/hc:none', ctx]);
    sb.ok(['run', '-d', '--name', 'none', 'localhost/hc:none']);
    await sleep(500);
    assert.equal(health('none'), undefined);
    assert.match(status('none'), /^Up [^()]*$/);

    // The shell form runs in the image's SHELL, as docker runs it (-x: the shell's trace shows it).
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nSHELL ["/bin/sh", "-xc"]\nHEALTHCHECK --interval=200ms CMD echo hi\nCMD ["sleep", "600"]\n');
    sb.ok(['build', '-q', '-t', 'localhost/hc:shell', ctx]);
    sb.ok(['run', '-d', '--name', 'shell', 'localhost/hc:shell']);
    const probe = await until('a probe', () => health('shell')?.Log[0]);
    // (stdout and stderr are two pipes into exec: their order is not kept)
    assert.deepEqual(probe.Output.split('\n').sort(), ['', '+ echo hi', 'hi']);

    // --health-* flags replace single settings of the image's check.
    sb.ok(['create', '--name', 'over', '--health-retries', '7', 'localhost/hc:1']);
    const over = inspectJson<{ Config: { Healthcheck: Record<string, unknown> } }>(sb, 'over').Config.Healthcheck;
    assert.equal(over.Retries, 7);
    assert.deepEqual(over.Test, ['CMD', 'test', '-e', '/tmp/ready']);
  });

  test("the probe runs confined as exec is (the container's user, capabilities, seccomp, no_new_privs), and its output cannot forge the state", async () => {
    // Output with quotes, backslashes, newlines and control bytes, as a hostile container may print.
    sb.ok([
      'run', '-d', '--name', 'confined', '--cap-drop', 'ALL', '--user', '1234:1234', '--health-interval', '200ms',
      '--health-cmd', 'grep -E "^(CapEff|CapPrm|Seccomp|NoNewPrivs):" /proc/self/status; id -u; printf \'"},{"Status":"healthy\\\\\\001\\n\'; exit 1',
      'busybox', 'sleep', '600',
    ]);
    const h = await until('a probe', () => health('confined')?.Log[0]);
    assert.equal(health('confined')!.Status, 'starting');
    const out = h.Output.split('\n');
    assert.deepEqual(out.slice(0, 5), ['CapPrm:\t0000000000000000', 'CapEff:\t0000000000000000', 'NoNewPrivs:\t1', 'Seccomp:\t2', '1234']);
    assert.equal(out[5], '"},{"Status":"healthy\\\x01');
    assert.equal(h.ExitCode, 1);
  });

  test("only the first 4 KiB of a probe's output are kept", async () => {
    sb.ok(['run', '-d', '--name', 'chatty', '--health-interval', '200ms', '--health-cmd', 'yes 0123456789abcdef | head -c 10000', 'busybox', 'sleep', '600']);
    const h = await until('a probe', () => health('chatty')?.Log[0]);
    assert.equal(h.ExitCode, 0);
    assert.equal(h.Output, '0123456789abcdef\n'.repeat(300).slice(0, 4096));
  });

  test('bad health flags: one error line, exit 125, nothing created', () => {
    for (const [args, msg] of [
      [['--no-healthcheck', '--health-cmd', 'true'], /--no-healthcheck conflicts with --health-\* options/],
      [['--health-cmd', 'true', '--health-interval', '-1s'], /--health-interval cannot be negative/],
      [['--health-cmd', 'true', '--health-timeout', '5'], /missing unit in duration/],
      [['--health-cmd', 'true', '--health-retries', 'x'], /invalid argument "x" for "--health-retries"/],
    ] as [string[], RegExp][]) {
      const r = sb.run(['create', '--name', 'bad', ...args, 'busybox']);
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(sb.run(['container', 'exists', 'bad']).code, 1);
    }
  });
});
