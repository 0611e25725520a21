/**
 * Container use cases: what the CLI (and compose, an API server) do to existing containers. Typed
 * values in, typed results out; nothing here parses a flag or prints. Creating one is create.ts.
 *
 * Every library is imported inside the use case that needs it (`await import`): the bundle then
 * evaluates only what the command run uses, and `ps` stays as light as it was before this layer.
 */
import type { ExecOptions } from '../container/exec.js';
import type { StartOptions } from '../container/launch.js';
import type { ContainerRow, PsOptions } from '../container/list.js';
import type { LogRecord } from '../container/logs.js';
import type { Pruned } from '../container/prune.js';
import type { ContainerRecord, PortBinding } from '../container/types.js';
import type { SystemdOptions } from '../generate/systemd.js';
import { remote } from './remote.js';

export type { ContainerRecord, ContainerRow, ExecOptions, LogRecord, PortBinding, Pruned, PsOptions, StartOptions, SystemdOptions };

/** The container a name or (a prefix of) an id names; NotFoundError if none. */
export async function getContainer(query: string): Promise<ContainerRecord> {
  const { getContainer: get, loadContainers } = await import('../container/store.js');
  return get(loadContainers(), query);
}

/** As getContainer, but undefined if there is none. */
export async function findContainer(query: string): Promise<ContainerRecord | undefined> {
  const { findContainer: find, loadContainers } = await import('../container/store.js');
  return find(loadContainers(), query);
}

/** The containers of `ps`, newest first, as rows of docker's columns. */
export async function listContainers(o: PsOptions = {}): Promise<ContainerRow[]> {
  const r = await remote();
  if (r) return r.listContainers(o);
  return (await import('../container/list.js')).listContainers(o);
}

/**
 * The names a verb was given, or with `all` (podman's --all) every container: running ones only,
 * unless `stopped` too. Both or neither is bad input.
 */
export async function namesOrAll(names: string[], all: boolean, stopped: boolean): Promise<string[]> {
  const r = await remote();
  if (r) return r.namesOrAll(names, all, stopped);
  return (await import('../container/list.js')).namesOrAll(names, all, stopped);
}

/** The names of the containers `start --all` starts: every one not running that the filters keep. */
export async function startableContainers(filters: string[]): Promise<string[]> {
  const rows = await listContainers({ all: true, filters });
  return rows.filter((r) => r.State !== 'running').map((r) => r.Names);
}

/** Starts a created or stopped container; attached, resolves with its exit code (0 if detached). */
export async function startContainer(query: string, o: StartOptions): Promise<number> {
  const r = await remote();
  if (r) {
    const { TsctrError } = await import('../errors.js');
    if (o.monitorPidFile) throw new TsctrError('--monitor-pidfile is not supported with --url (remote)');
    // docker's start -a forwards the signals we get, as run does
    if (o.attach) return r.startAttachedByName(query, { interactive: o.interactive, sigProxy: true });
    await r.startContainer(query);
    return 0;
  }
  return (await import('../container/launch.js')).startContainer(query, o);
}

/** SIGTERM (or the container's stop signal), then SIGKILL after the timeout (the container's own if undefined). */
export async function stopContainer(query: string, timeoutSec?: number): Promise<void> {
  const r = await remote();
  if (r) return r.stopContainer(query, timeoutSec);
  await (await import('../container/ops.js')).stopContainer(query, timeoutSec);
}

/** Throws on a signal name or number that does not exist: checked before anything is sent. */
export async function checkSignal(signal: string): Promise<void> {
  (await import('../container/signals.js')).signalNumber(signal);
}

export async function killContainer(query: string, signal: string): Promise<void> {
  const r = await remote();
  if (r) return r.killContainer(query, signal);
  await (await import('../container/ops.js')).killContainer(query, signal);
}

export interface RemoveOptions {
  /** Stop a running one first (else it is an error). */
  force: boolean;
  /** Also its anonymous volumes. */
  volumes: boolean;
  /** Seconds between the stop signal and SIGKILL, when forced. */
  stopTimeout: number;
}

export async function removeContainer(query: string, o: RemoveOptions): Promise<void> {
  const r = await remote();
  if (r) return r.removeContainer(query, o);
  await (await import('../container/ops.js')).removeContainer(query, o.force, o.volumes, o.stopTimeout);
}

/** Stop (if running), then start detached. */
export async function restartContainer(query: string, timeoutSec?: number): Promise<void> {
  await stopContainer(query, timeoutSec);
  await startContainer(query, { attach: false, interactive: false });
}

export async function renameContainer(query: string, newName: string): Promise<void> {
  const { TsctrError } = await import('../errors.js');
  const { assertNameFree, getContainer: get, updateContainers, validName } = await import('../container/store.js');
  if (!validName(newName)) throw new TsctrError(`Invalid container name (${newName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  await updateContainers((doc) => {
    const c = get(doc, query);
    if (c.name === newName) throw new TsctrError(`Renaming a container with the same name as its current name`);
    assertNameFree(doc, newName);
    c.name = newName;
  });
}

/** Blocks until the container is not running; its exit code. */
export async function waitContainer(query: string): Promise<number> {
  return (await import('../container/ops.js')).waitContainer(query);
}

export interface LogsOptions {
  /** The last n records only; -1 for all. */
  tail: number;
  /** Epoch milliseconds. */
  since?: number;
  until?: number;
  /** Keep reading until the container stops or is removed. */
  follow: boolean;
}

/**
 * The container's log records, in batches as they are read: first what is there (after tail, since
 * and until), then, following, what it writes until it stops or is removed. The container is looked
 * up before the first batch: a missing one throws at the first `next()`.
 */
export async function* containerLogs(query: string, o: LogsOptions): AsyncGenerator<LogRecord[]> {
  const r = await remote();
  if (r) return yield* r.containerLogs(query, o);
  const { readLogRecords, selectRecords } = await import('../container/logs.js');
  const { liveState } = await import('../container/state.js');
  const { loadContainers } = await import('../container/store.js');
  const c = await getContainer(query);
  let { records, cursor } = readLogRecords(c);
  yield selectRecords(records, { tail: o.tail, since: o.since, until: o.until });
  if (!o.follow) return;
  // Poll: the monitor appends to a file, and a stop is seen through the container's live state.
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const running = liveState(c).status === 'running';
    ({ records, cursor } = readLogRecords(c, cursor));
    const until = o.until;
    yield until === undefined ? records : records.filter((r) => Date.parse(r.time) <= until);
    // The read after the last look at the state still returns what it wrote last.
    if (!running || !loadContainers().containers[c.id]) return;
  }
}

/** A log record as `logs` prints it (with its time first if asked). */
export async function logFormatter(): Promise<(r: LogRecord, timestamps: boolean) => string> {
  return (await import('../container/logs.js')).formatRecord;
}

/** Runs a command in a running container; attached, resolves with its exit code. */
export async function execInContainer(query: string, o: ExecOptions): Promise<number> {
  const r = await remote();
  if (r) return r.exec(query, o);
  return (await import('../container/exec.js')).execInContainer(query, o);
}

/** docker's inspect object of a container. */
export async function inspectContainer(query: string): Promise<Record<string, unknown>> {
  const r = await remote();
  if (r) return r.inspectContainer(query);
  const c = await getContainer(query);
  return (await import('../container/inspect.js')).inspectContainer(c);
}

/** The ports a running container publishes (none if it is not running), optionally only those of one container port. */
export async function containerPorts(query: string, only?: { port: number; protocol: string }): Promise<PortBinding[]> {
  const { liveState } = await import('../container/state.js');
  const c = await getContainer(query);
  const ports = liveState(c).status === 'running' ? (c.ports ?? []) : [];
  return only ? ports.filter((p) => p.containerPort === only.port && p.protocol === only.protocol) : ports;
}

export interface TopResult {
  /** ps's output and error text, and whether it succeeded. */
  stdout: string;
  stderr: string;
  ok: boolean;
}

/** The processes of a running container as the host's `ps` shows them, with ps's own options (default `-f`). */
export async function topContainer(query: string, psArgs: string[]): Promise<TopResult> {
  const { spawnSync } = await import('node:child_process');
  const { ConflictError } = await import('../errors.js');
  const { liveState } = await import('../container/state.js');
  const { containerProcesses } = await import('../container/processes.js');
  const c = await getContainer(query);
  const st = liveState(c);
  if (st.status !== 'running') throw new ConflictError(`container ${c.id.slice(0, 12)} is not running`);
  const pids = containerProcesses(st.pid);
  const r = spawnSync('ps', [...(psArgs.length ? psArgs : ['-f']), '-p', pids.join(',')], { encoding: 'utf8' });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', ok: r.status === 0 };
}

/** docker cp: one of src and dst is CONTAINER:PATH, the other a host path. */
export async function copyFiles(src: string, dst: string): Promise<void> {
  await (await import('../container/copy.js')).copy(src, dst);
}

/** The container's root filesystem as a tar stream (its changes over its image, merged; no mounts). */
export async function exportContainer(query: string): Promise<AsyncIterable<Buffer>> {
  return (await import('../container/export.js')).exportContainer(query);
}

/** Removes every stopped container. */
export async function pruneContainers(): Promise<Pruned> {
  return (await import('../container/prune.js')).pruneContainers();
}

/** After the container exited (the monitor's exit command): removes it if it was run with --rm. */
export async function cleanupContainer(query: string): Promise<void> {
  const c = await findContainer(query);
  if (c?.hostConfig.autoRemove) await removeContainer(c.id, { force: true, volumes: true, stopTimeout: 0 });
}

/** Stops every process of a running container until the returned function is called (commit, pause). */
export async function pauseWhile(query: string): Promise<() => void> {
  const c = await getContainer(query);
  return (await import('../container/pause.js')).pauseContainer(c);
}

/** A systemd user unit that starts, stops and restarts the container, and the file name it wants. */
export async function generateSystemd(query: string, o: SystemdOptions): Promise<{ unit: string; fileName: string }> {
  const { systemdUnit, unitName } = await import('../generate/systemd.js');
  const c = await getContainer(query);
  return { unit: systemdUnit(c, o), fileName: unitName(c) };
}
