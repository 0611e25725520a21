/**
 * Pod use cases (podman's pods: an infra container holding the namespaces, members joining it) and
 * `play kube`, which makes pods of Kubernetes YAML. Libraries imported per use case (containers.ts).
 */
import type { PlayedPod } from '../kube/play.js';
import type { PodOptions, PodRow } from '../kube/pod.js';
import type { ContainerRecord } from '../container/types.js';

export type { PlayedPod, PodOptions, PodRow };
/** A pod of a Kubernetes YAML, parsed and checked. */
export type PodSource = Awaited<ReturnType<typeof import('../kube/play.js').podsOf>>[number];

/** A pod without a name gets a random one that no infra container has yet. */
export async function createPod(name: string | undefined, o: PodOptions): Promise<ContainerRecord> {
  const { createPod: create } = await import('../kube/pod.js');
  const { randomName } = await import('../container/names.js');
  const { loadContainers } = await import('../container/store.js');
  const containers = Object.values(loadContainers().containers);
  return create(name ?? randomName((n) => containers.some((c) => c.name === `${n}-infra`)), o);
}

export async function listPods(noTrunc: boolean): Promise<PodRow[]> {
  return (await import('../kube/pod.js')).listPods(noTrunc);
}

/** Removes the pod's containers and then its infra container (the one returned). */
export async function removePod(pod: string, force: boolean): Promise<ContainerRecord> {
  return (await import('../kube/pod.js')).removePod(pod, force);
}

export async function startPod(pod: string): Promise<ContainerRecord> {
  return (await import('../kube/pod.js')).startPod(pod);
}

export async function stopPod(pod: string, timeoutSec?: number): Promise<ContainerRecord> {
  return (await import('../kube/pod.js')).stopPod(pod, timeoutSec);
}

/** The pods a Kubernetes YAML text describes (Pods and Deployments), checked; none run yet. */
export async function kubePods(text: string): Promise<PodSource[]> {
  return (await import('../kube/play.js')).podsOf(text);
}

/** Creates and starts a pod of the YAML's. */
export async function playPod(pod: PodSource): Promise<PlayedPod> {
  return (await import('../kube/play.js')).playPod(pod);
}

/** Stops and removes a played pod; false if there was none of that name. */
export async function downPod(name: string): Promise<boolean> {
  return (await import('../kube/play.js')).downPod(name);
}

/** Kubernetes YAML (a Pod, and a Service if asked) of containers, or of the pods a name names. */
export async function generateKube(names: string[], withService: boolean): Promise<string> {
  const { getContainer, findContainer, loadContainers } = await import('../container/store.js');
  const { podInfra, podMembers } = await import('../kube/pod.js');
  const doc = loadContainers();
  // A name may also be a pod's (made with pod create): then its containers.
  const picked = [];
  for (const n of names) {
    const infra = findContainer(doc, n) ? undefined : await podInfra(n);
    picked.push(...(infra ? [infra, ...(await podMembers(n))] : [getContainer(doc, n)]));
  }
  return (await import('../kube/generate.js')).kubeYaml(picked, withService);
}
