/** --network host: the host's network namespace, shared. */
import type { NetworkMode } from '../types.js';

export const hostMode: NetworkMode = {
  name: 'host',
  publishes: false,
  hostNameservers: true,
  plan: async () => ({ spec: [['network', 'host']], ports: [] }),
  nameservers: () => [],
  ownAddresses: () => ['127.0.1.1'],
  settings: () => ({}),
  names: () => ['host'],
};
