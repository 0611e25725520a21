/**
 * docker's `wait` conditions, for the API (`POST /containers/{id}/wait?condition=`):
 * `not-running` (now, if it is not running), `next-exit` (the next exit from now on) and `removed`
 * (after it is gone: an auto-removed container's real exit code, read while its record still is
 * there). The exit file's directory is watched, so the code is read the moment the monitor writes
 * it, before the exit command (`container cleanup`) has started to remove it.
 */

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export async function waitForCondition(query: string, condition: WaitCondition, signal?: AbortSignal): Promise<number> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { getContainer, loadContainers } = await import('../container/store.js');
  const { exitSettled, liveState, monitorAlive } = await import('../container/state.js');
  const { containerPaths } = await import('../paths.js');
  const { TsctrError } = await import('../errors.js');
  const c = getContainer(loadContainers(), query);
  // Settled before the state is read: an exit file written in between must not pair a final
  // verdict with the unknown code read before it.
  const settledBefore = exitSettled(c);
  const first = liveState(c);
  // Exited, but its code not yet on disk (the monitor writes it a moment after the init's death):
  // the loop below waits for it.
  const settled = first.status === 'created' || settledBefore;
  if (condition === 'not-running' && first.status !== 'running' && settled) return first.exitCode;
  const firstFinish = first.status === 'exited' ? first.finishedAt : undefined;

  let wake: () => void = () => undefined;
  let watcher: import('node:fs').FSWatcher | undefined;
  try {
    watcher = fs.watch(path.dirname(containerPaths.exit(c.id)), () => wake());
    watcher.on('error', () => undefined);
  } catch {
    /* polling alone */
  }
  let lastCode: number | undefined;
  let seenMonitor = false;
  try {
    for (;;) {
      if (signal?.aborted) throw new TsctrError('the client went away');
      const fresh = loadContainers().containers[c.id];
      if (!fresh) {
        if (condition === 'removed') return lastCode ?? 0;
        throw new TsctrError(`No such container: ${query}`);
      }
      // An exit counts once its code is on disk: between the init's death and the monitor's write,
      // and while a start is under way (the record says started before the monitor's pid file is
      // there), the state says exited with an unknown code. Without the file it counts only once a
      // monitor seen alive is gone (killed). The file is looked for on both sides of the read, as
      // the exit command may remove it meanwhile (and the monitor's pid file with it).
      const exitFile = containerPaths.exit(c.id);
      const before = fs.existsSync(exitFile);
      const st = liveState(fresh);
      const after = fs.existsSync(exitFile);
      const alive = monitorAlive(fresh);
      const onDisk = before && after;
      const killed = !before && !after && seenMonitor && !alive && lastCode === undefined;
      seenMonitor ||= alive;
      if (st.status === 'exited' && (onDisk || killed) && (firstFinish === undefined || st.finishedAt !== firstFinish || condition === 'not-running')) {
        // `removed`: the monitor now runs the exit command that removes the container; keep waiting.
        if (condition !== 'removed') return st.exitCode;
        lastCode = st.exitCode;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 25);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  } finally {
    watcher?.close();
  }
}
