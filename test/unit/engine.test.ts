/**
 * The engine's use cases called directly, as compose or an API server would, on an empty store of
 * their own: typed results, typed errors, and bad input that changes nothing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { globals } from '../../src/paths.js';
import { NotFoundError, TsctrError } from '../../src/errors.js';
import * as containers from '../../src/engine/containers.js';
import * as volumes from '../../src/engine/volumes.js';
import { inspectObjects } from '../../src/engine/inspect.js';
import { diskUsage } from '../../src/engine/system.js';
import { checkReference, checkTag, tagImage } from '../../src/engine/images.js';

let base: string;
before(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsctr-engine-test-'));
  fs.mkdirSync(path.join(base, 'data'), { mode: 0o700 });
  fs.mkdirSync(path.join(base, 'run'), { mode: 0o700 });
  globals.root = path.join(base, 'data');
  globals.runroot = path.join(base, 'run');
});
after(() => fs.rmSync(base, { recursive: true, force: true }));

/** Every file under the store, to show that a failed use case left nothing behind. */
const storeFiles = () => fs.readdirSync(base, { recursive: true, encoding: 'utf8' }).sort();

test('an empty store: no containers, nothing to inspect, no usage', async () => {
  assert.deepEqual(await containers.listContainers({ all: true }), []);
  assert.deepEqual(await inspectObjects(['nothing', 'else'], undefined), [{ name: 'nothing', object: undefined }, { name: 'else', object: undefined }]);
  assert.deepEqual(await inspectObjects(['nothing'], 'container'), [{ name: 'nothing' }]);
  const usage = await diskUsage();
  assert.deepEqual(usage.summary.map((r) => [r.type, r.total, r.size]), [['Images', 0, 0], ['Containers', 0, 0], ['Local Volumes', 0, 0]]);
});

test('a missing container is a NotFoundError from every use case, logs included (at its first batch)', async () => {
  await assert.rejects(containers.getContainer('ghost'), NotFoundError);
  assert.equal(await containers.findContainer('ghost'), undefined);
  await assert.rejects(containers.inspectContainer('ghost'), NotFoundError);
  await assert.rejects(containers.containerPorts('ghost'), NotFoundError);
  await assert.rejects(containers.stopContainer('ghost'), NotFoundError);
  await assert.rejects(containers.waitContainer('ghost'), NotFoundError);
  const logs = containers.containerLogs('ghost', { tail: -1, follow: false });
  await assert.rejects(logs.next(), NotFoundError);
  // cleanup is the monitor's exit command: a container already gone is not an error.
  await containers.cleanupContainer('ghost');
});

test('bad input is refused before anything is written', async () => {
  const before = storeFiles();
  await assert.rejects(containers.renameContainer('ghost', 'bad name'), (e: unknown) => e instanceof TsctrError && e.exitCode === 125 && /Invalid container name/.test(e.message));
  await assert.rejects(containers.checkSignal('SIGNOPE'), TsctrError);
  await assert.rejects(containers.namesOrAll(['a'], true, false), /may not pass any container names/);
  await assert.rejects(containers.namesOrAll([], false, false), /requires at least 1 container name/);
  await assert.rejects(checkReference('UPPER/Case'), TsctrError);
  await assert.rejects(checkTag('nginx@sha256:abc'), TsctrError);
  await assert.rejects(tagImage('busybox', 'x@sha256:0000000000000000000000000000000000000000000000000000000000000000'), /digest reference/);
  await assert.rejects(volumes.createVolume('../escape'), /invalid volume name/);
  assert.deepEqual(storeFiles(), before);
});

test('volumes: create, list, inspect, and a missing one is NotFoundError', async () => {
  assert.equal(await volumes.createVolume('data'), 'data');
  const random = await volumes.createVolume();
  assert.match(random, /^[0-9a-f]{64}$/);
  assert.deepEqual(await volumes.volumeNames(), ['data', random].sort());
  const info = await volumes.inspectVolume('data');
  assert.equal(info.Name, 'data');
  assert.equal(info.Driver, 'local');
  assert.ok(fs.statSync(info.Mountpoint).isDirectory());
  assert.deepEqual((await volumes.listVolumes()).map((v) => v.Name), ['data', random].sort());
  await assert.rejects(volumes.inspectVolume('nope'), NotFoundError);
  const usage = await diskUsage();
  assert.deepEqual(usage.volumes.map((v) => [v.name, v.links]), [['data', 0], [random, 0]].sort());
});
