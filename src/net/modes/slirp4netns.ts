/**
 * --network slirp4netns, the default: a user-mode stack per container with published ports forwarded
 * by the shim itself (splice between the host's socket and one to 127.0.0.1 inside): the lightest and
 * quickest to start of the stacks measured (README, "Networks").
 */
import { TsctrError } from '../../errors.js';
import { findTool } from '../../rootless/userns.js';
import { resolvePorts, withIPv6 } from '../host-ports.js';
import type { NetworkMode, PortBinding, SpecEntries } from '../types.js';

/** slirp4netns' resolver: it forwards to whatever the host uses, loopback stubs included. */
export const SLIRP_DNS = '10.0.2.3';

/**
 * The stack and the port forwarder as monitor helpers. Also used by user networks, whose
 * containers reach the outside and get published ports exactly this way.
 */
export async function slirpEntries(bindings: PortBinding[]): Promise<{ spec: SpecEntries; ports: PortBinding[] }> {
  const slirp = findTool('slirp4netns');
  if (!slirp) throw new TsctrError(`slirp4netns not found: install the 'slirp4netns' package (Debian/Ubuntu: apt-get install slirp4netns), or use --network pasta`);
  const ports = await withIPv6(await resolvePorts(bindings), bindings);
  // Ports go through the shim's own forwarder (splice for TCP), not slirp4netns' much slower
  // hostfwd, which also drops UDP replies to loopback clients while host loopback is disabled.
  const publish = ports.map((p): [string, string] => ['publish', `${p.hostIp || '0.0.0.0'} ${p.hostPort} ${p.containerPort} ${p.protocol}`]);
  // The monitor starts it once the namespaces exist and waits for its ready byte on fd 3.
  const argv = [slirp, '--configure', '--mtu=65520', '--disable-host-loopback', '--enable-sandbox', '--enable-seccomp',
    '--ready-fd=3', '--userns-path=/proc/{pid}/ns/user', '{pid}', 'tap0'];
  return { spec: [...publish, ...argv.map((a): [string, string] => ['helper', a])], ports };
}

export const slirp4netnsMode: NetworkMode = {
  name: 'slirp4netns',
  publishes: true,
  hostNameservers: true,
  async plan(req) {
    const { spec, ports } = await slirpEntries(req.portBindings);
    return { spec: [['network', 'none'], ...spec], ports };
  },
  nameservers: () => [SLIRP_DNS],
  ownAddresses: () => ['127.0.1.1'],
  settings: () => ({}),
  names: () => ['slirp4netns'],
};
