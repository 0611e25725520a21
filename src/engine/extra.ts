/**
 * The use cases of the verbs docker and podman have beyond the basic ones: pause/unpause, stats,
 * diff, attach, health checks, the exists checks and --replace. As the other engine modules: typed
 * values in, typed results out, nothing parsed or printed here, every library imported lazily.
 */
import type { AttachOptions } from '../container/attach.js';
import type { Change } from '../container/diff.js';
import type { HealthState } from '../container/health.js';
import type { Sample, StatsRow } from '../container/stats.js';

export type { Change, HealthState, Sample, StatsRow };

/** SIGSTOP of every process of the container, shown as paused until unpauseContainer. */
export async function pauseContainer(query: string): Promise<void> {
  const [{ getContainer, loadContainers }, { pauseForGood }] = await Promise.all([import('../container/store.js'), import('../container/pause.js')]);
  pauseForGood(getContainer(loadContainers(), query));
}

export async function unpauseContainer(query: string): Promise<void> {
  const [{ getContainer, loadContainers }, { unpause }] = await Promise.all([import('../container/store.js'), import('../container/pause.js')]);
  unpause(getContainer(loadContainers(), query));
}

export async function containerExists(query: string): Promise<boolean> {
  const { findContainer, loadContainers } = await import('../container/store.js');
  return findContainer(loadContainers(), query) !== undefined;
}

export async function imageExists(ref: string): Promise<boolean> {
  const { findImage, loadImages } = await import('../image/store.js');
  try {
    return findImage(loadImages(), ref) !== undefined;
  } catch {
    return false; // not even a valid reference: no such image
  }
}

export async function volumeExists(name: string): Promise<boolean> {
  return (await import('../container/volumes.js')).volumeNames().includes(name);
}

/** podman's --replace: the container of exactly that name, if any, is stopped and removed. */
export async function replaceContainer(name: string): Promise<void> {
  const { findContainer, loadContainers } = await import('../container/store.js');
  const old = findContainer(loadContainers(), name);
  if (old && old.name === name) await (await import('../container/ops.js')).removeContainer(old.id, true);
}

export interface StatsOptions {
  /** Named containers (each must exist); none: the running ones, or all with `all`. */
  names: string[];
  all: boolean;
  noTrunc: boolean;
}

/**
 * Readings of the containers' usage, one batch per `intervalMs` (the first after half a second:
 * CPU % needs two samples), until the caller stops asking.
 */
export async function* containerStats(o: StatsOptions, intervalMs = 1000): AsyncGenerator<StatsRow[]> {
  const [{ getContainer, loadContainers }, { liveState }, { sample, statsRow }] = await Promise.all([
    import('../container/store.js'),
    import('../container/state.js'),
    import('../container/stats.js'),
  ]);
  const doc = loadContainers();
  const chosen = o.names.length ? o.names.map((n) => getContainer(doc, n)) : Object.values(doc.containers).filter((c) => o.all || liveState(c).status === 'running');
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let before = chosen.map((c) => sample(c));
  await sleep(500);
  for (;;) {
    const now = chosen.map((c) => sample(c));
    yield chosen.map((c, i) => statsRow(c, before[i], now[i], o.noTrunc));
    before = now;
    await sleep(intervalMs);
  }
}

/** One raw reading of a container's usage (the API's stats JSON): undefined sample when not running. */
export interface Usage {
  id: string;
  name: string;
  sample?: Sample;
  memoryLimit: number;
}

export async function containerUsage(query: string): Promise<Usage> {
  const [{ getContainer, loadContainers }, { memoryLimit, sample }] = await Promise.all([import('../container/store.js'), import('../container/stats.js')]);
  const c = getContainer(loadContainers(), query);
  return { id: c.id, name: c.name, sample: sample(c), memoryLimit: memoryLimit(c) };
}

export async function statsHeaders(): Promise<Record<string, string>> {
  return (await import('../container/stats.js')).STATS_HEADERS;
}

/** What the container changed in its filesystem (read as root in the user namespace: see diff.ts). */
export async function containerChanges(query: string): Promise<Change[]> {
  return (await import('../container/diff.js')).containerChanges(query);
}

/**
 * Follows the container's output from now on until it exits (its exit code) or the detach keys
 * are typed (0); our stdin goes to a container started detached with -i.
 */
export async function attachContainer(query: string, opts: AttachOptions): Promise<number> {
  const r = await (await import('./remote.js')).remote();
  if (r) return r.attach(query, opts);
  return (await import('../container/attach.js')).attachOutput(query, opts);
}

/** One health probe now, as the monitor runs them: true if healthy. */
export async function runHealthcheck(query: string): Promise<boolean> {
  return (await import('../container/health-run.js')).runHealthcheckOnce(query);
}

/**
 * The health the container's monitor last recorded (docker's State.Health): undefined when it has
 * no check, or was not started since it got one. What compose's service_healthy waits for.
 */
export async function containerHealth(query: string): Promise<HealthState | undefined> {
  const [{ getContainer, loadContainers }, { readHealth }] = await Promise.all([import('../container/store.js'), import('../container/health.js')]);
  return readHealth(getContainer(loadContainers(), query));
}
