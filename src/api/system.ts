/** `_ping`, `version`, `info`, `auth`: what a client asks before anything else. */
import os from 'node:os';
import { API_VERSION, VERSION } from '../version.js';
import { MIN_API_VERSION } from './router.js';
import type { Route } from './router.js';
import { type Ctx, readJsonObject, sendJson } from './http.js';
import { badRequest } from './errors.js';

const arch = () => (process.arch === 'x64' ? 'amd64' : process.arch);

function ping(ctx: Ctx): void {
  const headers = {
    'Api-Version': API_VERSION,
    'Docker-Experimental': 'false',
    OSType: 'linux',
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    Pragma: 'no-cache',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': 2,
  };
  ctx.res.writeHead(200, headers);
  ctx.res.end(ctx.method === 'HEAD' ? undefined : 'OK');
}

function version(ctx: Ctx): void {
  const v = {
    Platform: { Name: 'tsctr' },
    Components: [{ Name: 'Engine', Version: VERSION, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: arch() } }],
    Version: VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: process.version,
    Os: 'linux',
    Arch: arch(),
    KernelVersion: os.release(),
    BuildTime: '',
  };
  sendJson(ctx, 200, v);
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !('error' in v) ? (v as Obj) : {});

/** docker's /info from tsctr's info (podman's keys): the fields docker info and compose read. */
async function info(ctx: Ctx): Promise<void> {
  const { systemInfo } = await import('../engine/system.js');
  const i = await systemInfo();
  const host = obj(i.host);
  const store = obj(i.store);
  const cs = obj(store.containerStore);
  const is = obj(store.imageStore);
  const reg = obj(i.registries);
  const dist = obj(host.distribution);
  const cgv = String(host.cgroupVersion ?? '');
  sendJson(ctx, 200, {
    ID: `tsctr:${os.hostname()}`,
    Containers: cs.number ?? 0,
    ContainersRunning: cs.running ?? 0,
    ContainersPaused: cs.paused ?? 0,
    ContainersStopped: cs.stopped ?? 0,
    Images: is.number ?? 0,
    Driver: typeof store.graphDriverName === 'string' ? store.graphDriverName : 'overlay',
    DriverStatus: [],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['k8s-file'] },
    MemoryLimit: true,
    SwapLimit: true,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    Debug: false,
    NFd: 0,
    OomKillDisable: false,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: 'k8s-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: cgv.replace(/^v/, '').replace(/\/.*/, '') || '2',
    NEventsListener: 0,
    KernelVersion: os.release(),
    OperatingSystem: `${dist.distribution ?? 'linux'} ${dist.version ?? ''}`.trim(),
    OSVersion: String(dist.version ?? ''),
    OSType: 'linux',
    Architecture: os.machine(),
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: { InsecureRegistryCIDRs: [], IndexConfigs: {}, Mirrors: [] },
    NCPU: os.availableParallelism(),
    MemTotal: os.totalmem(),
    GenericResources: null,
    DockerRootDir: store.dataRoot ?? '',
    HttpProxy: process.env.HTTP_PROXY ?? process.env.http_proxy ?? '',
    HttpsProxy: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '',
    NoProxy: process.env.NO_PROXY ?? process.env.no_proxy ?? '',
    Name: os.hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: VERSION,
    Runtimes: { 'tsctr-shim': { path: 'tsctr-shim' } },
    DefaultRuntime: 'tsctr-shim',
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: 'tsctr-shim',
    ContainerdCommit: { ID: '', Expected: '' },
    RuncCommit: { ID: '', Expected: '' },
    InitCommit: { ID: '', Expected: '' },
    SecurityOptions: ['name=seccomp,profile=default', 'name=rootless', ...(cgv.startsWith('v2') ? ['name=cgroupns'] : [])],
    Warnings: [],
    // tsctr's own view, for clients that want it.
    Tsctr: { registries: reg },
  });
}

/** `docker login` through the socket: the credentials are checked against the registry and stored like `tsctr login`. */
async function auth(ctx: Ctx): Promise<void> {
  const b = await readJsonObject(ctx);
  const username = typeof b.username === 'string' ? b.username : '';
  const password = typeof b.password === 'string' ? b.password : '';
  const server = typeof b.serveraddress === 'string' && b.serveraddress ? b.serveraddress : 'docker.io';
  if (!username || !password) throw badRequest('username and password are required');
  const { login } = await import('../engine/registry.js');
  await login(server.replace(/^https?:\/\//, '').replace(/\/v1\/?$/, '').replace(/\/$/, ''), { username, password });
  sendJson(ctx, 200, { Status: 'Login Succeeded', IdentityToken: '' });
}

/** `docker system df`: docker's shape over `tsctr system df`'s numbers. */
async function df(ctx: Ctx): Promise<void> {
  const { diskUsage } = await import('../engine/system.js');
  const u = await diskUsage();
  const unix = (iso: string) => Math.floor(Date.parse(iso) / 1000) || 0;
  sendJson(ctx, 200, {
    LayersSize: u.images.reduce((n, i) => n + i.unique, 0) + u.images.reduce((n, i) => Math.max(n, i.shared), 0),
    Images: u.images.map((i) => ({
      Id: i.id, ParentId: '', RepoTags: i.tags.length ? i.tags.map((t) => `${t.repository}:${t.tag}`) : ['<none>:<none>'], RepoDigests: [],
      Created: unix(i.created), Size: i.size, SharedSize: i.shared, VirtualSize: i.size, Labels: {}, Containers: i.containers,
    })),
    Containers: u.containers.map((c) => ({
      Id: c.id, Names: [`/${c.name}`], Image: c.image, ImageID: '', Command: c.command, Created: unix(c.created),
      State: c.running ? 'running' : 'exited', Status: c.running ? 'Up' : 'Exited', SizeRw: c.size, SizeRootFs: c.size, Labels: {}, Mounts: [],
    })),
    Volumes: u.volumes.map((v) => ({ Name: v.name, Driver: 'local', Mountpoint: '', CreatedAt: '', Labels: {}, Scope: 'local', Options: {}, UsageData: { Size: v.size, RefCount: v.links } })),
    BuildCache: [],
  });
}

export const SYSTEM_ROUTES: Route[] = [
  { method: 'GET', pattern: '/system/df', handle: df },
  { method: 'GET', pattern: '/_ping', handle: ping },
  { method: 'HEAD', pattern: '/_ping', handle: ping },
  { method: 'GET', pattern: '/version', handle: version },
  { method: 'GET', pattern: '/info', handle: info },
  { method: 'POST', pattern: '/auth', handle: auth },
];
