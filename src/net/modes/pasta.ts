/**
 * --network pasta (the passt package): copies the host's addresses and forwards ports itself, so the
 * container sees the client's real address; about 29 MB per container (README, "Networks").
 */
import { TsctrError } from '../../errors.js';
import { findTool } from '../../rootless/userns.js';
import { resolvePorts } from '../host-ports.js';
import type { NetworkMode, PortBinding } from '../types.js';

function portArgs(ports: PortBinding[], proto: 'tcp' | 'udp'): string[] {
  const mine = ports.filter((p) => p.protocol === proto);
  const flag = proto === 'tcp' ? '-t' : '-u';
  if (mine.length === 0) return [flag, 'none'];
  return mine.flatMap((p) => [flag, `${p.hostIp ? `${p.hostIp}/` : ''}${p.hostPort}:${p.containerPort}`]);
}

export const pastaMode: NetworkMode = {
  name: 'pasta',
  publishes: true,
  hostNameservers: true,
  async plan(req) {
    const pasta = findTool('pasta');
    if (!pasta) throw new TsctrError(`pasta not found: install the 'passt' package (Debian/Ubuntu: apt-get install passt), or use --network none`);
    const ports = await resolvePorts(req.portBindings);
    // The monitor runs this once the namespaces exist and before the program starts, so the
    // network is up when the program first looks; pasta then backgrounds itself.
    const args = ['--config-net', '--quiet', ...portArgs(ports, 'tcp'), ...portArgs(ports, 'udp'), '-T', 'none', '-U', 'none'];
    const argv = ['/bin/sh', '-c', 'exec "$0" "$@" "$TSCTR_PID"', pasta, ...args];
    return { spec: [['network', 'none'], ...argv.map((a): [string, string] => ['prestart', a])], ports };
  },
  nameservers: () => [],
  ownAddresses: () => ['127.0.1.1'],
  settings: () => ({}),
  names: () => ['pasta'],
};
