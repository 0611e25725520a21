/** A project's containers, found by their labels in the container store (no state of compose's own). */
import { loadContainers } from '../container/store.js';
import { liveState } from '../container/state.js';
import type { ContainerRecord } from '../container/types.js';
import { LABEL } from './labels.js';

export interface ProjectContainer {
  record: ContainerRecord;
  service: string;
  number: number;
  oneoff: boolean;
  running: boolean;
}

export function projectContainers(project: string, opts: { oneoff?: boolean } = {}): ProjectContainer[] {
  const out: ProjectContainer[] = [];
  for (const c of Object.values(loadContainers().containers)) {
    const l = c.config.labels;
    if (l[LABEL.project] !== project) continue;
    const oneoff = l[LABEL.oneoff] === 'True';
    if (oneoff && !opts.oneoff) continue;
    out.push({ record: c, service: l[LABEL.service] ?? '', number: Number(l[LABEL.number] ?? 0), oneoff, running: liveState(c).status === 'running' });
  }
  return out.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : a.number - b.number));
}

/** Every project that has containers: name → its containers (for `compose ls`). */
export function allProjects(): Map<string, ContainerRecord[]> {
  const out = new Map<string, ContainerRecord[]>();
  for (const c of Object.values(loadContainers().containers)) {
    const p = c.config.labels[LABEL.project];
    if (p === undefined) continue;
    out.set(p, [...(out.get(p) ?? []), c]);
  }
  return out;
}
