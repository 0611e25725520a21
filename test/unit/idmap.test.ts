import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capabilityInNamespace, idMapper } from '../../src/rootless/idmap.js';

const ranges = [
  { start: 100000, count: 65536 },
  { start: 300000, count: 10 },
];

test('host ids become the ids root of the namespace sees: the user is 0, the ranges follow in order, the rest overflow', () => {
  const m = idMapper(1001, ranges);
  assert.equal(m(1001), 0);
  assert.equal(m(100000), 1);
  assert.equal(m(101233), 1234);
  assert.equal(m(165535), 65536);
  assert.equal(m(300000), 65537);
  assert.equal(m(300009), 65546);
  assert.equal(m(0), 65534);
  assert.equal(m(300010), 65534);
});

function v3(rootid: number, effective = true): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE((0x03000000 | (effective ? 1 : 0)) >>> 0, 0);
  b.writeUInt32LE(0x400, 4); // CAP_NET_BIND_SERVICE permitted
  b.writeUInt32LE(rootid, 20);
  return b;
}

test('a namespaced file capability reads as the namespace reads it: v2 for its root, else v3 with the mapped rootid', () => {
  const ids = { uid: idMapper(1001, ranges), gid: idMapper(1001, ranges) };
  const own = capabilityInNamespace(v3(1001), ids);
  assert.equal(own.length, 20);
  assert.equal(own.readUInt32LE(0), 0x02000001);
  assert.equal(own.readUInt32LE(4), 0x400);
  const nested = capabilityInNamespace(v3(101233, false), ids);
  assert.equal(nested.length, 24);
  assert.equal(nested.readUInt32LE(0), 0x03000000);
  assert.equal(nested.readUInt32LE(20), 1234);
  const v2 = Buffer.from(own);
  assert.deepEqual(capabilityInNamespace(v2, ids), v2, 'v2 stays as it is');
});
