/**
 * A container's network as shim spec entries, by its mode (modes/). Host port probing is in
 * host-ports.ts; re-exported here for the callers that check ports at create time.
 */
import { modeFor } from './modes/index.js';
import type { NetRequest, NetworkPlan, PlanContext } from './types.js';

export { resolvePorts } from './host-ports.js';
export type { NetworkPlan } from './types.js';

export function planNetwork(req: NetRequest, ctx: PlanContext): Promise<NetworkPlan> {
  return modeFor(req).plan(req, ctx);
}
