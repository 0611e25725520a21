/** docker's container inspect document. */
import { containerPaths, volumePaths } from '../paths.js';
import { networkMode } from '../net/default.js';
import { hostPortText } from '../net/ports.js';
import { modeFor } from '../net/modes/index.js';
import { netRequest } from './net-request.js';
import { liveState } from './state.js';
import { probeCommand, readHealth, type HealthState } from './health.js';
import { hostConfigView } from './run-flags.js';
import type { ContainerRecord, PortBinding } from './types.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

function portMap(bindings: PortBinding[], exposed: string[]): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const e of exposed) out[e.includes('/') ? e : `${e}/tcp`] = null;
  for (const b of bindings) {
    const key = `${b.containerPort}/${b.protocol}`;
    (out[key] ??= []).push({ HostIp: b.hostIp || '0.0.0.0', HostPort: hostPortText(b) });
  }
  return out;
}

/** docker shows State.Health for a container with a check, from its first start on. */
function healthOf(c: ContainerRecord): { Health?: HealthState } {
  if (!c.startedAt || !probeCommand(c.config.healthcheck)) return {};
  return { Health: readHealth(c) ?? { Status: 'starting', FailingStreak: 0, Log: [] } };
}

export function inspectContainer(c: ContainerRecord): Record<string, unknown> {
  const st = liveState(c);
  const running = st.status === 'running';
  return {
    Id: c.id,
    Created: c.created,
    Path: c.path,
    Args: c.args,
    State: {
      Status: st.paused ? 'paused' : st.status,
      Running: running,
      Paused: st.paused === true,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: running ? st.pid : 0,
      ExitCode: st.exitCode,
      Error: '',
      StartedAt: st.startedAt || ZERO_TIME,
      FinishedAt: st.finishedAt || ZERO_TIME,
      ...healthOf(c),
    },
    Image: c.imageId,
    ResolvConfPath: containerPaths.etc(c.id, 'resolv.conf'),
    HostnamePath: containerPaths.etc(c.id, 'hostname'),
    HostsPath: containerPaths.etc(c.id, 'hosts'),
    LogPath: containerPaths.log(c.id),
    Name: `/${c.name}`,
    RestartCount: st.restarts,
    Driver: c.storage,
    Platform: 'linux',
    HostConfig: {
      Binds: c.hostConfig.mounts.filter((m) => m.type !== 'tmpfs').map((m) => `${m.source}:${m.destination}${m.readOnly ? ':ro' : ''}`),
      NetworkMode: networkMode(c.hostConfig.network),
      PortBindings: portMap(c.hostConfig.portBindings, []),
      RestartPolicy: { Name: c.hostConfig.restart.name, MaximumRetryCount: c.hostConfig.restart.maxRetries },
      AutoRemove: c.hostConfig.autoRemove,
      ReadonlyRootfs: c.hostConfig.readOnly,
      Init: c.hostConfig.init,
      Memory: c.hostConfig.memory,
      NanoCpus: c.hostConfig.nanoCpus,
      PidsLimit: c.hostConfig.pidsLimit || null,
      Ulimits: c.hostConfig.ulimits.map((u) => ({ Name: u.name.replace(/^RLIMIT_/, '').toLowerCase(), Soft: u.soft, Hard: u.hard })),
      CapAdd: c.hostConfig.capAdd,
      CapDrop: c.hostConfig.capDrop,
      SecurityOpt: c.hostConfig.securityOpt?.length ? c.hostConfig.securityOpt : null,
      LogConfig: { Type: c.hostConfig.logConfig?.type ?? 'k8s-file', Config: c.hostConfig.logConfig?.config ?? {} },
      Tmpfs: Object.fromEntries(c.hostConfig.mounts.filter((m) => m.type === 'tmpfs').map((m) => [m.destination, m.options ?? ''])),
      ...hostConfigView(c.hostConfig),
    },
    GraphDriver: { Name: c.storage, Data: { UpperDir: containerPaths.upper(c.id), WorkDir: containerPaths.work(c.id), MergedDir: containerPaths.rootfs(c.id) } },
    Mounts: c.hostConfig.mounts
      .filter((m) => m.type !== 'tmpfs')
      .map((m) => ({
        Type: m.type,
        ...(m.type === 'volume' ? { Name: m.source } : {}),
        Source: m.type === 'volume' ? volumePaths.data(m.source) : m.source,
        Destination: m.destination,
        Mode: m.readOnly ? 'ro' : '',
        RW: !m.readOnly,
        Propagation: 'rprivate',
      })),
    Config: {
      Hostname: c.config.hostname,
      Domainname: '',
      User: c.config.user,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      ExposedPorts: c.config.exposedPorts.length ? Object.fromEntries(c.config.exposedPorts.map((p) => [p, {}])) : undefined,
      Tty: c.config.tty,
      OpenStdin: c.config.openStdin,
      StdinOnce: false,
      Env: c.config.env,
      Cmd: c.config.cmd,
      Image: c.config.image,
      Volumes: null,
      WorkingDir: c.config.workingDir,
      Entrypoint: c.config.entrypoint,
      OnBuild: null,
      Labels: c.config.labels,
      StopSignal: c.config.stopSignal,
      StopTimeout: c.config.stopTimeout,
      // podman's: the command line it was created with (after the verb), when one made it.
      ...(c.createCommand ? { CreateCommand: c.createCommand } : {}),
      ...(c.config.healthcheck ? { Healthcheck: c.config.healthcheck } : {}),
    },
    NetworkSettings: networkSettings(c, running),
  };
}

/** Ports as bound at the last start; Networks as the container's mode describes them. */
function networkSettings(c: ContainerRecord, running: boolean): Record<string, unknown> {
  const req = netRequest(c);
  let networks: Record<string, unknown> = {};
  try {
    networks = modeFor(req).settings(req);
  } catch {
    /* a mode this tsctr does not know (set via $TSCTR_NETWORK): nothing to describe */
  }
  return { Ports: running ? portMap(c.ports ?? [], c.config.exposedPorts) : {}, Networks: networks };
}
