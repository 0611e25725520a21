/**
 * `compose convert --kube`: the project as Kubernetes objects, so that the same application moves to
 * a cluster (or to `tsctr play kube`): per service a Deployment (replicas, command, environment,
 * ports, limits, probes, mounts) and, when it has ports, a Service; per named volume a
 * PersistentVolumeClaim. Bind mounts become hostPath volumes, tmpfs an in-memory emptyDir; configs
 * and secrets from files are hostPath files mounted read-only. Kubernetes names are DNS labels:
 * `_` and `.` become `-`. A Deployment's pods always restart (its only policy), whatever `restart:` says.
 */
import type { Project, Service, ServiceVolume } from './model.js';

type Obj = Record<string, unknown>;

/** A DNS-1123 label from a compose name. */
export function kubeName(s: string): string {
  const n = s
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return n || 'x';
}

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : Math.max(1, Math.round(ms / 1000)));

function probe(s: Service): Obj | undefined {
  const h = s.healthcheck;
  if (!h || h.disable || !h.test) return undefined;
  const command = h.test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', h.test.slice(1).join(' ')] : h.test.slice(1);
  return omitUndefined({
    exec: { command },
    periodSeconds: seconds(h.interval),
    timeoutSeconds: seconds(h.timeout),
    failureThreshold: h.retries,
    initialDelaySeconds: h.start_period !== undefined ? Math.round(h.start_period / 1000) : undefined,
  });
}

function omitUndefined(o: Obj): Obj {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

interface Mounts {
  volumes: Obj[];
  mounts: Obj[];
}

function mounts(project: Project, s: Service): Mounts {
  const out: Mounts = { volumes: [], mounts: [] };
  const add = (volume: Obj, mount: Obj) => {
    out.volumes.push(volume);
    out.mounts.push(mount);
  };
  s.volumes.forEach((v: ServiceVolume, i) => {
    const name = kubeName(`${s.name}-${v.type}-${i}`);
    const mount = omitUndefined({ name, mountPath: v.target, readOnly: v.read_only || undefined });
    if (v.type === 'volume' && v.source) add({ name, persistentVolumeClaim: { claimName: kubeName(v.source) } }, mount);
    else if (v.type === 'volume') add({ name, emptyDir: {} }, mount);
    else if (v.type === 'bind' && v.source) add({ name, hostPath: { path: v.source } }, mount);
    else if (v.type === 'tmpfs') add({ name, emptyDir: omitUndefined({ medium: 'Memory', sizeLimit: v.tmpfs?.size !== undefined ? String(v.tmpfs.size) : undefined }) }, mount);
  });
  for (const [kind, refs, defs] of [
    ['config', s.configs, project.configs],
    ['secret', s.secrets, project.secrets],
  ] as const) {
    refs.forEach((r, i) => {
      const file = defs[r.source]?.file;
      if (!file) return;
      const name = kubeName(`${s.name}-${kind}-${i}`);
      add({ name, hostPath: { path: file, type: 'File' } }, { name, mountPath: r.target, readOnly: true });
    });
  }
  for (const [i, t] of s.tmpfs.entries()) {
    const name = kubeName(`${s.name}-tmpfs-${i}`);
    add({ name, emptyDir: { medium: 'Memory' } }, { name, mountPath: t.split(':')[0] });
  }
  return out;
}

function container(project: Project, s: Service): Obj {
  const limits: Obj = {};
  const l = s.deploy?.resources.limits;
  const memory = l?.memory ?? s.mem_limit;
  const cpus = l?.cpus ?? s.cpus;
  if (memory !== undefined) limits.memory = String(memory);
  if (cpus !== undefined) limits.cpu = String(cpus);
  const caps = s.cap_add.length || s.cap_drop.length ? { add: s.cap_add.length ? s.cap_add : undefined, drop: s.cap_drop.length ? s.cap_drop : undefined } : undefined;
  const securityContext = omitUndefined({
    readOnlyRootFilesystem: s.read_only || undefined,
    privileged: s.privileged || undefined,
    capabilities: caps ? omitUndefined(caps) : undefined,
    ...userIds(s.user),
  });
  const { mounts: volumeMounts } = mounts(project, s);
  return omitUndefined({
    name: kubeName(s.name),
    image: s.image ?? `${project.name}-${s.name}`,
    command: s.entrypoint?.length ? s.entrypoint : undefined,
    args: s.command?.length ? s.command : undefined,
    workingDir: s.working_dir,
    env: Object.keys(s.environment).length ? Object.entries(s.environment).map(([name, value]) => ({ name, value })) : undefined,
    ports: s.ports.length
      ? s.ports.map((p) =>
          omitUndefined({
            containerPort: p.target,
            protocol: p.protocol.toUpperCase(),
            // tsctr play kube publishes hostPorts: the compose project's published ports stay published.
            hostPort: p.published && /^\d+$/.test(p.published) ? Number(p.published) : undefined,
            hostIP: p.host_ip,
          }),
        )
      : undefined,
    resources: Object.keys(limits).length ? { limits } : undefined,
    livenessProbe: probe(s),
    securityContext: Object.keys(securityContext).length ? securityContext : undefined,
    volumeMounts: volumeMounts.length ? volumeMounts : undefined,
    tty: s.tty || undefined,
    stdin: s.stdin_open || undefined,
  });
}

/** `user: 1000:1000` as runAsUser/runAsGroup; a user name has no Kubernetes equivalent and is left out. */
function userIds(user: string | undefined): Obj {
  const m = user ? /^(\d+)(?::(\d+))?$/.exec(user) : null;
  if (!m) return {};
  return omitUndefined({ runAsUser: Number(m[1]), runAsGroup: m[2] !== undefined ? Number(m[2]) : undefined });
}

function deployment(project: Project, s: Service): Obj {
  const labels = { 'app.kubernetes.io/name': kubeName(s.name), 'app.kubernetes.io/part-of': kubeName(project.name) };
  const { volumes } = mounts(project, s);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: kubeName(s.name), labels },
    spec: {
      replicas: s.scale ?? s.deploy?.replicas ?? 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: omitUndefined({
          containers: [container(project, s)],
          hostname: s.hostname,
          volumes: volumes.length ? volumes : undefined,
          terminationGracePeriodSeconds: s.stop_grace_period !== undefined ? Math.round(s.stop_grace_period / 1000) : undefined,
        }),
      },
    },
  };
}

function service(project: Project, s: Service): Obj | undefined {
  if (!s.ports.length && !s.expose.length) return undefined;
  const labels = { 'app.kubernetes.io/name': kubeName(s.name), 'app.kubernetes.io/part-of': kubeName(project.name) };
  const ports: Obj[] = [];
  const seen = new Set<string>();
  const add = (port: number, target: number, protocol: string) => {
    const key = `${port}/${protocol}`;
    if (seen.has(key)) return;
    seen.add(key);
    ports.push({ name: kubeName(`${port}-${protocol}`), port, targetPort: target, protocol: protocol.toUpperCase() });
  };
  for (const p of s.ports) add(p.published && /^\d+$/.test(p.published) ? Number(p.published) : p.target, p.target, p.protocol);
  for (const e of s.expose) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(e);
    if (!m) continue;
    for (let p = Number(m[1]); p <= Number(m[2] ?? m[1]) && p < Number(m[1]) + 100; p++) add(p, p, m[3] ?? 'tcp');
  }
  // Other services reach it by its compose name, as on the project network.
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: kubeName(s.name), labels }, spec: { selector: labels, ports } };
}

function claim(project: Project, key: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: kubeName(key), labels: { 'app.kubernetes.io/part-of': kubeName(project.name) } },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '100Mi' } } },
  };
}

/** The objects, in the order kubectl applies them well: claims, then per service its Deployment and Service. */
export function kubeObjects(project: Project): Obj[] {
  const out: Obj[] = [];
  const used = new Set<string>();
  for (const s of Object.values(project.services)) for (const v of s.volumes) if (v.type === 'volume' && v.source) used.add(v.source);
  for (const key of Object.keys(project.volumes)) if (used.has(key)) out.push(claim(project, key));
  for (const s of Object.values(project.services)) {
    out.push(deployment(project, s));
    const svc = service(project, s);
    if (svc) out.push(svc);
  }
  return out;
}

export async function kubeYaml(project: Project): Promise<string> {
  const { stringify } = await import('yaml');
  return kubeObjects(project)
    .map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false }))
    .join('---\n');
}
