/**
 * A scaled service's published ports: one balancer per port (src/net/balancer.ts) owns the host
 * port and spreads connections over the replicas, each of which publishes the port on its own
 * random 127.0.0.1 port. A replica with a health check is in rotation only while healthy. The
 * balancers' directories are RUNROOT/compose/PROJECT/SERVICE@PUBLISHED:TARGET-PROTO.
 */
import fs from 'node:fs';
import path from 'node:path';
import { healthFile, probeCommand } from '../container/health.js';
import { findContainer, loadContainers } from '../container/store.js';
import { balancerAlive, setBackends, startBalancer, stopBalancer, type Backend } from '../net/balancer.js';
import { runRoot } from '../paths.js';
import { ensureDir } from '../util/fsutil.js';
import type { RtProject, RtService } from './project-runtime.js';

const projectDir = (project: string) => path.join(runRoot(), 'compose', project);
/** Named by the service and the binding (published:target-protocol), so `compose port` can find it. */
const balancerDir = (project: string, service: string, published: number, target: number, protocol: string) => path.join(projectDir(project), `${service}@${published}:${target}-${protocol}`);

/** The shim has a balance mode: scaled services with published ports go behind one. */
export function balancerUsable(): boolean {
  return true;
}

function existing(project: string): { dir: string; service: string }[] {
  try {
    return fs.readdirSync(projectDir(project)).map((d) => ({ dir: path.join(projectDir(project), d), service: d.slice(0, d.lastIndexOf('@')) }));
  } catch {
    return [];
  }
}

async function stopDir(dir: string): Promise<void> {
  await stopBalancer(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Brings the service's balancers to these replicas (none: stops them, for a service that is not balanced). */
export async function syncBalancers(p: RtProject, s: RtService, replicaIds: string[]): Promise<void> {
  const wanted = new Set<string>();
  if (replicaIds.length) {
    const doc = loadContainers();
    const replicas = replicaIds.map((id) => findContainer(doc, id)).filter((c) => c !== undefined);
    for (const pt of s.ports) {
      if (pt.published === undefined) continue;
      const dir = balancerDir(p.name, s.name, pt.published, pt.target, pt.protocol);
      wanted.add(dir);
      const backends: Backend[] = [];
      for (const c of replicas) {
        const b = c.ports?.find((x) => x.containerPort === pt.target && x.protocol === pt.protocol);
        if (!b) continue;
        backends.push({ port: b.hostPort, ...(probeCommand(c.config.healthcheck) ? { healthFile: healthFile(c.id) } : {}) });
      }
      // The list first: a balancer started now serves from its first connection.
      ensureDir(dir);
      fs.chmodSync(dir, 0o700);
      setBackends(dir, backends);
      if (!balancerAlive(dir)) await startBalancer({ dir, hostIp: pt.hostIp ?? '', hostPort: pt.published, protocol: pt.protocol });
    }
  }
  for (const e of existing(p.name)) if (e.service === s.name && !wanted.has(e.dir)) await stopDir(e.dir);
}

/** Stops the project's balancers (of the named services, or all): down, stop. */
export async function stopProjectBalancers(project: string, services: string[] = []): Promise<void> {
  for (const e of existing(project)) if (!services.length || services.includes(e.service)) await stopDir(e.dir);
  if (!services.length) fs.rmSync(projectDir(project), { recursive: true, force: true });
}

/** `compose port` of a balanced service: the address its balancer listens on. */
export async function balancedAddress(project: string, service: string, port: number, protocol: string): Promise<string | undefined> {
  for (const e of existing(project)) {
    if (e.service !== service || !path.basename(e.dir).endsWith(`:${port}-${protocol}`) || !balancerAlive(e.dir)) continue;
    const listen = /^listen (\S+) (\d+)(?: (?:tcp|udp))?$/m.exec(fs.readFileSync(path.join(e.dir, 'spec'), 'utf8'));
    if (listen) return `${listen[1]}:${listen[2]}`;
  }
  return undefined;
}
