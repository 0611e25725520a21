/** --network container:NAME: join another running container's network namespace (and its user namespace). */
import type { NetworkMode } from '../types.js';

export const containerMode: NetworkMode = {
  name: 'container',
  publishes: false,
  hostNameservers: true,
  async plan(req, ctx) {
    const pid = ctx.runningPid(req.mode.slice('container:'.length));
    return { spec: [['network', `netns:/proc/${pid}/ns/net`]], ports: [] };
  },
  nameservers: () => [],
  ownAddresses: () => ['127.0.1.1'],
  settings: () => ({}),
  names: (req) => [req.mode],
};
