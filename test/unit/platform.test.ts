import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TsctrError } from '../../src/errors.js';
import { formatPlatform, hostPlatform, parsePlatform, platformMatches, selectPlatform, type Platform } from '../../src/image/platform.js';

test('parsePlatform: os/arch[/variant], aliases made canonical', () => {
  assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(parsePlatform('linux/arm/v6'), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.deepEqual(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux/x86-64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux/aarch64'), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatform('linux/i386'), { os: 'linux', architecture: '386' });
  assert.deepEqual(parsePlatform('linux/armhf'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(parsePlatform('linux/armel'), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.deepEqual(parsePlatform('Linux/AMD64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('macos/arm64'), { os: 'darwin', architecture: 'arm64' });
  assert.deepEqual(parsePlatform('linux/riscv64'), { os: 'linux', architecture: 'riscv64' });
  assert.deepEqual(parsePlatform('windows/amd64'), { os: 'windows', architecture: 'amd64' });
});

test('parsePlatform refuses junk', () => {
  for (const bad of ['', 'linux', 'linux/', '/amd64', 'linux//v7', 'linux/amd64/v8/x', 'linux amd64', 'linux/am d64', 'linux/amd64/', 'linux/amd64?']) {
    assert.throws(
      () => parsePlatform(bad),
      (e: unknown) => e instanceof TsctrError && e.exitCode === 125 && e.message.startsWith(`invalid platform "${bad}"`),
      JSON.stringify(bad),
    );
  }
});

test('formatPlatform round-trips', () => {
  for (const s of ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7', 'linux/s390x']) assert.equal(formatPlatform(parsePlatform(s)), s);
  assert.equal(formatPlatform({ os: 'linux', architecture: 'arm64', variant: '' }), 'linux/arm64');
});

test('hostPlatform names this machine in GOARCH terms', () => {
  const p = hostPlatform();
  assert.equal(p.os, 'linux');
  const want: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', riscv64: 'riscv64' };
  if (want[process.arch]) assert.equal(p.architecture, want[process.arch]);
  if (p.architecture === 'arm64') assert.equal(p.variant, 'v8');
  else if (p.architecture === 'arm') assert.match(p.variant ?? '', /^v[5-8]$/);
  else assert.equal(p.variant, undefined);
  assert.equal(platformMatches(p, p), true);
});

test('platformMatches applies containerd normalisation', () => {
  const m = (a: string, b: string) => platformMatches(parsePlatform(a), parsePlatform(b));
  assert.equal(m('linux/arm64', 'linux/arm64/v8'), true, 'arm64 means v8');
  assert.equal(m('linux/arm64/v8', 'linux/arm64'), true);
  assert.equal(m('linux/aarch64', 'linux/arm64/v8'), true);
  assert.equal(m('linux/arm64', 'linux/arm64/v9'), false);
  assert.equal(m('linux/amd64', 'linux/amd64/v1'), true, 'amd64 means v1');
  assert.equal(m('linux/amd64', 'linux/amd64/v3'), false);
  assert.equal(m('linux/amd64/v3', 'linux/amd64/v3'), true);
  assert.equal(m('linux/x86_64', 'linux/amd64'), true);
  assert.equal(m('linux/arm', 'linux/arm/v7'), true, 'arm means v7');
  assert.equal(m('linux/arm', 'linux/arm/v6'), false);
  assert.equal(m('linux/arm/v6', 'linux/armel'), true);
  assert.equal(m('linux/amd64', 'linux/arm64'), false);
  assert.equal(m('linux/amd64', 'windows/amd64'), false);
  assert.equal(platformMatches({ os: 'Linux', architecture: 'AMD64' }, { os: 'linux', architecture: 'amd64' }), true);
});

test('selectPlatform: first match, attestations skipped', () => {
  const entries: { platform?: Platform; id: number }[] = [
    { platform: { os: 'unknown', architecture: 'unknown' }, id: 0 },
    { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, id: 1 },
    { platform: { os: 'linux', architecture: 'amd64' }, id: 2 },
    { platform: { os: 'linux', architecture: 'amd64' }, id: 3 },
    { platform: { os: 'linux', architecture: 'arm', variant: 'v6' }, id: 4 },
    { platform: { os: 'linux', architecture: 'arm', variant: 'v7' }, id: 5 },
  ];
  assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'arm64' })?.id, 1);
  assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'arm64', variant: 'v8' })?.id, 1);
  assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'amd64' })?.id, 2);
  assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'arm', variant: 'v7' })?.id, 5);
  assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'arm' })?.id, 5);
  assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'arm', variant: 'v6' })?.id, 4);
  assert.equal(selectPlatform(entries, { os: 'linux', architecture: 's390x' }), undefined);
  assert.equal(selectPlatform(entries, { os: 'unknown', architecture: 'unknown' }), undefined, 'attestation manifests are never pulled');
  assert.equal(selectPlatform([], { os: 'linux', architecture: 'amd64' }), undefined);
});

test('selectPlatform falls back to an entry without a platform only when nothing matches', () => {
  const entries: { platform?: Platform; id: number }[] = [{ id: 0 }, { platform: { os: 'linux', architecture: 'amd64' }, id: 1 }];
  assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'amd64' })?.id, 1);
  assert.equal(selectPlatform(entries, { os: 'linux', architecture: 'arm64' })?.id, 0);
});
