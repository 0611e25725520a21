/**
 * User-defined networks (issue 17), as the unprivileged user in real namespaces: containers on one
 * network find each other by name and alias over TCP and UDP; other networks neither resolve nor
 * reach them, not even by address; connect/disconnect act live; -p works; the holder comes back
 * after SIGKILL and leaves with its last container.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Sandbox, freePort } from '../support/harness.js';
import { sleep } from '../support/wait.js';
import { getBodyOrEmpty } from '../support/http.js';
import { compileProbe } from '../support/probes.js';

describe('user-defined networks', () => {
  const sb = new Sandbox('usernet');
  const probe = path.join(sb.dir, 'probe');
  const holderPidFile = path.join(sb.env.XDG_RUNTIME_DIR!, 'tsctr', 'netns', 'holder.pid');
  const holderPid = () => Number(fs.readFileSync(holderPidFile, 'utf8').split(' ')[0]);
  /** This sandbox's holder processes, by their command line (the DIR argument names the sandbox). */
  const holders = () =>
    spawnSync('ps', ['-u', String(process.getuid!()), '-o', 'stat=,args='], { encoding: 'utf8' }).stdout
      .split('\n').filter((l) => !/^Z/.test(l) && l.includes('netns-holder') && l.includes(sb.dir));
  const ipOf = (name: string, net = 'appnet') => sb.ok(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, name]).trim();
  const runIn = (net: string, script: string, extra: string[] = []) => sb.run(['run', '--rm', '--network', net, ...extra, '-v', `${probe}:/probe:ro`, 'busybox', 'sh', '-c', script]);

  before(() => {
    fs.mkdirSync(path.join(probe, 'www'), { recursive: true });
    fs.writeFileSync(path.join(probe, 'www', 'index.html'), 'hello-from-srv\n');
    for (const tool of ['udp-echo', 'udp-ask']) compileProbe(tool, probe);
    sb.ok(['pull', 'busybox']);
    sb.ok(['network', 'create', 'appnet']);
    sb.ok(['network', 'create', '--subnet', '10.89.77.0/24', 'othernet']);
    sb.ok(['run', '-d', '--name', 'srv', '--network', 'appnet', '--network-alias', 'db', '-v', `${probe}:/probe:ro`, 'busybox',
      'sh', '-c', 'httpd -f -p 8080 -h /probe/www & exec /probe/udp-echo 9001']);
  });
  after(() => sb.dispose());

  test('ls and inspect show the networks as docker does; the container has its address, gateway, MAC and aliases', () => {
    const ls = sb.ok(['network', 'ls']);
    assert.match(ls, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/m);
    for (const [name, driver] of [['bridge', 'bridge'], ['host', 'host'], ['none', 'null'], ['appnet', 'bridge'], ['othernet', 'bridge']]) {
      assert.match(ls, new RegExp(`^[0-9a-f]{12}\\s+${name}\\s+${driver}\\s+local$`, 'm'));
    }
    assert.equal(sb.ok(['network', 'ls', '--filter', 'name=other', '--format', '{{.Name}}']), 'othernet\n');
    const [net] = JSON.parse(sb.ok(['network', 'inspect', 'appnet']));
    assert.equal(net.Driver, 'bridge');
    assert.deepEqual(net.IPAM.Config, [{ Subnet: '10.89.1.0/24', Gateway: '10.89.1.1' }]);
    const members = Object.values(net.Containers) as { Name: string; IPv4Address: string; MacAddress: string }[];
    assert.deepEqual(members.map((m) => [m.Name, m.IPv4Address, m.MacAddress]), [['srv', '10.89.1.2/24', '02:42:0a:59:01:02']]);
    const ep = JSON.parse(sb.ok(['inspect', '-f', '{{json .NetworkSettings.Networks.appnet}}', 'srv']));
    assert.equal(ep.IPAddress, '10.89.1.2');
    assert.equal(ep.IPPrefixLen, 24);
    assert.equal(ep.Gateway, '10.89.1.1');
    assert.equal(ep.NetworkID, net.Id);
    assert.ok(ep.Aliases.includes('db'));
    assert.equal(sb.ok(['ps', '--filter', 'network=appnet', '--format', '{{.Names}} {{.Networks}}']), 'srv appnet\n');
    assert.equal(sb.ok(['ps', '--filter', 'network=othernet', '-q']), '');
  });

  test('a peer on appnet reaches it by name and by alias over TCP and UDP; hosts and resolv.conf are docker\'s', () => {
    const r = runIn('appnet', [
      'wget -qO- http://srv:8080/', 'wget -qO- http://db:8080/',
      'ip=$(nslookup db | awk \'/^Address: /{print $2}\' | tail -1)', '/probe/udp-ask "$ip" 9001 udp-by-alias',
      'ip=$(nslookup srv | awk \'/^Address: /{print $2}\' | tail -1)', '/probe/udp-ask "$ip" 9001 udp-by-name',
      'cat /etc/hosts /etc/resolv.conf',
    ].join(' && '), ['--name', 'peer', '--hostname', 'peerhost']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^hello-from-srv\nhello-from-srv\nudp-by-alias\nudp-by-name\n/);
    assert.match(r.stdout, /^127\.0\.0\.1\tlocalhost$/m);
    assert.match(r.stdout, /^10\.89\.1\.\d+\tpeerhost peer$/m);
    assert.match(r.stdout, /^nameserver 10\.89\.1\.1$/m);
    assert.doesNotMatch(r.stdout, /^nameserver (?!10\.89\.1\.1$)/m, 'only the network\'s responder');
  });

  test('a container on othernet can neither resolve nor reach them, not even by address; one on both networks can', () => {
    const ip = ipOf('srv');
    // (busybox wget -T crashes: timeout bounds it instead.)
    const r = runIn('othernet', `nslookup srv; echo "rc=$?"; timeout 3 wget -qO- http://${ip}:8080/; echo "rc=$?"; /probe/udp-ask ${ip} 9001 x; echo "rc=$?"`);
    assert.doesNotMatch(r.stdout, /hello-from-srv|^x$/m);
    const codes = r.stdout.match(/rc=\d+/g) ?? [];
    assert.equal(codes.length, 3, r.stdout + r.stderr);
    assert.ok(codes.every((c) => c !== 'rc=0'), r.stdout + r.stderr);
    const both = runIn('othernet', 'wget -qO- http://srv:8080/ && ip addr show eth1 | grep -o "inet 10\\.89\\.1\\.[0-9]*"', ['--network', 'appnet']);
    assert.equal(both.code, 0, both.stderr + both.stdout);
    assert.match(both.stdout, /^hello-from-srv\ninet 10\.89\.1\.\d+\n$/);
  });

  test('connect and disconnect change that live', () => {
    sb.ok(['run', '-d', '--name', 'mover', '--network', 'othernet', 'busybox', 'sleep', '600']);
    const fetch = () => sb.run(['exec', 'mover', 'timeout', '3', 'wget', '-qO-', 'http://db:8080/']);
    assert.notEqual(fetch().code, 0);
    sb.ok(['network', 'connect', '--alias', 'mv', 'appnet', 'mover']);
    const r = fetch();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello-from-srv\n');
    // The new endpoint answers to its alias for the others.
    assert.match(runIn('appnet', 'nslookup mv').stdout, /Address: 10\.89\.1\.\d+/);
    assert.equal(sb.ok(['inspect', '-f', '{{len .NetworkSettings.Networks}}', 'mover']).trim(), '2');
    sb.ok(['network', 'disconnect', 'appnet', 'mover']);
    assert.notEqual(fetch().code, 0);
    assert.equal(sb.ok(['inspect', '-f', '{{len .NetworkSettings.Networks}}', 'mover']).trim(), '1');
    sb.ok(['rm', '-f', 'mover']);
  });

  test('a container keeps its address across stop and start and is found again; an unnamed one gets a generated name', () => {
    const id = sb.ok(['run', '-d', '--network', 'appnet', 'busybox', 'sleep', '600']).trim();
    const name = sb.ok(['inspect', '-f', '{{.Name}}', id]).trim().replace(/^\//, '');
    assert.match(name, /^[a-z]+_[a-z]+$/);
    const ip = ipOf(id);
    sb.ok(['stop', '-t', '0', id]);
    sb.ok(['start', id]);
    assert.equal(ipOf(id), ip);
    const r = runIn('appnet', `nslookup ${name} && nslookup ${id.slice(0, 12)}`);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((r.stdout.match(new RegExp(`Address: ${ip.replace(/\./g, '\\.')}$`, 'gm')) ?? []).length, 2, r.stdout);
    sb.ok(['rm', '-f', id]);
  });

  test('--internal: no way out (no slirp4netns, no default route), peers still by name', () => {
    sb.ok(['network', 'create', '--internal', 'backnet']);
    sb.ok(['run', '-d', '--name', 'inner', '--network', 'backnet', '-v', `${probe}:/probe:ro`, 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/probe/www']);
    const r = runIn('backnet', 'wget -qO- http://inner:8080/ && ip -o link | grep -c tap0; ip route');
    assert.match(r.stdout, /^hello-from-srv\n0\n/, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /^default/m);
    assert.equal(sb.ok(['network', 'inspect', '-f', '{{.Internal}}', 'backnet']).trim(), 'true');
    sb.ok(['network', 'rm', '-f', 'backnet']);
  });

  test('-p publishes a port of a container on a user network', async () => {
    const port = await freePort();
    sb.ok(['run', '-d', '--name', 'pub', '--network', 'appnet', '-p', `${port}:8080`, '-v', `${probe}:/probe:ro`, 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/probe/www']);
    const body = await getBodyOrEmpty(port, { ms: 10_000, every: 50, want: Boolean });
    assert.equal(body, 'hello-from-srv\n');
    sb.ok(['rm', '-f', 'pub']);
  });

  test('network rm refuses while a container is on it; -f removes those containers first', () => {
    sb.ok(['network', 'create', 'tmpnet']);
    sb.ok(['create', '--name', 'parked', '--network', 'tmpnet', 'busybox', 'true']);
    const id = JSON.parse(sb.ok(['network', 'inspect', 'tmpnet']))[0].Id;
    const r = sb.run(['network', 'rm', 'tmpnet']);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, `Error: Error response from daemon: error while removing network: network tmpnet id ${id} has active endpoints\n`);
    assert.match(sb.ok(['network', 'ls']), /tmpnet/);
    assert.equal(sb.ok(['network', 'rm', '-f', 'tmpnet']), 'tmpnet\n');
    assert.doesNotMatch(sb.ok(['network', 'ls']), /tmpnet/);
    assert.notEqual(sb.run(['inspect', 'parked']).code, 0, 'its container went with it');
  });

  test('bad input is one line, exit 125, and changes nothing', () => {
    const networksJson = path.join(sb.root, 'networks.json');
    const before = fs.readFileSync(networksJson, 'utf8');
    const containers = sb.ok(['ps', '-aq']);
    const cases: [string[], RegExp][] = [
      [['network', 'create', 'appnet'], /^Error: network with name appnet already exists$/],
      [['network', 'create', '--subnet', '10.89.1.0/25', 'clash'], /^Error: invalid pool request: Pool overlaps/],
      [['network', 'create', '--subnet', '10.1.2.3/24', 'hostbits'], /^Error: invalid subnet 10\.1\.2\.3\/24: host bits are set/],
      [['network', 'create', '--subnet', '10.1.2.0/24', '--gateway', '10.1.3.1', 'gw'], /^Error: invalid gateway 10\.1\.3\.1/],
      [['network', 'create', 'bridge'], /^Error: network with name bridge already exists/],
      [['network', 'create', '-d', 'macvlan', 'mv'], /^Error: network driver "macvlan" is not supported/],
      [['network', 'rm', 'nope'], /^Error: network nope not found$/],
      [['network', 'inspect', 'nope'], /^Error: network nope not found$/],
      [['network', 'connect', 'nope', 'srv'], /^Error: network nope not found$/],
      [['run', '--network', 'nope', 'busybox', 'true'], /^Error: network nope not found$/],
      [['run', '--network', 'appnet', '--ip', '10.89.1.2', 'busybox', 'true'], /^Error: Address already in use: 10\.89\.1\.2$/],
      [['run', '--network', 'appnet', '--ip', '10.89.9.9', 'busybox', 'true'], /^Error: no configured subnet contains IP address 10\.89\.9\.9$/],
      [['run', '--network', 'host', '--network', 'appnet', 'busybox', 'true'], /^Error: conflicting options: cannot attach both user-defined and non-user-defined/],
      [['run', '--network-alias', 'x', 'busybox', 'true'], /^Error: network-scoped aliases are only supported for user-defined networks$/],
      [['run', '--dns', '1.2.3', 'busybox', 'true'], /^Error: 1\.2\.3 is not an ip address$/],
      [['run', '--add-host', 'nocolon', 'busybox', 'true'], /^Error: invalid argument "nocolon" for "--add-host" flag/],
    ];
    for (const [args, re] of cases) {
      const r = sb.run(args);
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr.trimEnd(), re, args.join(' '));
      assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `one line: ${r.stderr}`);
    }
    assert.equal(fs.readFileSync(networksJson, 'utf8'), before);
    assert.equal(sb.ok(['ps', '-aq']), containers);
  });

  test('--ip, --mac-address and --hostname are honoured; --dns, --dns-search, --dns-option and --add-host write docker\'s files on every mode', () => {
    // `srv.`: absolute, so ndots:2 does not send corp.example's search to the (unreachable) --dns first.
    const r = runIn('appnet', 'ip addr show eth0; hostname; cat /etc/hosts /etc/resolv.conf; nslookup srv.',
      ['--ip', '10.89.1.200', '--mac-address', '02:42:de:ad:be:ef', '--hostname', 'custom', '--add-host', 'extra:192.0.2.9',
        '--dns', '192.0.2.53', '--dns-search', 'corp.example', '--dns-option', 'ndots:2']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /inet 10\.89\.1\.200\/24/);
    assert.match(r.stdout, /link\/ether 02:42:de:ad:be:ef/);
    assert.match(r.stdout, /^custom$/m);
    assert.match(r.stdout, /^192\.0\.2\.9\textra$/m);
    assert.match(r.stdout, /^10\.89\.1\.200\tcustom/m);
    // The responder stays the nameserver (it forwards other names to --dns): names still resolve.
    assert.match(r.stdout, /^search corp\.example\nnameserver 10\.89\.1\.1\noptions ndots:2$/m);
    assert.match(r.stdout, /Name:\s+srv\.?\nAddress: 10\.89\.1\.2/);
    for (const mode of ['slirp4netns', 'none']) {
      const d = sb.run(['run', '--rm', '--network', mode, '--dns', '192.0.2.53', '--dns-search', 'corp.example', '--dns-option', 'ndots:2',
        '--add-host', 'extra:192.0.2.9', '--add-host', 'gw:host-gateway', 'busybox', 'cat', '/etc/hosts', '/etc/resolv.conf']);
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stdout, /^192\.0\.2\.9\textra$/m, mode);
      assert.match(d.stdout, /^\d+\.\d+\.\d+\.\d+\tgw$/m, mode);
      assert.match(d.stdout, /^search corp\.example\nnameserver 192\.0\.2\.53\noptions ndots:2\n$/m, mode);
    }
  });

  test('20 concurrent runs on appnet get distinct addresses', async () => {
    const runs = Array.from({ length: 20 }, (_, i) => sb.runAsync(['run', '-d', '--name', `many${i}`, '--network', 'appnet', 'busybox', 'sleep', '600']));
    const results = await Promise.all(runs);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const ips = Array.from({ length: 20 }, (_, i) => ipOf(`many${i}`));
    assert.equal(new Set(ips).size, 20, ips.join(' '));
    // Each has its own address on its own interface, and the others reach it.
    const live = sb.ok(['exec', 'many0', 'sh', '-c', `ping -c1 -W2 many19 >/dev/null && ip addr show eth0`]);
    assert.match(live, new RegExp(`inet ${ips[0]!.replace(/\./g, '\\.')}/24`));
    sb.ok(['rm', '-f', ...Array.from({ length: 20 }, (_, i) => `many${i}`)]);
  });

  test('a holder killed with SIGKILL: ls, ps and the next run recover, and running containers are re-attached', async () => {
    const pid = holderPid();
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && holders().length; i++) await sleep(50);
    assert.match(sb.ok(['network', 'ls']), /appnet/);
    assert.match(sb.ok(['ps']), /srv/);
    const r = runIn('appnet', 'wget -qO- http://db:8080/');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello-from-srv\n');
    assert.notEqual(holderPid(), pid);
  });

  test('no holder survives its last container', async () => {
    assert.equal(holders().length, 1, 'one holder while srv runs');
    sb.ok(['rm', '-f', ...sb.ok(['ps', '-aq']).trim().split('\n')]);
    for (let i = 0; i < 200 && holders().length; i++) await sleep(50);
    assert.deepEqual(holders(), []);
    assert.equal(fs.existsSync(holderPidFile), false);
  });
});
