/**
 * `play kube`: the Pods of a Kubernetes YAML (also a Deployment's pod template) run here,
 * rootless, as local pods (pod.ts) with every hostPort published on the infra container.
 * Containers are named POD-NAME and labelled with their pod, which is how `--down` finds them.
 * What has no local meaning gets a warning, never silence.
 */
import fs from 'node:fs';
import { TsctrError } from '../errors.js';
import { log } from '../util/log.js';
import { defaultRunOptions, type RunOptions } from '../container/options.js';
import { POD_LABEL, createPod, infraName, podInfra, removePod } from './pod.js';
import type { ContainerRecord } from '../container/types.js';

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

/** A pod volume as a `-v` source: a host path, a claim's volume, or a volume private to the pod. */
function volumeSource(pod: string, vol: Obj): { source: string } | { tmpfs: true } {
  const name = String(vol.name);
  if (vol.hostPath) {
    const hp = obj(vol.hostPath);
    const p = String(hp.path ?? '');
    if (!p.startsWith('/')) throw new TsctrError(`volume ${name}: hostPath.path must be absolute`);
    if (hp.type === 'DirectoryOrCreate') fs.mkdirSync(p, { recursive: true });
    return { source: p };
  }
  if (vol.persistentVolumeClaim) return { source: String(obj(vol.persistentVolumeClaim).claimName) };
  if (vol.emptyDir) {
    if (obj(vol.emptyDir).medium === 'Memory') return { tmpfs: true };
    return { source: `${pod}-${name}` };
  }
  throw new TsctrError(`volume ${name}: only hostPath, persistentVolumeClaim and emptyDir volumes are supported`);
}

function containerOptions(pod: PodSource, c: Obj, restart: string, infra: string): RunOptions {
  const where = `pod ${pod.name} container ${String(c.name)}`;
  unsupported(where, c, KNOWN_CONTAINER_KEYS);
  if (!c.image) throw new TsctrError(`${where}: no image`);
  const o = defaultRunOptions(String(c.image));
  o.name = `${pod.name}-${String(c.name)}`;
  o.network = `container:${infra}`;
  o.labels = [`${POD_LABEL}=${pod.name}`];
  o.restart = restart;
  if (c.imagePullPolicy === 'Always') o.pull = 'always';
  if (c.imagePullPolicy === 'Never') o.pull = 'never';
  const command = strings(c.command);
  const args = strings(c.args);
  if (command.length) {
    o.entrypoint = command[0];
    o.command = [...command.slice(1), ...args];
  } else {
    o.command = args;
  }
  for (const e of list(c.env)) {
    if (e.valueFrom) log.warn(`${where}: env ${String(e.name)} uses valueFrom, which is not supported; ignored`);
    else o.env.push(`${String(e.name)}=${String(e.value ?? '')}`);
  }
  if (c.workingDir) o.workdir = String(c.workingDir);
  const sec = { ...obj(obj(pod.spec).securityContext), ...obj(c.securityContext) };
  if (sec.runAsUser !== undefined) o.user = sec.runAsGroup !== undefined ? `${Number(sec.runAsUser)}:${Number(sec.runAsGroup)}` : String(Number(sec.runAsUser));
  if (sec.readOnlyRootFilesystem) o.readOnly = true;
  const caps = obj(sec.capabilities);
  o.capAdd = strings(caps.add);
  o.capDrop = strings(caps.drop);
  const limits = obj(obj(c.resources).limits);
  if (limits.memory !== undefined) o.memory = kubeBytes(String(limits.memory));
  if (limits.cpu !== undefined) o.cpus = kubeCpus(String(limits.cpu));
  const volumes = new Map(list(obj(pod.spec).volumes).map((v) => [String(v.name), v]));
  for (const m of list(c.volumeMounts)) {
    const vol = volumes.get(String(m.name));
    if (!vol) throw new TsctrError(`${where}: volumeMount ${String(m.name)} names no volume of the pod`);
    const src = volumeSource(pod.name, vol);
    if ('tmpfs' in src) o.tmpfs.push(String(m.mountPath));
    else o.volumes.push(`${src.source}:${String(m.mountPath)}${m.readOnly ? ':ro' : ''}`);
  }
  return o;
}

/** Kubernetes quantities (`128Mi`, `1G`, `500000`) as a byte count. */
export function kubeBytes(q: string): string {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  if (!m) throw new TsctrError(`invalid memory quantity ${q}`);
  const mul: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return String(Math.round(Number(m[1]) * (m[2] ? mul[m[2]]! : 1)));
}

/** `500m` or `1.5` CPUs as --cpus. */
export function kubeCpus(q: string): string {
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(q);
  if (!m) throw new TsctrError(`invalid cpu quantity ${q}`);
  return String(m[2] ? Number(m[1]) / 1000 : Number(m[1]));
}

const RESTART: Record<string, string> = { Always: 'always', OnFailure: 'on-failure', Never: 'no' };

async function runOne(o: RunOptions, attach = false): Promise<ContainerRecord> {
  const { ensureImage } = await import('../container/ensure-image.js');
  const { createContainer } = await import('../container/create.js');
  const { startContainer } = await import('../container/launch.js');
  const c = await createContainer(o, await ensureImage(o.image, o.pull));
  if (!attach) {
    await startContainer(c.id, { attach, interactive: false });
    return c;
  }
  // An init container: run to completion, then gone (as `run --rm` does).
  const { removeContainer } = await import('../container/ops.js');
  const code = await startContainer(c.id, { attach, interactive: false }).finally(() => removeContainer(c.id, true, true).catch(() => undefined));
  if (code !== 0) throw new TsctrError(`init container ${o.name} exited with code ${code}`);
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
  const opts = containers.map((c) => containerOptions(pod, c, restart, infra));
  const inits = list(pod.spec.initContainers).map((c) => ({ ...containerOptions(pod, c, 'no', infra), detach: false, rm: true }));
  const publish = containers.flatMap((c) =>
    list(c.ports)
      .filter((p) => p.hostPort)
      .map((p) => `${p.hostIP ? `${String(p.hostIP)}:` : ''}${Number(p.hostPort)}:${Number(p.containerPort)}/${String(p.protocol ?? 'TCP').toLowerCase()}`),
  );
  const inf = await createPod(pod.name, { publish, hostname: pod.spec.hostname ? String(pod.spec.hostname) : undefined, labels: [], restart: restart === 'always' ? 'always' : 'no' });
  const started: string[] = [];
  try {
    for (const o of inits) await runOne(o, true);
    for (const o of opts) started.push((await runOne(o)).id);
    return { name: pod.name, infra: inf.id, containers: started };
  } catch (e) {
    // All or nothing: what this started goes again.
    await removePod(pod.name, true).catch(() => undefined);
    throw e;
  }
}

/** `--down`: the pod's containers stopped and removed, infra last. */
export async function downPod(name: string): Promise<boolean> {
  if (!(await podInfra(name))) return false;
  await removePod(name, true);
  return true;
}
