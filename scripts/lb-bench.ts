// Throughput through the load balancer (tsctr-shim balance) vs straight to one replica, same run,
// and the balancer's RSS. As the test user, from the checkout, with the fixture registry up:
//   node --import tsx scripts/lb-bench.ts      (REGISTRY, TSCTR_BIN as scripts/test.sh sets them)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Sandbox, freePort } from '../test/support/harness.js';
import { setBackends, startBalancer, stopBalancer } from '../src/net/balancer.js';

const sb = new Sandbox('lbbench');
const dir = path.join(sb.dir, 'lb');
try {
  sb.ok(['pull', '-q', 'nginx']);
  const ports: number[] = [];
  for (const n of ['n1', 'n2', 'n3']) {
    sb.ok(['run', '-d', '--name', n, '-p', '127.0.0.1::80', 'nginx']);
    ports.push(Number(/:(\d+)\s*$/.exec(sb.ok(['port', n, '80']).trim())![1]));
  }
  const b = await startBalancer({ dir, hostIp: '127.0.0.1', hostPort: await freePort(), protocol: 'tcp' });
  setBackends(dir, ports.map((port) => ({ port })));
  await new Promise((r) => setTimeout(r, 1000));
  const rss = () => /^VmRSS:\s+(\d+ kB)/m.exec(fs.readFileSync(`/proc/${b.pid}/status`, 'utf8'))![1];
  console.log(`balancer pid ${b.pid} RSS idle ${rss()}`);
  const wrk = (port: number) => {
    const out = spawnSync('wrk', ['-t2', '-c32', '-d6s', `http://127.0.0.1:${port}/`], { encoding: 'utf8' }).stdout;
    return /Requests\/sec:\s+([\d.]+)/.exec(out)![1] + ' req/s  ' + (/Latency\s+(\S+)/.exec(out)?.[1] ?? '') + ' avg latency';
  };
  for (let round = 1; round <= 4; round++) {
    console.log(`round ${round}: straight to one replica (127.0.0.1:${ports[0]}): ${wrk(ports[0]!)}`);
    setBackends(dir, ports.map((port) => ({ port })));
    await new Promise((r) => setTimeout(r, 400));
    console.log(`round ${round}: through the balancer (127.0.0.1:${b.port}, 3 replicas): ${wrk(b.port)}  balancer RSS ${rss()}`);
    setBackends(dir, [{ port: ports[0]! }]);
    await new Promise((r) => setTimeout(r, 400));
    console.log(`round ${round}: through the balancer, that one replica only: ${wrk(b.port)}  balancer RSS ${rss()}`);
  }
} finally {
  await stopBalancer(dir);
  sb.run(['rm', '-f', 'n1', 'n2', 'n3']);
  sb.cleanup();
}
