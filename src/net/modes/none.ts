/** --network none: a network namespace with only loopback. */
import type { NetworkMode } from '../types.js';

export const noneMode: NetworkMode = {
  name: 'none',
  publishes: false,
  hostNameservers: true,
  plan: async () => ({ spec: [['network', 'none']], ports: [] }),
  nameservers: () => [],
  ownAddresses: () => ['127.0.1.1'],
  settings: () => ({}),
  names: () => ['none'],
};
