/**
 * Attaching to a running container through its monitor's socket (attach.sock), for the API server:
 * a stream's bytes into the container's stdin, and its tty's size. The CLI's `attach` uses the same
 * client (container/attach-stdin.ts) through attachContainer (extra.ts).
 */
import type { StdinLink } from '../container/attach-stdin.js';

export type { StdinLink };

export interface StdinLinkOptions {
  /** docker's detach keys (`ctrl-p,ctrl-q`); watched for with a tty only, as docker's daemon does. */
  detachKeys?: string;
}

/**
 * Copies `input` into the running container's stdin, held by its monitor; undefined when it has no
 * socket to take it (not run with -i, or attached to its caller). ConflictError when another client
 * has its stdin, TsctrError for bad detach keys.
 */
export async function linkContainerStdin(query: string, input: NodeJS.ReadableStream, o: StdinLinkOptions = {}): Promise<StdinLink | undefined> {
  const { getContainer, loadContainers } = await import('../container/store.js');
  const { DEFAULT_DETACH_KEYS, linkStdin, parseDetachKeys } = await import('../container/attach-stdin.js');
  const { containerPaths } = await import('../paths.js');
  const c = getContainer(loadContainers(), query);
  const keys = c.config.tty ? parseDetachKeys(o.detachKeys || DEFAULT_DETACH_KEYS) : undefined;
  if (!c.config.openStdin) return undefined;
  return linkStdin(containerPaths.attachSock(c.id), c.config.tty, { input, ...(keys ? { keys } : {}) });
}

/**
 * Sets a running container's tty size (TIOCSWINSZ by its monitor, which holds the pty). A container
 * without a tty has nothing to resize: ignored, as docker's. Not running: ConflictError.
 */
export async function resizeContainerTty(query: string, rows: number, cols: number): Promise<void> {
  const { getContainer, loadContainers } = await import('../container/store.js');
  const { liveState } = await import('../container/state.js');
  const { ConflictError } = await import('../errors.js');
  const { resizeTty } = await import('../container/attach-stdin.js');
  const { containerPaths } = await import('../paths.js');
  const c = getContainer(loadContainers(), query);
  if (liveState(c).status !== 'running') throw new ConflictError(`Container ${c.id} is not running`);
  if (c.config.tty) await resizeTty(containerPaths.attachSock(c.id), rows, cols);
}

/** Throws (TsctrError) on detach keys docker would refuse: checked before a stream starts. */
export async function checkDetachKeys(spec: string): Promise<void> {
  (await import('../container/attach-stdin.js')).parseDetachKeys(spec);
}
