/**
 * `generate kube`: containers as one Kubernetes Pod (and, with --service, a NodePort Service for
 * their published ports), in the form a cluster accepts: fully qualified image names, only what
 * differs from the image (command, args, environment, working directory), the user as
 * securityContext ids, `-p` as hostPort, bind mounts as hostPath volumes, named volumes as
 * persistentVolumeClaims, tmpfs as memory emptyDirs, limits, labels and the restart policy.
 */
import fs from 'node:fs';
import { TsctrError } from '../errors.js';
import { getImage, loadImages, readImageConfig } from '../image/store.js';
import { formatReference, parseReference } from '../image/reference.js';
import { layersTopFirst } from '../container/layers.js';
import { resolveUser } from '../container/user.js';
import type { ContainerRecord, PortBinding } from '../container/types.js';
import { findContainer, loadContainers } from '../container/store.js';
import { INFRA_LABEL, POD_LABEL } from './pod.js';
import { VERSION } from '../version.js';

type Obj = Record<string, unknown>;

/** Pod volumes by what they are (host path, claim), each with its name. */
type Volumes = Map<string, Obj>;

/** A DNS-1123 label, as Kubernetes wants names: lower case, digits and '-', at most 63. */
function dnsLabel(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return s || 'container';
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

const sameList = (a: string[] | null | undefined, b: string[] | null | undefined) => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

function imageName(c: ContainerRecord): string {
  const image = getImage(loadImages(), c.imageId);
  try {
    const ref = parseReference(c.config.image);
    if (!/^(sha256:)?[0-9a-f]{12,64}$/.test(c.config.image)) return formatReference(ref);
  } catch {
    /* an ID: use a tag the image has */
  }
  const tag = image.repoTags[0];
  if (!tag) throw new TsctrError(`container ${c.name} runs an untagged image (${c.imageId.slice(7, 19)}): a cluster could not pull it; tag and push it first`);
  return tag;
}

function containerSpec(c: ContainerRecord, volumes: Volumes): Obj {
  const image = getImage(loadImages(), c.imageId);
  const img = readImageConfig(image).config ?? {};
  const spec: Obj = { name: dnsLabel(c.name), image: imageName(c) };
  const entrypointChanged = !sameList(c.config.entrypoint, img.Entrypoint);
  if (entrypointChanged) spec.command = c.config.entrypoint ?? [];
  if (entrypointChanged || !sameList(c.config.cmd, img.Cmd)) spec.args = c.config.cmd ?? [];
  const imageEnv = new Set(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...(img.Env ?? [])]);
  const env = c.config.env.filter((e) => !imageEnv.has(e)).map((e) => ({ name: e.slice(0, e.indexOf('=')), value: e.slice(e.indexOf('=') + 1) }));
  if (env.length) spec.env = env;
  if (c.config.workingDir !== (img.WorkingDir || '/')) spec.workingDir = c.config.workingDir;
  const security: Obj = {};
  if (c.config.user && c.config.user !== img.User) {
    const u = resolveUser(c.config.user, layersTopFirst(image));
    security.runAsUser = u.uid;
    security.runAsGroup = u.gid;
  }
  if (c.hostConfig.capAdd.length || c.hostConfig.capDrop.length) {
    const caps = (l: string[]) => l.map((x) => x.toUpperCase().replace(/^CAP_/, ''));
    security.capabilities = { ...(c.hostConfig.capAdd.length ? { add: caps(c.hostConfig.capAdd) } : {}), ...(c.hostConfig.capDrop.length ? { drop: caps(c.hostConfig.capDrop) } : {}) };
  }
  if (c.hostConfig.readOnly) security.readOnlyRootFilesystem = true;
  if (Object.keys(security).length) spec.securityContext = security;
  const bindings = (c.ports?.length ? c.ports : c.hostConfig.portBindings).filter((b) => !b.ipv6Twin);
  if (bindings.length) spec.ports = bindings.map(portSpec);
  const limits: Obj = {};
  if (c.hostConfig.memory) limits.memory = String(c.hostConfig.memory);
  if (c.hostConfig.nanoCpus) limits.cpu = `${Math.round(c.hostConfig.nanoCpus / 1e6)}m`;
  if (Object.keys(limits).length) spec.resources = { limits };
  const mounts = c.hostConfig.mounts.map((m) => {
    let volume: Obj;
    if (m.type === 'bind') {
      const st = fs.statSync(m.source, { throwIfNoEntry: false });
      volume = { hostPath: { path: m.source, type: st?.isDirectory() ? 'Directory' : st?.isFile() ? 'File' : 'DirectoryOrCreate' } };
    } else if (m.type === 'volume') {
      volume = { persistentVolumeClaim: { claimName: dnsLabel(m.source) } };
    } else {
      volume = { emptyDir: { medium: 'Memory' } };
    }
    // The same host path or named volume is one pod volume, whichever containers mount it.
    const key = m.type === 'tmpfs' ? `tmpfs:${volumes.size}` : JSON.stringify(volume);
    let name = volumes.get(key)?.name as string | undefined;
    if (!name) {
      const base = dnsLabel(m.type === 'volume' ? `${m.source}-pvc` : `${m.destination.split('/').filter(Boolean).join('-') || 'root'}-${m.type === 'bind' ? 'host' : 'tmpfs'}`);
      const taken = new Set([...volumes.values()].map((v) => v.name));
      name = base;
      for (let i = 1; taken.has(name); i++) name = `${base}-${i}`;
      volumes.set(key, { name, ...volume });
    }
    return { name, mountPath: m.destination, ...(m.readOnly ? { readOnly: true } : {}) };
  });
  if (mounts.length) spec.volumeMounts = mounts;
  return spec;
}

function portSpec(b: PortBinding): Obj {
  return {
    containerPort: b.containerPort,
    ...(b.hostPort ? { hostPort: b.hostPort } : {}),
    ...(b.hostIp && b.hostIp !== '0.0.0.0' ? { hostIP: b.hostIp } : {}),
    protocol: b.protocol.toUpperCase(),
  };
}

const RESTART: Record<string, string> = { always: 'Always', 'unless-stopped': 'Always', 'on-failure': 'OnFailure', no: 'Never' };

interface KubeDocs {
  pod: Obj;
  service?: Obj;
}

/** The pod infra container a container joined with `--pod`, if any (its ports are the pod's). */
function podInfraOf(c: ContainerRecord): ContainerRecord | undefined {
  const net = c.hostConfig.network;
  if (!net.startsWith('container:') || !c.config.labels[POD_LABEL]) return undefined;
  const infra = findContainer(loadContainers(), net.slice('container:'.length));
  return infra?.config.labels[INFRA_LABEL] === 'true' ? infra : undefined;
}

function kubeObjects(containers: ContainerRecord[], withService: boolean): KubeDocs {
  if (containers.length === 0) throw new TsctrError('generate kube needs at least one container');
  // A local pod (or its infra container) becomes that pod: its name, its ports on its first container.
  const infra = containers.find((c) => c.config.labels[INFRA_LABEL] === 'true') ?? containers.map(podInfraOf).find(Boolean);
  const members = containers.filter((c) => c.config.labels[INFRA_LABEL] !== 'true');
  if (infra && members.length === 0) throw new TsctrError(`pod ${infra.config.labels[POD_LABEL]} has no containers to describe`);
  if (infra) containers = members;
  const podName = dnsLabel(infra ? infra.config.labels[POD_LABEL]! : `${containers[0]!.name}-pod`);
  const volumes: Volumes = new Map();
  const specs = containers.map((c) => containerSpec(c, volumes));
  const infraPorts = infra ? (infra.ports ?? infra.hostConfig.portBindings).filter((b) => !b.ipv6Twin) : [];
  if (infraPorts.length) specs[0]!.ports = infraPorts.map(portSpec);
  const names = new Set<string>();
  for (const s of specs) {
    let n = s.name as string;
    for (let i = 1; names.has(n); i++) n = `${s.name as string}-${i}`;
    names.add(n);
    s.name = n;
  }
  const labels: Record<string, string> = { app: podName };
  const annotations: Record<string, string> = {};
  for (const c of containers) {
    for (const [k, v] of Object.entries(c.config.labels)) {
      if (k.startsWith('io.tsctr.')) continue; // tsctr's own bookkeeping (pod membership)
      if (LABEL_KEY.test(k) && LABEL_VALUE.test(v)) labels[k] = v;
      else annotations[k] = v;
    }
  }
  const first = containers[0]!;
  const spec: Obj = {
    ...(first.config.hostname && first.config.hostname !== first.id.slice(0, 12) ? { hostname: dnsLabel(first.config.hostname) } : {}),
    restartPolicy: RESTART[first.hostConfig.restart.name] ?? 'Never',
    containers: specs,
    ...(volumes.size ? { volumes: [...volumes.values()] } : {}),
  };
  const pod: Obj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName, labels, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec,
  };
  const ports = specs.flatMap((s) => (s.ports as { containerPort: number; protocol: string }[] | undefined) ?? []);
  if (!withService) return { pod };
  if (ports.length === 0) throw new TsctrError('--service needs published ports (-p) on the containers');
  const service: Obj = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: podName, labels: { app: podName } },
    spec: {
      type: 'NodePort',
      selector: { app: podName },
      ports: ports.map((p) => ({ name: `${p.containerPort}-${p.protocol.toLowerCase()}`, port: p.containerPort, targetPort: p.containerPort, protocol: p.protocol })),
    },
  };
  return { pod, service };
}

export async function kubeYaml(containers: ContainerRecord[], withService: boolean): Promise<string> {
  const { stringify } = await import('yaml');
  const docs = kubeObjects(containers, withService);
  const header = `# Generated by tsctr ${VERSION}. Import into a cluster with: kubectl create -f FILE\n# Run it here again with: tsctr play kube FILE\n`;
  return header + [docs.pod, docs.service].filter(Boolean).map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}
