import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateAddress, macFor, parseMac, parseSubnet, pickSubnet, planSubnet } from '../../src/net/ipam.js';
import { splitNetworkValues, usedAddresses } from '../../src/net/endpoints.js';

test('subnets: CIDRs parsed strictly, the first free 10.89.N.0/24 chosen, overlaps refused', () => {
  assert.deepEqual(parseSubnet('10.89.1.0/24'), { base: (10 << 24) + (89 << 16) + 256, prefix: 24 });
  assert.throws(() => parseSubnet('10.89.1.5/24'), /host bits are set \(did you mean 10\.89\.1\.0\/24\?\)/);
  assert.throws(() => parseSubnet('10.89.1.0'), /not an IPv4 CIDR/);
  assert.throws(() => parseSubnet('300.1.1.0/24'), /not an IPv4 CIDR/);
  assert.throws(() => parseSubnet('10.0.0.0/31'), /between 8 and 30/);
  assert.deepEqual(planSubnet(undefined, undefined, []), { subnet: '10.89.1.0/24', gateway: '10.89.1.1' });
  const others = [{ name: 'a', subnet: '10.89.1.0/24' }, { name: 'b', subnet: '10.89.2.0/23' }];
  assert.deepEqual(planSubnet(undefined, undefined, others), { subnet: '10.89.4.0/24', gateway: '10.89.4.1' });
  assert.throws(() => planSubnet('10.89.0.0/16', undefined, others), /overlaps .*network a has 10\.89\.1\.0\/24/);
  assert.deepEqual(planSubnet('192.168.7.0/24', '192.168.7.254', others), { subnet: '192.168.7.0/24', gateway: '192.168.7.254' });
  assert.throws(() => planSubnet('192.168.7.0/24', '192.168.8.1', []), /invalid gateway 192\.168\.8\.1/);
  assert.throws(() => planSubnet('192.168.7.0/24', '192.168.7.255', []), /invalid gateway/);
});

test('subnets: a full 10.89.0.0/16 asks for --subnet', () => {
  assert.throws(() => pickSubnet([parseSubnet('10.89.0.0/16')]), /give one with --subnet/);
});

test('addresses: first free, never the gateway or a recorded one; --ip honoured or refused', () => {
  const used = new Set(['10.89.1.2', '10.89.1.3']);
  assert.equal(allocateAddress('10.89.1.0/24', '10.89.1.1', new Set()), '10.89.1.2');
  assert.equal(allocateAddress('10.89.1.0/24', '10.89.1.1', used), '10.89.1.4');
  assert.equal(allocateAddress('10.89.1.0/24', '10.89.1.5', new Set(['10.89.1.1'])), '10.89.1.2');
  assert.equal(allocateAddress('10.89.1.0/24', '10.89.1.1', used, '10.89.1.77'), '10.89.1.77');
  assert.throws(() => allocateAddress('10.89.1.0/24', '10.89.1.1', used, '10.89.1.3'), /Address already in use: 10\.89\.1\.3/);
  assert.throws(() => allocateAddress('10.89.1.0/24', '10.89.1.1', used, '10.89.1.1'), /Address already in use/);
  assert.throws(() => allocateAddress('10.89.1.0/24', '10.89.1.1', used, '10.89.2.9'), /no configured subnet contains IP address 10\.89\.2\.9/);
  assert.throws(() => allocateAddress('10.89.1.0/24', '10.89.1.1', used, '10.89.1.255'), /no configured subnet contains/);
  assert.throws(() => allocateAddress('10.89.1.0/24', '10.89.1.1', used, 'x'), /invalid IPv4 address/);
  // A /30 has two host addresses: the gateway and one container.
  assert.equal(allocateAddress('10.9.0.0/30', '10.9.0.1', new Set()), '10.9.0.2');
  assert.throws(() => allocateAddress('10.9.0.0/30', '10.9.0.1', new Set(['10.9.0.2'])), /no available IP addresses/);
});

test('addresses in use: every container record on that network except the one being (re)allocated', () => {
  const ep = (networkId: string, ip: string) => ({ network: 'n', networkId, ip, prefixLen: 24, gateway: '', mac: '', aliases: [] });
  const holders = [
    { id: 'a', endpoints: [ep('N1', '10.89.1.2'), ep('N2', '10.89.2.2')] },
    { id: 'b', endpoints: [ep('N1', '10.89.1.3')] },
    { id: 'c' },
  ];
  assert.deepEqual([...usedAddresses(holders, 'N1')].sort(), ['10.89.1.2', '10.89.1.3']);
  assert.deepEqual([...usedAddresses(holders, 'N1', 'b')], ['10.89.1.2']);
  assert.deepEqual([...usedAddresses(holders, 'N3')], []);
});

test('MACs: docker-style from the address; --mac-address normalised, multicast refused', () => {
  assert.equal(macFor('10.89.1.2'), '02:42:0a:59:01:02');
  assert.equal(parseMac('02-42-AC-11-00-02'), '02:42:ac:11:00:02');
  assert.throws(() => parseMac('01:00:5e:00:00:01'), /multicast/);
  assert.throws(() => parseMac('02:42:ac:11:00'), /invalid MAC address/);
});

test('--network values: modes and user networks, no mixing, no repeats', () => {
  assert.deepEqual(splitNetworkValues(['']), { mode: undefined, networks: [] });
  assert.deepEqual(splitNetworkValues(['host']), { mode: 'host', networks: [] });
  assert.deepEqual(splitNetworkValues(['appnet', 'other']), { mode: undefined, networks: ['appnet', 'other'] });
  assert.deepEqual(splitNetworkValues(['bridge', 'appnet']), { mode: undefined, networks: ['appnet'] });
  assert.throws(() => splitNetworkValues(['host', 'appnet']), /cannot attach both user-defined and non-user-defined/);
  assert.throws(() => splitNetworkValues(['appnet', 'appnet']), /network appnet given twice/);
  assert.throws(() => splitNetworkValues(['none', 'host']), /only one network mode/);
});
