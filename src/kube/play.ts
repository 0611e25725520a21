/**
 * `play kube`: the Pods of a Kubernetes YAML (also a Deployment's pod template) run here,
 * rootless, as local pods (pod.ts) with every hostPort published on the infra container.
 * Containers are named POD-NAME and labelled with their pod, which is how `--down` finds them.
 * What has no local meaning gets a warning, never silence.
 */
import fs from 'node:fs';
import { isIP } from 'node:net';
import { TsctrError } from '../errors.js';
import { log } from '../util/log.js';
import { DEFAULT_TMPFS_OPTIONS } from '../container/options.js';
import { POD_LABEL, createPod, infraName, podInfra, removePod } from './pod.js';
import type { ContainerRecord, ContainerSpec, HostConfig, MountSpec, PortBinding } from '../container/types.js';
import type { ContainerConfig as ImageRunConfig } from '../image/types.js';

type Obj = Record<string, unknown>;

const KNOWN_CONTAINER_KEYS = new Set(['name', 'image', 'command', 'args', 'env', 'workingDir', 'ports', 'volumeMounts', 'resources', 'securityContext', 'imagePullPolicy', 'stdin', 'tty', 'terminationMessagePath', 'terminationMessagePolicy']);
const KNOWN_POD_KEYS = new Set(['containers', 'initContainers', 'volumes', 'restartPolicy', 'hostname', 'securityContext', 'terminationGracePeriodSeconds', 'dnsPolicy', 'enableServiceLinks']);

const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

export interface PlayedPod {
  name: string;
  infra: string;
  containers: string[];
}

interface PodSource {
  name: string;
  labels: Record<string, string>;
  spec: Obj;
}

/** The pods a YAML stream describes; other kinds are reported and skipped. */
export async function podsOf(text: string): Promise<PodSource[]> {
  const { parseAllDocuments } = await import('yaml');
  const pods: PodSource[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new TsctrError(`invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
    const o = obj(doc.toJS());
    if (Object.keys(o).length === 0) continue;
    const kind = String(o.kind ?? '');
    const meta = obj(o.metadata);
    if (kind === 'Pod') {
      pods.push({ name: String(meta.name ?? ''), labels: obj(meta.labels) as Record<string, string>, spec: obj(o.spec) });
    } else if (kind === 'Deployment') {
      const spec = obj(o.spec);
      const replicas = Number(spec.replicas ?? 1);
      if (replicas !== 1) log.warn(`Deployment ${String(meta.name)}: running 1 replica, not ${replicas}`);
      const tpl = obj(spec.template);
      pods.push({ name: `${String(meta.name ?? '')}-pod`, labels: obj(obj(tpl.metadata).labels) as Record<string, string>, spec: obj(tpl.spec) });
    } else if (kind === 'Service') {
      log.warn(`Service ${String(meta.name)}: not needed here (a pod's hostPorts are published on the host); ignored`);
    } else if (kind === 'PersistentVolumeClaim') {
      // Claims become named volumes when a pod mounts them.
    } else {
      log.warn(`kind ${kind || '(none)'} is not supported; ignored`);
    }
  }
  for (const p of pods) if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p.name)) throw new TsctrError(`invalid pod name "${p.name}"`);
  return pods;
}

function unsupported(where: string, o: Obj, known: Set<string>): void {
  for (const k of Object.keys(o)) if (!known.has(k)) log.warn(`${where}: ${k} is not supported; ignored`);
}

/** A pod volume as a mount: a host path, a claim's volume, a volume private to the pod, or memory. */
function volumeMount(pod: string, vol: Obj, destination: string, readOnly: boolean): MountSpec {
  const name = String(vol.name);
  if (vol.hostPath) {
    const hp = obj(vol.hostPath);
    const p = String(hp.path ?? '');
    if (!p.startsWith('/')) throw new TsctrError(`volume ${name}: hostPath.path must be absolute`);
    if (hp.type === 'DirectoryOrCreate') fs.mkdirSync(p, { recursive: true });
    return { type: 'bind', source: p, destination, readOnly };
  }
  if (vol.persistentVolumeClaim) return { type: 'volume', source: String(obj(vol.persistentVolumeClaim).claimName), destination, readOnly };
  if (vol.emptyDir) {
    if (obj(vol.emptyDir).medium === 'Memory') return { type: 'tmpfs', source: '', destination, readOnly: false, options: DEFAULT_TMPFS_OPTIONS };
    return { type: 'volume', source: `${pod}-${name}`, destination, readOnly };
  }
  throw new TsctrError(`volume ${name}: only hostPath, persistentVolumeClaim and emptyDir volumes are supported`);
}

/** One container of a pod as the engine will create it, once its image's defaults are known. */
interface ContainerPlan {
  image: string;
  pull: 'missing' | 'always' | 'never';
  /** Kubernetes' command (replaces the image's Entrypoint and drops its Cmd) and args (replace Cmd). */
  command: string[];
  args: string[];
  env: string[];
  spec: Partial<ContainerSpec> & Pick<ContainerSpec, 'name' | 'network' | 'labels' | 'restart' | 'mounts' | 'capAdd' | 'capDrop'>;
}

function containerPlan(pod: PodSource, c: Obj, restart: HostConfig['restart'], infra: string): ContainerPlan {
  const where = `pod ${pod.name} container ${String(c.name)}`;
  unsupported(where, c, KNOWN_CONTAINER_KEYS);
  if (!c.image) throw new TsctrError(`${where}: no image`);
  const spec: ContainerPlan['spec'] = {
    name: `${pod.name}-${String(c.name)}`,
    network: `container:${infra}`,
    labels: { [POD_LABEL]: pod.name },
    restart,
    mounts: [],
    capAdd: [],
    capDrop: [],
  };
  const env: string[] = [];
  for (const e of list(c.env)) {
    if (e.valueFrom) log.warn(`${where}: env ${String(e.name)} uses valueFrom, which is not supported; ignored`);
    else env.push(`${String(e.name)}=${String(e.value ?? '')}`);
  }
  if (c.workingDir) spec.workingDir = String(c.workingDir);
  const sec = { ...obj(obj(pod.spec).securityContext), ...obj(c.securityContext) };
  if (sec.runAsUser !== undefined) spec.user = sec.runAsGroup !== undefined ? `${Number(sec.runAsUser)}:${Number(sec.runAsGroup)}` : String(Number(sec.runAsUser));
  if (sec.readOnlyRootFilesystem) spec.readOnly = true;
  const caps = obj(sec.capabilities);
  spec.capAdd = strings(caps.add);
  spec.capDrop = strings(caps.drop);
  const limits = obj(obj(c.resources).limits);
  if (limits.memory !== undefined) spec.memory = kubeBytes(String(limits.memory));
  if (limits.cpu !== undefined) spec.nanoCpus = Math.round(kubeCpus(String(limits.cpu)) * 1e9);
  const volumes = new Map(list(obj(pod.spec).volumes).map((v) => [String(v.name), v]));
  for (const m of list(c.volumeMounts)) {
    const vol = volumes.get(String(m.name));
    if (!vol) throw new TsctrError(`${where}: volumeMount ${String(m.name)} names no volume of the pod`);
    spec.mounts.push(volumeMount(pod.name, vol, String(m.mountPath), !!m.readOnly));
  }
  const pull = c.imagePullPolicy === 'Always' ? 'always' : c.imagePullPolicy === 'Never' ? 'never' : 'missing';
  return { image: String(c.image), pull, command: strings(c.command), args: strings(c.args), env, spec };
}

/** The plan over the image's defaults, by Kubernetes' rules for command and args. */
function specOf(plan: ContainerPlan, img: ImageRunConfig, base: ContainerSpec, mergeEnv: (a: string[], b: string[]) => string[]): ContainerSpec {
  const entrypoint = plan.command.length ? plan.command : (img.Entrypoint ?? []);
  const cmd = plan.args.length ? plan.args : plan.command.length ? [] : (img.Cmd ?? []);
  return {
    ...base,
    ...plan.spec,
    entrypoint: entrypoint.length ? entrypoint : null,
    cmd: cmd.length ? cmd : null,
    env: mergeEnv(base.env, plan.env),
    labels: { ...base.labels, ...plan.spec.labels },
  };
}

/** Kubernetes quantities (`128Mi`, `1G`, `500000`) as a byte count. */
export function kubeBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  if (!m) throw new TsctrError(`invalid memory quantity ${q}`);
  const mul: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Math.round(Number(m[1]) * (m[2] ? mul[m[2]]! : 1));
}

/** `500m` or `1.5` CPUs, as a number of CPUs. */
export function kubeCpus(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(q);
  if (!m) throw new TsctrError(`invalid cpu quantity ${q}`);
  return m[2] ? Number(m[1]) / 1000 : Number(m[1]);
}

const RESTART: Record<string, HostConfig['restart']['name']> = { Always: 'always', OnFailure: 'on-failure', Never: 'no' };

async function runOne(plan: ContainerPlan, attach = false): Promise<ContainerRecord> {
  const { ensureImage } = await import('../container/ensure-image.js');
  const { createContainer } = await import('../container/create.js');
  const { imageDefaults } = await import('../container/container-spec.js');
  const { mergeEnv } = await import('../container/options.js');
  const { readImageConfig } = await import('../image/store.js');
  const { startContainer } = await import('../container/launch.js');
  const image = await ensureImage(plan.image, plan.pull);
  const img = readImageConfig(image).config ?? {};
  const c = await createContainer(specOf(plan, img, imageDefaults(plan.image, img), mergeEnv), image);
  if (!attach) {
    await startContainer(c.id, { attach, interactive: false });
    return c;
  }
  // An init container: run to completion, then gone (as `run --rm` does).
  const { removeContainer } = await import('../container/ops.js');
  const code = await startContainer(c.id, { attach, interactive: false }).finally(() => removeContainer(c.id, true, true).catch(() => undefined));
  if (code !== 0) throw new TsctrError(`init container ${plan.spec.name} exited with code ${code}`);
  return c;
}

export async function playPod(pod: PodSource): Promise<PlayedPod> {
  if (await podInfra(pod.name)) throw new TsctrError(`pod ${pod.name} already exists: remove it first with play kube --down`);
  unsupported(`pod ${pod.name}`, pod.spec, KNOWN_POD_KEYS);
  const containers = list(pod.spec.containers);
  if (containers.length === 0) throw new TsctrError(`pod ${pod.name} has no containers`);
  const restart = RESTART[String(pod.spec.restartPolicy ?? 'Always')];
  if (!restart) throw new TsctrError(`pod ${pod.name}: invalid restartPolicy ${String(pod.spec.restartPolicy)}`);

  // Every check on the containers runs before anything starts.
  const infra = infraName(pod.name);
  const plans = containers.map((c) => containerPlan(pod, c, { name: restart, maxRetries: 0 }, infra));
  const inits = list(pod.spec.initContainers).map((c) => {
    const plan = containerPlan(pod, c, { name: 'no', maxRetries: 0 }, infra);
    return { ...plan, spec: { ...plan.spec, autoRemove: true } };
  });
  const portBindings = containers.flatMap((c) => list(c.ports).filter((p) => p.hostPort).map((p) => hostPort(pod, p)));
  const inf = await createPod(pod.name, {
    portBindings,
    hostname: pod.spec.hostname ? String(pod.spec.hostname) : undefined,
    labels: {},
    restart: { name: restart === 'always' ? 'always' : 'no', maxRetries: 0 },
  });
  const started: string[] = [];
  try {
    for (const p of inits) await runOne(p, true);
    for (const p of plans) started.push((await runOne(p)).id);
    return { name: pod.name, infra: inf.id, containers: started };
  } catch (e) {
    // All or nothing: what this started goes again.
    await removePod(pod.name, true).catch(() => undefined);
    throw e;
  }
}

/** A container port with a hostPort, as the pod's published port. */
function hostPort(pod: PodSource, p: Obj): PortBinding {
  const protocol = String(p.protocol ?? 'TCP').toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp') throw new TsctrError(`pod ${pod.name}: protocol ${String(p.protocol)} is not supported (TCP or UDP)`);
  const [hostPort, containerPort] = [Number(p.hostPort), Number(p.containerPort)];
  for (const n of [hostPort, containerPort]) if (!Number.isInteger(n) || n < 1 || n > 65535) throw new TsctrError(`pod ${pod.name}: invalid port ${n}`);
  const hostIp = p.hostIP ? String(p.hostIP) : '';
  if (hostIp && !isIP(hostIp)) throw new TsctrError(`pod ${pod.name}: invalid hostIP ${hostIp}`);
  return { hostIp, hostPort, containerPort, protocol };
}

/** `--down`: the pod's containers stopped and removed, infra last. */
export async function downPod(name: string): Promise<boolean> {
  if (!(await podInfra(name))) return false;
  await removePod(name, true);
  return true;
}
