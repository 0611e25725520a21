import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostsFile, resolvConf } from '../../src/net/etc-files.js';
import { parseDnsConfig, parseExtraHosts } from '../../src/net/dns-options.js';

const HOST = '# generated\nsearch corp.example\nnameserver 127.0.0.53\nnameserver 192.0.2.53\noptions edns0 trust-ad\n';

test('resolv.conf: the mode resolver first, the host\'s minus loopback, search and options kept', () => {
  assert.equal(resolvConf(HOST, ['10.0.2.3'], true, {}), 'search corp.example\nnameserver 10.0.2.3\nnameserver 192.0.2.53\noptions edns0 trust-ad\n');
  assert.equal(resolvConf(HOST, [], true, {}), 'search corp.example\nnameserver 192.0.2.53\noptions edns0 trust-ad\n');
  assert.equal(resolvConf('nameserver 127.0.0.53\n', [], true, {}), 'nameserver 8.8.8.8\n');
});

test('resolv.conf: --dns replaces the servers (user networks keep their responder, which forwards there); --dns-search/--dns-option replace the host\'s', () => {
  const dns = { dns: ['192.0.2.1', '2001:db8::1'], dnsSearch: ['a.example', 'b.example'], dnsOptions: ['ndots:2', 'timeout:1'] };
  assert.equal(resolvConf(HOST, ['10.0.2.3'], true, dns), 'search a.example b.example\nnameserver 192.0.2.1\nnameserver 2001:db8::1\noptions ndots:2 timeout:1\n');
  assert.equal(resolvConf(HOST, ['10.89.1.1'], false, dns), 'search a.example b.example\nnameserver 10.89.1.1\noptions ndots:2 timeout:1\n');
  assert.equal(resolvConf(HOST, ['10.89.1.1'], false, {}), 'search corp.example\nnameserver 10.89.1.1\noptions edns0 trust-ad\n');
});

test('hosts: localhost lines, --add-host entries, the container by hostname and name', () => {
  assert.equal(
    hostsFile({ hostname: 'abc123', name: 'web', addresses: ['10.89.1.2'], extraHosts: [{ host: 'db', ip: '192.0.2.7' }] }),
    '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n192.0.2.7\tdb\n10.89.1.2\tabc123 web\n',
  );
  assert.match(hostsFile({ hostname: 'web', name: 'web', addresses: ['127.0.1.1'], extraHosts: [] }), /^127\.0\.1\.1\tweb$/m);
});

test('--dns, --dns-search, --dns-option, --add-host: checked with docker\'s words; host-gateway is the host\'s address', () => {
  assert.equal(parseDnsConfig({}), undefined);
  assert.deepEqual(parseDnsConfig({ dns: ['1.1.1.1'], addHost: ['db:10.0.0.5', 'v6:::1', 'gw:host-gateway'] }), { dns: ['1.1.1.1'], extraHosts: ['db:10.0.0.5', 'v6:::1', 'gw:host-gateway'] });
  assert.throws(() => parseDnsConfig({ dns: ['1.1.1'] }), /^TsctrError: 1\.1\.1 is not an ip address$/);
  assert.throws(() => parseDnsConfig({ dnsSearch: ['-bad'] }), /-bad is not a valid domain/);
  assert.throws(() => parseDnsConfig({ addHost: ['db'] }), /invalid argument "db" for "--add-host" flag/);
  assert.throws(() => parseDnsConfig({ addHost: ['db:10.0.0'] }), /invalid IP address in add-host: "10\.0\.0"/);
  assert.deepEqual(parseExtraHosts(['v6:::1', 'db:10.0.0.5']), [{ host: 'v6', ip: '::1' }, { host: 'db', ip: '10.0.0.5' }]);
  const gw = parseExtraHosts(['gw:host-gateway'])[0]!;
  assert.match(gw.ip, /^\d+\.\d+\.\d+\.\d+$/);
});
