/** What `tsctr info` reports, gathered section by section. */
type Info = Record<string, unknown>;

/** Each section is gathered on its own: whatever is missing or broken is shown, never fatal. */
function attempt<T>(fn: () => T): T | { error: string } {
  try {
    return fn();
  } catch (e) {
    return { error: (e as Error).message };
  }
}

async function attemptAsync<T>(fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function osRelease(fs: typeof import('node:fs')): { distribution: string; version: string } {
  const fields: Record<string, string> = {};
  for (const f of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
        const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
        if (m) fields[m[1]!] = m[2]!.replace(/^["']|["']$/g, '');
      }
      break;
    } catch {
      /* try the next */
    }
  }
  return { distribution: fields.ID ?? 'unknown', version: fields.VERSION_ID ?? 'unknown' };
}

/** "0 1000 1" → podman's {container_id, host_id, size}. */
function mapEntries(lines: string[]): { container_id: number; host_id: number; size: number }[] {
  return lines.map((l) => {
    const [c, h, s] = l.split(' ').map(Number);
    return { container_id: c!, host_id: h!, size: s! };
  });
}

export async function gather(): Promise<Info> {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const { dataRoot, runRoot, volumePaths } = await import('../paths.js');
  const { cgroupInfo } = await import('../rootless/cgroups.js');
  const { idMaps } = await import('../container/spec.js');
  const { whichOnPath } = await import('../system/checks.js');
  const { VERSION, API_VERSION } = await import('../version.js');
  const { defaultNetwork } = await import('../net/default.js');
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;

  const cg = attempt(cgroupInfo);
  const host: Info = {
    arch,
    os: 'linux',
    kernel: os.release(),
    distribution: attempt(() => osRelease(fs)),
    hostname: os.hostname(),
    cpus: os.availableParallelism(),
    memTotal: os.totalmem(),
    memFree: os.freemem(),
    uptime: `${Math.floor(os.uptime())}s`,
    cgroupVersion: 'error' in cg ? cg : cg.version === 'hybrid' ? 'v1/v2 hybrid' : `v${cg.version}`,
    cgroupDelegated: 'error' in cg ? false : cg.delegated,
    cgroupControllers: 'error' in cg ? [] : cg.controllers,
    rootless: true,
    uid: process.getuid?.() ?? -1,
    idMappings: attempt(() => {
      const m = idMaps();
      return { uidmap: mapEntries(m.uid), gidmap: mapEntries(m.gid) };
    }),
    networkBackend: defaultNetwork(),
    logDriver: 'k8s-file',
    pasta: whichOnPath('pasta') ?? 'not found',
    slirp4netns: whichOnPath('slirp4netns') ?? 'not found',
  };

  const store: Info = { dataRoot: dataRoot(), runRoot: runRoot() };
  // What new containers get; each container keeps the driver it was created with.
  store.graphDriverName = await attemptAsync(async () => (await import('../store/storage-driver.js')).resolveStorageDriver());
  store.imageStore = await attemptAsync(async () => {
    const { loadImages } = await import('../image/store.js');
    const doc = loadImages();
    return { number: Object.keys(doc.images).length, layers: Object.keys(doc.layers).length };
  });
  store.containerStore = await attemptAsync(async () => {
    const { loadContainers } = await import('../container/store.js');
    const { liveState } = await import('../container/state.js');
    const all = Object.values(loadContainers().containers);
    const states = all.map(liveState);
    const running = states.filter((s) => s.status === 'running').length;
    const paused = states.filter((s) => s.paused).length;
    return { number: all.length, running: running - paused, paused, stopped: all.length - running };
  });
  store.volumeStore = await attemptAsync(async () => {
    const { volumeNames } = await import('../container/volumes.js');
    return { number: volumeNames().length, path: volumePaths.dir() };
  });

  const registries = await attemptAsync(async () => {
    const { loadRegistriesConf } = await import('../registry/registries-conf.js');
    const conf = loadRegistriesConf();
    const mirrors: Record<string, string[]> = {};
    for (const r of conf.registries) if (r.mirrors.length) mirrors[r.prefix] = r.mirrors.map((m) => `${m.location}${m.insecure ? ' (insecure)' : ''}`);
    return {
      search: conf.unqualifiedSearch,
      mirrors,
      insecure: conf.registries.filter((r) => r.insecure).map((r) => r.location),
      blocked: conf.registries.filter((r) => r.blocked).map((r) => r.prefix),
      configFiles: conf.sources,
    };
  });

  // The API service (`system service`), when one answers on the default socket.
  const socket = await (await import('./service-socket.js')).liveServiceSocket().catch(() => undefined);
  // Services on TCP (`system service tcp://…`), as they recorded themselves.
  const { liveTcpServices } = await import('./service-tcp.js');
  const tcp = attempt(liveTcpServices);
  const service = { ...(socket ? { socket: `unix://${socket}` } : {}), ...(Array.isArray(tcp) && tcp.length ? { tcp } : {}) };
  return { host, store, registries, ...(Object.keys(service).length ? { service } : {}), version: { Version: VERSION, APIVersion: API_VERSION, NodeVersion: process.version, OsArch: `linux/${arch}` } };
}

/** podman's YAML-like layout: nested keys indented, lists as `- item`. */
export function toYaml(v: unknown, indent = ''): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return ' []\n';
    return '\n' + v.map((item) => (item && typeof item === 'object' ? `${indent}- ${toYaml(item, `${indent}  `).trimStart()}` : `${indent}- ${String(item)}\n`)).join('');
  }
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0) return ' {}\n';
    return (
      '\n' +
      entries
        .map(([k, val]) => (val && typeof val === 'object' ? `${indent}${k}:${toYaml(val, `${indent}  `)}` : `${indent}${k}: ${String(val)}\n`))
        .join('')
    );
  }
  return ` ${String(v)}\n`;
}

/** Templates name fields the Go way ({{.Host.Kernel}}) while JSON keys are camelCase, as in podman. */
export function goView(v: unknown): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return Array.isArray(v) ? v.map(goView) : v;
  return new Proxy(v as Record<string, unknown>, {
    get(target, key) {
      if (typeof key !== 'string') return undefined;
      if (key in target) return goView(target[key]);
      const k = Object.keys(target).find((n) => n.toLowerCase() === key.toLowerCase());
      return k === undefined ? undefined : goView(target[k]);
    },
  });
}

