/** docker's `update`: limits and restart policy of existing containers (container/update.ts does the work). */
import type { UpdateOptions } from '../container/update.js';

export type { UpdateOptions };

export interface UpdateFlags {
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  restart?: string;
}

/** The flags as typed values; bad input throws before any container is touched. Empty flags are refused. */
export async function checkUpdate(f: UpdateFlags): Promise<UpdateOptions> {
  const { TsctrError } = await import('../errors.js');
  const { parseResources, parseRestart } = await import('../container/options.js');
  if (f.memory === undefined && f.cpus === undefined && f.pidsLimit === undefined && f.restart === undefined) {
    throw new TsctrError('you must provide one or more flags when using this command');
  }
  // 0 removes a limit (run's parser refuses --cpus 0: there it means nothing)
  const r = parseResources({ ...f, cpus: f.cpus === '0' ? undefined : f.cpus, pidsLimit: f.pidsLimit === '-1' ? undefined : f.pidsLimit });
  const o: UpdateOptions = {};
  if (f.memory !== undefined) o.memory = r.memory;
  if (f.cpus !== undefined) o.nanoCpus = r.nanoCpus;
  if (f.pidsLimit !== undefined) o.pidsLimit = r.pidsLimit;
  if (f.restart !== undefined) o.restart = parseRestart(f.restart);
  return o;
}

export async function updateContainer(query: string, o: UpdateOptions): Promise<void> {
  await (await import('../container/update.js')).updateContainer(query, o);
}
