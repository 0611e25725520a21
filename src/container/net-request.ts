/** A container record as the network code sees it (src/net does not read container records). */
import { networkMode } from '../net/default.js';
import type { NetRequest } from '../net/types.js';
import type { ContainerRecord } from './types.js';

export function netRequest(c: ContainerRecord): NetRequest {
  return {
    id: c.id,
    name: c.name,
    hostname: c.config.hostname,
    mode: networkMode(c.hostConfig.network),
    portBindings: c.hostConfig.portBindings,
    endpoints: c.endpoints ?? [],
    dns: c.hostConfig.dnsConfig ?? {},
  };
}
