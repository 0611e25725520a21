/** stop, kill, remove, wait: signals to the container's init, and the store updates around them. */
import { ConflictError, TsctrError } from '../errors.js';
import { removeTreesAsNamespaceRoot } from '../rootless/userns.js';
import { containerCgroup, removeCgroup } from '../rootless/cgroups.js';
import { signalProcess } from '../util/proc.js';
import { signalNumber } from './signals.js';
import { killOrphanedHelpers, liveState, monitorAlive } from './state.js';
import { getContainer, loadContainers, updateContainers } from './store.js';
import { removeContainerDirs } from './create.js';
import { containerEvent } from './events.js';
import type { ContainerRecord } from './types.js';
import { removeVolume, volumeUsers } from './volumes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the container is no longer running (its monitor has also written the exit file). */
async function waitStopped(c: ContainerRecord, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (liveState(c).status !== 'running' && !monitorAlive(c)) return true;
    await sleep(20);
  }
  return liveState(c).status !== 'running';
}

export async function killContainer(query: string, signal: string): Promise<ContainerRecord> {
  const c = getContainer(loadContainers(), query);
  const st = liveState(c);
  if (st.status !== 'running') throw new ConflictError(`Cannot kill container: ${query}: Container ${c.id.slice(0, 12)} is not running`);
  // Gone since liveState looked: then it is no longer running, and no stranger is signalled.
  if (!signalProcess(st.init, signalNumber(signal))) throw new ConflictError(`Cannot kill container: ${query}: Container ${c.id.slice(0, 12)} is not running`);
  if (st.paused) (await import('./pause.js')).resumeIfPaused(c);
  containerEvent(c, 'kill', { signal: String(signalNumber(signal)) });
  return c;
}

export async function stopContainer(query: string, timeoutSec?: number): Promise<ContainerRecord> {
  const c = await updateContainers((doc) => {
    const rec = getContainer(doc, query);
    rec.stoppedByUser = true;
    return rec;
  });
  // Tell the monitor first, so that its restart policy does not bring the container back.
  const st = liveState(c);
  signalProcess(st.monitor, 'SIGTERM');
  if (st.status !== 'running') {
    killOrphanedHelpers(c);
    return c;
  }
  const timeout = timeoutSec ?? c.config.stopTimeout;
  signalProcess(st.init, signalNumber(c.config.stopSignal));
  containerEvent(c, 'kill', { signal: String(signalNumber(c.config.stopSignal)) });
  if (st.paused) (await import('./pause.js')).resumeIfPaused(c);
  const stopped = timeout < 0 ? await waitStopped(c, 2 ** 31) : await waitStopped(c, timeout * 1000);
  if (!stopped) {
    signalProcess(st.init, 'SIGKILL');
    containerEvent(c, 'kill', { signal: '9' });
    if (!(await waitStopped(c, 10_000))) throw new TsctrError(`container ${query} did not stop after SIGKILL`);
  }
  killOrphanedHelpers(c);
  containerEvent(c, 'stop');
  return c;
}

export async function removeContainer(query: string, force: boolean, volumes = false, stopTimeout = 0): Promise<ContainerRecord> {
  const c = getContainer(loadContainers(), query);
  if (liveState(c).status === 'running' || monitorAlive(c)) {
    if (!force && liveState(c).status === 'running') {
      throw new ConflictError(
        `cannot remove container "${c.name}": container is running: stop the container before removing or force remove`,
      );
    }
    await stopContainer(c.id, stopTimeout); // which also ends what a killed monitor left
  } else {
    killOrphanedHelpers(c);
  }
  // Files first, then the record: an interrupted rm leaves a record that a second rm finishes.
  removeTreesAsNamespaceRoot(removeContainerDirs(c.id));
  // Normally its monitor removed it; not if the monitor was killed.
  const cgroup = containerCgroup(c.id, c.hostConfig);
  if (cgroup) removeCgroup(cgroup);
  await updateContainers((doc) => {
    delete doc.containers[c.id];
  });
  containerEvent(c, 'destroy');
  if (volumes) {
    for (const m of c.hostConfig.mounts) {
      if (m.anonymous && volumeUsers(m.source).length === 0) removeVolume(m.source, false);
    }
  }
  return c;
}

/** docker wait: blocks until the container is not running, then gives its exit code. */
export async function waitContainer(query: string): Promise<number> {
  const c = getContainer(loadContainers(), query);
  for (;;) {
    const fresh = loadContainers().containers[c.id];
    if (!fresh) throw new TsctrError(`No such container: ${query}`);
    // The monitor first: once it is gone, its exit file is written (read the other way round, a
    // monitor exiting in between leaves an exit that looks unknown, 255).
    if (monitorAlive(fresh)) {
      await sleep(50);
      continue;
    }
    const st = liveState(fresh);
    if (st.status === 'exited') return st.exitCode;
    await sleep(50);
  }
}
