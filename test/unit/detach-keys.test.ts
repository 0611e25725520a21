/** attach's detach keys: docker's syntax, and the filter that holds back a partial sequence. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detachFilter, parseDetachKeys } from '../../src/container/attach-stdin.js';

test('detach keys parse as docker spells them', () => {
  assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [16, 17]);
  assert.deepEqual(parseDetachKeys('ctrl-x'), [24]);
  assert.deepEqual(parseDetachKeys('ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_'), [0, 27, 28, 29, 30, 31]);
  assert.deepEqual(parseDetachKeys('a,ctrl-A'), [97, 1]);
  for (const bad of ['', 'ctrl-1', 'ctrl-', 'ab', 'ctrl-p,,ctrl-q', 'shift-a']) assert.throws(() => parseDetachKeys(bad), /invalid detach keys/, bad);
});

test('the filter passes bytes on, holds a partial sequence, and detaches on the whole one', () => {
  const f = detachFilter([16, 17]);
  assert.deepEqual(f(Buffer.from('ab')), { out: Buffer.from('ab'), detach: false });
  assert.deepEqual(f(Buffer.from([16])), { out: Buffer.alloc(0), detach: false }); // held
  assert.deepEqual(f(Buffer.from('c')), { out: Buffer.from([16, 99]), detach: false }); // given back
  assert.deepEqual(f(Buffer.from([16, 16])), { out: Buffer.from([16]), detach: false });
  assert.deepEqual(f(Buffer.from([17, 120])), { out: Buffer.alloc(0), detach: true });
  const one = detachFilter([24]);
  assert.deepEqual(one(Buffer.from([97, 24, 98])), { out: Buffer.from('a'), detach: true });
});
