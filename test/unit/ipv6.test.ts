import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import { parseIPv6 } from '../../src/util/ipv6.js';

const hex = (b: Buffer | undefined) => b?.toString('hex');

test('parseIPv6: the forms an address can take', () => {
  assert.equal(hex(parseIPv6('::')), '0'.repeat(32));
  assert.equal(hex(parseIPv6('::1')), `${'0'.repeat(31)}1`);
  assert.equal(hex(parseIPv6('fe80::1:2')), 'fe800000000000000000000000010002');
  assert.equal(hex(parseIPv6('2001:db8:0:0:0:0:0:ff')), '20010db80000000000000000000000ff');
  assert.equal(hex(parseIPv6('2001:DB8::')), '20010db8000000000000000000000000');
  assert.equal(hex(parseIPv6('::ffff:192.168.1.2')), '00000000000000000000ffffc0a80102');
  assert.equal(hex(parseIPv6('1:2:3:4:5:6:7::')), '00010002000300040005000600070000');
});

test('parseIPv6 refuses what node:net refuses', () => {
  for (const bad of ['', ':', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'g::1', '::1.2.3.256', '1.2.3.4', '1:2:3:4:5:6:7:8::', ':::']) {
    assert.equal(parseIPv6(bad), undefined, bad);
    assert.equal(isIPv6(bad), false, `node:net agrees on ${bad}`);
  }
  for (const good of ['::', '::1', '1:2:3:4:5:6:7:8', '::ffff:1.2.3.4', '1::', 'a:b::c:d']) {
    assert.ok(parseIPv6(good), good);
    assert.equal(isIPv6(good), true, good);
  }
});
