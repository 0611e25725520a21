/**
 * Pod membership as the container store records it: a pod is its infra container, POD-infra,
 * labelled with the pod's name and as infra; members carry the pod's name. Kept apart from
 * kube/pod.ts (which creates and runs pods through the engine) so that the engine's create can
 * join a pod without importing the code that calls it.
 */
import { loadContainers } from './store.js';
import type { ContainerRecord } from './types.js';

export const POD_LABEL = 'io.tsctr.pod';
export const INFRA_LABEL = 'io.tsctr.pod.infra';

export const infraName = (pod: string) => `${pod}-infra`;

export function podInfra(pod: string): ContainerRecord | undefined {
  return Object.values(loadContainers().containers).find((c) => c.config.labels[POD_LABEL] === pod && c.config.labels[INFRA_LABEL] === 'true');
}

export function podMembers(pod: string): ContainerRecord[] {
  return Object.values(loadContainers().containers).filter((c) => c.config.labels[POD_LABEL] === pod && c.config.labels[INFRA_LABEL] !== 'true');
}
