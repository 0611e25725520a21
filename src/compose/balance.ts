/**
 * A scaled service's published ports: one balancer per port (src/net/balancer.ts) owns the host
 * port and spreads connections over the replicas' own 127.0.0.1 ports. Until that lands, scaled
 * services publish as given (a fixed host port then conflicts, as with docker compose).
 */
import type { RtProject, RtService } from './project-runtime.js';

export function balancerUsable(): boolean {
  return false;
}

/** Brings the service's balancers to these replicas (none: stops them). */
export async function syncBalancers(_p: RtProject, _s: RtService, _replicaIds: string[]): Promise<void> {}

/** Stops every balancer of the project (down). */
export async function stopProjectBalancers(_project: string, _services: string[] = []): Promise<void> {}

export async function balancedAddress(_project: string, _service: string, _port: number, _protocol: string): Promise<string | undefined> {
  return undefined;
}
