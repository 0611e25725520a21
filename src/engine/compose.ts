/**
 * The compose use cases: a project (loaded from its files) in, typed results out; progress goes to
 * the callbacks the caller passes. The mechanisms are src/compose/ (convergence, ordering, labels);
 * images are built, pulled and pushed here through the image use cases.
 */
import type { RtProject } from '../compose/project-runtime.js';
import type { Progress, UpOptions } from '../compose/up.js';
import type { DownOptions } from '../compose/down.js';
import type { ProjectContainer } from '../compose/state.js';
import type { ContainerRow, ExecOptions } from './containers.js';

export type { Progress, RtProject, UpOptions, DownOptions, ProjectContainer };

export interface ProjectRef {
  files: string[];
  projectName?: string;
  projectDirectory?: string;
  envFiles?: string[];
  profiles?: string[];
}

export interface Reporter {
  progress: Progress;
  warn: (message: string) => void;
  /** Build and pull output. */
  out: NodeJS.WritableStream;
}

/** The project the files describe (src/compose/load.ts), every warning and unsupported key reported by name. */
export async function loadComposeProject(ref: ProjectRef, warn: (m: string) => void): Promise<RtProject> {
  const { loadProject } = await import('../compose/load.js');
  const { runtimeProject } = await import('../compose/from-model.js');
  const model = await loadProject({
    ...(ref.files.length ? { files: ref.files } : {}),
    ...(ref.envFiles?.length ? { envFiles: ref.envFiles } : {}),
    ...(ref.profiles?.length ? { profiles: ref.profiles } : {}),
    projectName: ref.projectName,
    projectDirectory: ref.projectDirectory,
    cwd: process.cwd(),
    env: process.env,
  });
  const { project, warnings } = runtimeProject(model);
  for (const w of warnings) warn(w);
  if (project.unsupported.length) warn(`the following keys are not supported by tsctr and are ignored: ${project.unsupported.join(', ')}`);
  return project;
}

/** A project known only by name (down/ps/ls without a file): what its containers' labels say. */
export async function projectByName(name: string): Promise<RtProject> {
  return { name, workingDir: '', configFiles: [], services: {}, networks: {}, volumes: {}, unsupported: [] };
}

/** Builds the services that have a build section (all of them, or the named ones). */
export async function buildServices(p: RtProject, services: string[], o: { noCache: boolean; pull: boolean; quiet?: boolean; onlyMissing?: boolean }, r: Reporter): Promise<void> {
  const { serviceImage } = await import('../compose/service-spec.js');
  const { localImage } = await import('../container/create.js');
  const { buildImage } = await import('./images.js');
  const { TsctrError } = await import('../errors.js');
  const { checkBuildPlatform } = await import('../compose/platform.js');
  const path = await import('node:path');
  for (const name of services.length ? services : Object.keys(p.services)) {
    const s = p.services[name];
    if (!s) throw new TsctrError(`no such service: ${name}`);
    if (!s.build) continue;
    checkBuildPlatform(s);
    const tag = serviceImage(p, s);
    if (o.onlyMissing && localImage(tag)) continue;
    r.out.write(`[+] Building ${name}\n`);
    const inline = s.build.dockerfileInline !== undefined ? await inlineDockerfile(s.build.dockerfileInline) : undefined;
    try {
      await buildImage({
        context: s.build.context, dockerfile: inline?.file ?? (s.build.dockerfile ? path.resolve(s.build.context, s.build.dockerfile) : undefined),
        tags: [tag], buildArgs: Object.entries(s.build.args).map(([k, v]) => `${k}=${v}`), noCache: o.noCache, pull: o.pull, target: s.build.target,
        quiet: o.quiet ?? false, labels: [`com.docker.compose.project=${p.name}`, `com.docker.compose.service=${name}`], out: r.out,
      });
    } finally {
      inline?.remove();
    }
  }
}

/** build.dockerfile_inline as a file of its own in the store's tmp (owner-only), outside the context: gone after the build. */
async function inlineDockerfile(text: string): Promise<{ file: string; remove: () => void }> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { storePaths } = await import('../paths.js');
  const base = path.join(storePaths.tmp(), 'compose-dockerfiles');
  fs.mkdirSync(base, { recursive: true, mode: 0o700 });
  const dir = fs.mkdtempSync(path.join(base, 'df-'));
  const file = path.join(dir, 'Dockerfile');
  fs.writeFileSync(file, text, { mode: 0o600 });
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Pulls the images of the services that name one (those with a build only if asked), for the platform a service names. */
export async function pullServices(p: RtProject, services: string[], o: { ignoreBuildable: boolean; quiet: boolean }, r: Reporter): Promise<void> {
  const { pullImage } = await import('./images.js');
  for (const name of services.length ? services : Object.keys(p.services)) {
    const s = p.services[name];
    if (!s?.image || (s.build && o.ignoreBuildable)) continue;
    const platform = s.platform ? (await import('../image/platform.js')).parsePlatform(s.platform) : undefined;
    // An index lists amd64 once, without a level (compose/platform.ts).
    await pullImage(s.image, { quiet: o.quiet, out: r.out, platform: platform?.architecture === 'amd64' ? { os: platform.os, architecture: 'amd64' } : platform });
  }
}

export async function pushServices(p: RtProject, services: string[], o: { quiet: boolean }, r: Reporter): Promise<void> {
  const { pushImage } = await import('./images.js');
  for (const name of services.length ? services : Object.keys(p.services)) {
    const s = p.services[name];
    if (!s?.image || !s.build) continue;
    await pushImage(s.image, undefined, { quiet: o.quiet, out: r.out });
  }
}

export interface ComposeUpOptions extends UpOptions {
  build: boolean;
  noBuild?: boolean;
  /** Until every service is running, and healthy where it has a check. */
  wait: boolean;
}

export async function composeUp(p: RtProject, o: ComposeUpOptions, r: Reporter): Promise<void> {
  const { selectedServices, up, checkServices } = await import('../compose/up.js');
  const services = selectedServices(p, o.services, o.noDeps);
  checkServices(p, services, o.scale);
  if (!o.noBuild) await buildServices(p, services, { noCache: false, pull: false, onlyMissing: !o.build }, r);
  await up(p, o, r.progress, r.warn);
  if (o.wait) {
    const { waitCondition } = await import('../compose/up.js');
    for (const s of services) {
      const hc = p.services[s]!.healthcheck;
      await waitCondition(p, s, hc && !hc.disable && hc.test !== undefined ? 'service_healthy' : 'service_started', r.progress);
    }
  }
}

export async function composeDown(p: RtProject, o: DownOptions & { rmi?: 'local' | 'all' }, r: Reporter): Promise<void> {
  const { down } = await import('../compose/down.js');
  await down(p, o, r.progress, r.warn);
  if (o.rmi) {
    const { serviceImage } = await import('../compose/service-spec.js');
    const { localImage } = await import('../container/create.js');
    const { removeImage } = await import('./images.js');
    for (const s of Object.values(p.services)) {
      // local: only the images the project built under its own name.
      if (o.rmi === 'local' && s.image) continue;
      const img = serviceImage(p, s);
      if (!localImage(img)) continue;
      await removeImage(img, false).then(() => r.progress('Image', img, 'Removed'), (e: unknown) => r.warn(String((e as Error).message)));
    }
  }
}

/** The project's containers (one-off ones too), as the store and their labels say. */
export async function composeContainers(project: string, oneoff = false): Promise<ProjectContainer[]> {
  return (await import('../compose/state.js')).projectContainers(project, { oneoff });
}

export interface ComposePsRow extends ContainerRow {
  Service: string;
  Project: string;
}

export async function composePs(p: RtProject, o: { all: boolean; services: string[] }): Promise<ComposePsRow[]> {
  const { listContainers } = await import('./containers.js');
  const mine = await composeContainers(p.name);
  const byId = new Map(mine.map((c) => [c.record.id.slice(0, 12), c]));
  const rows = await listContainers({ all: o.all, filters: [`label=com.docker.compose.project=${p.name}`] });
  return rows
    .filter((row) => byId.has(row.ID) && (!o.services.length || o.services.includes(byId.get(row.ID)!.service)))
    .map((row) => ({ ...row, Service: byId.get(row.ID)!.service, Project: p.name }))
    .sort((a, b) => (a.Names < b.Names ? -1 : 1));
}

export interface ProjectRow {
  Name: string;
  Status: string;
  ConfigFiles: string;
}

/** `compose ls`: every project with containers, from their labels. */
export async function composeLs(all: boolean): Promise<ProjectRow[]> {
  const { allProjects } = await import('../compose/state.js');
  const { liveState } = await import('../container/state.js');
  const out: ProjectRow[] = [];
  for (const [name, cs] of [...allProjects()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const counts = new Map<string, number>();
    for (const c of cs) {
      const st = liveState(c).status;
      counts.set(st, (counts.get(st) ?? 0) + 1);
    }
    if (!all && !counts.get('running')) continue;
    out.push({ Name: name, Status: [...counts].map(([s, n]) => `${s}(${n})`).join(', '), ConfigFiles: cs[0]!.config.labels['com.docker.compose.project.config_files'] ?? '' });
  }
  return out;
}

/** The container of a service's replica `index` (1 by default); an error naming the service if none runs. */
export async function serviceContainer(p: RtProject, service: string, index = 1): Promise<ProjectContainer> {
  const { TsctrError } = await import('../errors.js');
  if (Object.keys(p.services).length && !p.services[service]) throw new TsctrError(`no such service: ${service}`);
  const c = (await composeContainers(p.name)).find((c) => c.service === service && c.number === index);
  if (!c) throw new TsctrError(`service "${service}" is not running`);
  return c;
}

export async function composeExec(p: RtProject, service: string, index: number, o: ExecOptions): Promise<number> {
  const c = await serviceContainer(p, service, index);
  return (await import('./containers.js')).execInContainer(c.record.id, o);
}

export interface ComposeRunOptions {
  service: string;
  command: string[];
  entrypoint?: string[];
  env: string[];
  rm: boolean;
  noDeps: boolean;
  detach: boolean;
  interactive: boolean;
  tty: boolean;
  name?: string;
  servicePorts: boolean;
}

/** `compose run`: a one-off container of the service (its dependencies up first), attached unless detached. */
export async function composeRun(p: RtProject, o: ComposeRunOptions, r: Reporter): Promise<number> {
  const { TsctrError } = await import('../errors.js');
  const s = p.services[o.service];
  if (!s) throw new TsctrError(`no such service: ${o.service}`);
  const { up, ensureResources, waitCondition, checkServices } = await import('../compose/up.js');
  checkServices(p, [o.service], { [o.service]: 1 });
  if (!o.noDeps && Object.keys(s.dependsOn).length) {
    await buildServices(p, Object.keys(s.dependsOn), { noCache: false, pull: false, onlyMissing: true }, r);
    await up(p, { services: Object.keys(s.dependsOn), forceRecreate: false, noRecreate: true, removeOrphans: false, scale: {} }, r.progress, r.warn);
    for (const [dep, cond] of Object.entries(s.dependsOn)) await waitCondition(p, dep, cond, r.progress);
  }
  await buildServices(p, [o.service], { noCache: false, pull: false, onlyMissing: true }, r);
  await ensureResources(p, [o.service], r.progress);
  const { replicaSpec } = await import('../compose/service-spec.js');
  const { materialiseFiles } = await import('../compose/inline-files.js');
  const { serviceImageRecord } = await import('../compose/platform.js');
  const { readImageConfig } = await import('../image/store.js');
  const { processHost } = await import('../container/options.js');
  const { randomBytes } = await import('node:crypto');
  const image = await serviceImageRecord(p, s);
  const name = o.name ?? `${p.name}-${o.service}-run-${randomBytes(6).toString('hex')}`;
  const spec = replicaSpec(p, materialiseFiles(p.name, s), { number: 1, oneoff: { name, command: o.command.length ? o.command : undefined, entrypoint: o.entrypoint, env: o.env, rm: o.rm, servicePorts: o.servicePorts } }, readImageConfig(image).config ?? {}, { ...processHost(), cwd: p.workingDir });
  spec.tty = o.tty;
  spec.openStdin = o.interactive;
  const { createContainer } = await import('./create.js');
  const rec = await createContainer(spec, image);
  const { startContainer, removeContainer } = await import('./containers.js');
  let running = false;
  try {
    const code = await startContainer(rec.id, { attach: !o.detach, interactive: o.interactive, created: { record: rec, image } });
    running = o.detach;
    if (o.detach) r.out.write(`${rec.name}\n`);
    return code;
  } finally {
    if (o.rm && !running) await removeContainer(rec.id, { force: true, volumes: true, stopTimeout: 0 }).catch(() => undefined);
  }
}

export async function composeStop(p: RtProject, services: string[], r: Reporter, timeout?: number): Promise<void> {
  await (await import('../compose/down.js')).stopServices(p, services, r.progress, timeout);
}

export async function composeStart(p: RtProject, services: string[], r: Reporter): Promise<void> {
  await (await import('../compose/down.js')).startServices(p, services, r.progress);
}

export async function composeRestart(p: RtProject, services: string[], r: Reporter, timeout?: number): Promise<void> {
  const d = await import('../compose/down.js');
  await d.stopServices(p, services, r.progress, timeout);
  await d.startServices(p, services, r.progress);
}

export async function composeKill(p: RtProject, services: string[], signal: string, r: Reporter): Promise<void> {
  await (await import('./containers.js')).checkSignal(signal);
  await (await import('../compose/down.js')).killServices(p, services, signal, r.progress);
}

export async function composeRm(p: RtProject, services: string[], o: { stop: boolean; volumes: boolean }, r: Reporter): Promise<void> {
  await (await import('../compose/down.js')).removeServices(p, services, o, r.progress);
}

/** The running containers of the named services (all), in name order: for logs, top, images. */
export async function selectContainers(p: RtProject, services: string[], all = true): Promise<ProjectContainer[]> {
  const { TsctrError } = await import('../errors.js');
  if (Object.keys(p.services).length) for (const s of services) if (!p.services[s]) throw new TsctrError(`no such service: ${s}`);
  return (await composeContainers(p.name)).filter((c) => (!services.length || services.includes(c.service)) && (all || c.running));
}

export interface ComposeImageRow {
  Container: string;
  Repository: string;
  Tag: string;
  ID: string;
  Size: string;
}

/** `compose images`: each container's image, as `images` shows it. */
export async function composeImages(p: RtProject, services: string[]): Promise<ComposeImageRow[]> {
  const { listImages } = await import('./images.js');
  const rows = await listImages({ all: true, noTrunc: true });
  const out: ComposeImageRow[] = [];
  for (const c of await selectContainers(p, services)) {
    const id = c.record.imageId.replace(/^sha256:/, '');
    const row = rows.find((r) => r.ID.replace(/^sha256:/, '') === id);
    const [repo, tag] = c.record.config.image.includes(':') ? c.record.config.image.split(/:(?=[^:/]+$)/) : [c.record.config.image, 'latest'];
    out.push({ Container: c.record.name, Repository: row?.Repository ?? repo ?? '', Tag: row?.Tag ?? tag ?? '', ID: id.slice(0, 12), Size: row?.Size ?? '' });
  }
  return out;
}

/** The host address a balanced (scaled) service publishes a port on; undefined when it has no balancer for it. */
export async function servicePublished(p: RtProject, service: string, port: number, protocol: string): Promise<string | undefined> {
  return (await import('../compose/balance.js')).balancedAddress(p.name, service, port, protocol);
}
