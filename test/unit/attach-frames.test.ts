/** The bytes of attach.sock's RESIZE frame (src/shim/attach.c reads exactly these) and `resize`'s query. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resizeFrame } from '../../src/container/attach-stdin.js';
import { ttySize } from '../../src/api/attach.js';

test('a RESIZE frame: type 3, reserved 0, length 4 (LE), rows and cols (LE), clamped to 1..65535', () => {
  assert.deepEqual([...resizeFrame(33, 99)], [3, 0, 4, 0, 33, 0, 99, 0]);
  assert.deepEqual([...resizeFrame(300, 1000)], [3, 0, 4, 0, 0x2c, 0x01, 0xe8, 0x03]);
  assert.deepEqual([...resizeFrame(0, 70000)], [3, 0, 4, 0, 1, 0, 0xff, 0xff]);
});

test("resize's h and w: integers 0..65535, else 400; a zero means no size", () => {
  const q = (s: string) => new URLSearchParams(s);
  assert.deepEqual(ttySize(q('h=33&w=99')), { rows: 33, cols: 99 });
  assert.equal(ttySize(q('h=0&w=0')), undefined);
  assert.equal(ttySize(q('')), undefined);
  for (const bad of ['h=x&w=1', 'h=1&w=1.5', 'h=-1&w=5', 'h=65536&w=5']) assert.throws(() => ttySize(q(bad)), { status: 400 } as never, bad);
});
