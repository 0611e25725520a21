/**
 * Starting a container: write the shim spec and start tsctr-shim, which creates the namespaces,
 * mounts and process, and stays behind as the container's small monitor. Detached, the CLI returns
 * as soon as the shim reports the process running; attached, it waits for the container's exit code.
 */
import fs from 'node:fs';
import { ReportedError, TsctrError } from '../errors.js';
import { containerPaths } from '../paths.js';
import { getImage, loadImages } from '../image/store.js';
import { selfCommand } from '../rootless/userns.js';
import { shimPath } from '../runtime/shim-path.js';
import { ensureDir, atomicWriteFile } from '../util/fsutil.js';
import { readPidFile } from '../util/proc.js';
import { buildRunSpec, encodeSpec, idMaps, type Spec } from './spec.js';
import { netRequest } from './net-request.js';
import { liveState } from './state.js';
import { getContainer, loadContainers, updateContainers } from './store.js';
import { prepareCgroup, removeCgroup } from '../rootless/cgroups.js';
import { planNetwork, type NetworkPlan } from '../net/setup.js';
import type { ContainerRecord } from './types.js';
import type { ImageRecord } from '../image/types.js';

export interface StartOptions {
  attach: boolean;
  interactive: boolean;
  /** Attached, but the container's stdout is dropped (build -q). */
  quiet?: boolean;
  /** Detached: where to write the monitor's pid (a systemd unit's PIDFile). */
  monitorPidFile?: string;
  /** Attached to these streams only (run -a); absent: all. */
  streams?: ('stdin' | 'stdout' | 'stderr')[];
  /** The container just created and its image (run): not read back from the stores. */
  created?: { record: ContainerRecord; image: ImageRecord };
  /**
   * Attached through pipes instead of our stdio (the API server's attach, a build's RUN whose output
   * goes elsewhere): handed the monitor once spawned; `started` once the container runs.
   */
  pipes?: { spawned(child: import('node:child_process').ChildProcess): void; started?(): void };
}

/**
 * The command the monitor runs after a detached --rm container exits. Attached runs need none: the
 * CLI is still there and removes the container itself, without starting another process.
 */
/**
 * --rm: the monitor removes the container after its last exit. Attached, the CLI does it, and the
 * monitor only if the CLI is gone by then (killed: its record must not stay behind).
 */
function exitCommand(c: ContainerRecord): Spec {
  if (!c.hostConfig.autoRemove) return [];
  const argv = [...selfCommand(), 'container', 'cleanup', c.id];
  return argv.map((a) => ['exit-command', a]);
}

interface ShimResult {
  ok: boolean;
  code: number;
  message: string;
  pid: number;
}

function parseSync(line: string): ShimResult {
  const ok = /^ok (\d+)/.exec(line);
  if (ok) return { ok: true, code: 0, message: '', pid: Number(ok[1]) };
  const err = /^error (\d+) (.*)$/s.exec(line.trim());
  if (err) return { ok: false, code: Number(err[1]), message: err[2]!, pid: 0 };
  return { ok: false, code: 125, message: `container monitor failed to start${line ? `: ${line.trim()}` : ''}`, pid: 0 };
}

export async function startContainer(query: string, opts: StartOptions): Promise<number> {
  const c = opts.created?.record ?? getContainer(loadContainers(), query);
  if (!opts.created && liveState(c).status === 'running') {
    if (opts.attach) throw new TsctrError(`container ${c.name} is already running`);
    return 0;
  }
  const image = opts.created?.image ?? getImage(loadImages(), c.imageId);
  const cgroup = prepareCgroup(c.id, c.hostConfig);
  try {
    return await launch(query, c, image, cgroup, opts);
  } catch (e) {
    // Never started: its cgroup goes (the monitor removes it after a container's last exit).
    if (cgroup) removeCgroup(cgroup);
    throw e;
  }
}

async function launch(query: string, c: ContainerRecord, image: ImageRecord, cgroup: string | undefined, opts: StartOptions): Promise<number> {
  ensureDir(containerPaths.run(c.id));
  ensureDir(containerPaths.rootfs(c.id));
  for (const f of [containerPaths.pid(c.id), containerPaths.exit(c.id), containerPaths.monitorPid(c.id), containerPaths.helpers(c.id)]) fs.rmSync(f, { force: true });

  const net = await planNetwork(netRequest(c), {
    runningPid: (name) => {
      const other = getContainer(loadContainers(), name);
      const st = liveState(other);
      if (st.status !== 'running') throw new TsctrError(`cannot join the network of container ${name}: it is not running`);
      return st.pid;
    },
    idMaps,
    userNetworkPeers: () =>
      Object.values(loadContainers().containers)
        .filter((o) => o.id !== c.id && o.endpoints?.length)
        .flatMap((o) => {
          const st = liveState(o);
          return st.status === 'running' ? [{ pid: st.pid, req: netRequest(o) }] : [];
        }),
  });
  try {
    return await launchPlanned(query, c, image, cgroup, opts, net);
  } finally {
    net.release?.();
  }
}

async function launchPlanned(query: string, c: ContainerRecord, image: ImageRecord, cgroup: string | undefined, opts: StartOptions, net: NetworkPlan): Promise<number> {
  const spec: Spec = [
    ...buildRunSpec(c, image, net.spec),
    ...(cgroup ? [['cgroup', cgroup] as [string, string]] : []),
    ['attach', opts.attach ? '1' : '0'],
    // Detached, a container with -i keeps its stdin open for `attach` (docker's `start` of a
    // `create -i` one too), through the monitor's socket.
    ['stdin', opts.interactive || (!opts.attach && c.config.openStdin) ? '1' : '0'],
    // A tty's size is set through it too, attached or not (`resize` of the API, `attach`'s SIGWINCH).
    ...((!opts.attach && (opts.interactive || c.config.openStdin)) || c.config.tty ? [['attach-socket', containerPaths.attachSock(c.id)] as [string, string]] : []),
    ...(opts.attach && opts.streams ? [['attach-streams', opts.streams.join(',')] as [string, string]] : []),
    ...(c.config.tty && c.hostConfig.consoleSize ? [['winsize', `${c.hostConfig.consoleSize.rows} ${c.hostConfig.consoleSize.cols}`] as [string, string]] : []),
    ...exitCommand(c),
    ...(c.config.healthcheck ? await (await import('./health.js')).healthSpec(c, image) : []),
  ];
  atomicWriteFile(containerPaths.spec(c.id), encodeSpec(spec), 0o600, false);
  const recordStart = () =>
    updateContainers((doc) => {
      const rec = doc.containers[c.id];
      if (!rec) throw new TsctrError(`No such container: ${query}`);
      rec.startedAt = new Date().toISOString();
      rec.ports = net.ports;
      rec.stoppedByUser = false;
    });

  if (!opts.attach) {
    // The shim forks the monitor off and exits once the container has started (or failed to);
    // the record is updated while it works.
    const { spawnWithFd3 } = await import('../rootless/syscalls.js');
    let shim: ReturnType<typeof spawnWithFd3>;
    try {
      shim = spawnWithFd3(shimPath(), ['run', containerPaths.spec(c.id)], process.env);
    } catch (e) {
      throw new TsctrError(`cannot start the container monitor ${shimPath()}: ${(e as Error).message}`);
    }
    const failed = await recordStart().then(() => undefined, (e: unknown) => ({ e }));
    const r = parseSync(shim.wait().output);
    if (failed) {
      // Removed meanwhile: what started must not outlive its record.
      if (r.ok) process.kill(r.pid, 'SIGKILL');
      throw failed.e;
    }
    if (!r.ok) throw new TsctrError(r.message, r.code);
    // systemd's PIDFile= takes the pid alone, not the start time beside it.
    if (opts.monitorPidFile) atomicWriteFile(opts.monitorPidFile, `${readPidFile(containerPaths.monitorPid(c.id))?.pid ?? ''}\n`, 0o644, false);
    return 0;
  }

  await recordStart();

  const { spawn } = await import('node:child_process');
  const child = spawn(shimPath(), ['run', containerPaths.spec(c.id)], {
    stdio: opts.pipes ? ['pipe', 'pipe', 'pipe', 'pipe'] : [opts.quiet ? 'ignore' : 'inherit', opts.quiet ? 'ignore' : 'inherit', 'inherit', 'pipe'],
  });
  opts.pipes?.spawned(child);
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once('error', (e) => reject(new TsctrError(`cannot start the container monitor ${shimPath()}: ${e.message}`))),
  );
  const sync = child.stdio[3] as NodeJS.ReadableStream;
  let line = '';
  sync.on('data', (d: Buffer) => (line += d.toString()));
  const synced = new Promise<void>((resolve) => sync.on('end', resolve));
  // Attached: the shim forwards signals to the container; the CLI just waits for it.
  // (A server holding the monitor's pipes has its own signal handling and many of them.)
  const ignore = () => undefined;
  if (!opts.pipes) for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.on(s, ignore);
  const exited = new Promise<number>((resolve) => child.on(opts.pipes ? 'close' : 'exit', (code: number | null, sig: string | null) => resolve(code ?? (sig ? 128 + 9 : 125))));
  await Promise.race([synced, spawnFailed]);
  if (parseSync(line).ok) opts.pipes?.started?.();
  const code = await exited;
  await synced;
  // A start that failed was already explained by the shim on stderr.
  if (!parseSync(line).ok) throw new ReportedError(code || 125);
  return code;
}
