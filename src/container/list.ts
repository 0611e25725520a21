/** The rows of `tsctr ps`: docker's fields, status strings, filters and ordering. */
import { TsctrError } from '../errors.js';
import { splitFilter } from '../util/filters.js';
import { humanDuration } from '../util/units.js';
import { formatBinding } from '../net/ports.js';
import { networkMode } from '../net/default.js';
import { liveState } from './state.js';
import { loadContainers } from './store.js';
import { healthSuffix, readHealth, type HealthState } from './health.js';
import type { ContainerRecord, LiveState } from './types.js';

export interface ContainerRow {
  Command: string;
  CreatedAt: string;
  ID: string;
  Image: string;
  Labels: string;
  LocalVolumes: string;
  Mounts: string;
  Names: string;
  Networks: string;
  Ports: string;
  RunningFor: string;
  Size: string;
  State: string;
  Status: string;
}

export function ellipsis(s: string, n: number): string {
  return [...s].length <= n ? s : `${[...s].slice(0, n - 1).join('')}…`;
}

/** Go's time.Time default format, which docker prints for CreatedAt. */
export function goTime(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000 UTC`;
}

export function statusText(st: LiveState, now: number, health?: HealthState): string {
  switch (st.status) {
    case 'running':
      return `Up ${humanDuration(now - Date.parse(st.startedAt))}${st.paused ? ' (Paused)' : healthSuffix(health)}`;
    case 'exited':
      return `Exited (${st.exitCode}) ${humanDuration(now - Date.parse(st.finishedAt || st.startedAt))} ago`;
    default:
      return 'Created';
  }
}

export function portsText(c: ContainerRecord, running: boolean): string {
  const bound = running ? (c.ports ?? []) : [];
  const parts = bound.map(formatBinding);
  for (const e of c.config.exposedPorts) {
    const [port, proto = 'tcp'] = e.split('/');
    if (!bound.some((b) => b.containerPort === Number(port) && b.protocol === proto)) parts.push(`${port}/${proto}`);
  }
  return parts.join(', ');
}

/** The networks ps names: its user networks, else its mode. */
function containerNetworks(c: ContainerRecord): string[] {
  return c.endpoints?.length ? c.endpoints.map((e) => e.network) : [networkMode(c.hostConfig.network)];
}

/** --filter network=: a user network by name or id; `bridge` is docker's name for the default one. */
function onNetwork(c: ContainerRecord, value: string): boolean {
  if (c.endpoints?.length) return c.endpoints.some((e) => e.network === value || e.networkId === value || (value.length >= 12 && e.networkId.startsWith(value)));
  return networkMode(c.hostConfig.network) === value || (value === 'bridge' && c.hostConfig.network === 'default');
}

type Pred = (c: ContainerRecord, st: LiveState) => boolean;

function parseFilters(filters: string[]): Pred[] {
  return filters.map((f) => {
    const [key, value] = splitFilter(f);
    switch (key) {
      case 'status':
        if (!['created', 'running', 'exited', 'paused', 'restarting', 'removing', 'dead'].includes(value)) {
          throw new TsctrError(`invalid filter 'status=${value}'`);
        }
        if (value === 'paused') return (_c, st) => st.paused === true;
        if (value === 'running') return (_c, st) => st.status === 'running' && !st.paused;
        return (_c, st) => st.status === value;
      case 'health':
        if (!['starting', 'healthy', 'unhealthy', 'none'].includes(value)) throw new TsctrError(`invalid filter 'health=${value}'`);
        // docker: a container with no check is 'none', one not running has no health shown
        return (c, st) => (st.status === 'running' ? (readHealth(c)?.Status ?? 'none') : 'none') === value;
      case 'name': {
        let re: RegExp;
        try {
          re = new RegExp(value);
        } catch {
          throw new TsctrError(`invalid filter 'name=${value}'`);
        }
        return (c) => re.test(c.name);
      }
      case 'id':
        return (c) => c.id.startsWith(value);
      case 'ancestor':
        return (c) => c.config.image === value || c.config.image.startsWith(`${value}:`) || c.imageId.slice(7).startsWith(value.replace(/^sha256:/, ''));
      case 'label': {
        const [k, v] = value.split(/=(.*)/s);
        return (c) => k! in c.config.labels && (v === undefined || c.config.labels[k!] === v);
      }
      case 'exited':
        return (_c, st) => st.status === 'exited' && st.exitCode === Number(value);
      case 'network':
        return (c) => onNetwork(c, value);
      case 'restart-policy':
        if (!['no', 'always', 'on-failure', 'unless-stopped'].includes(value)) throw new TsctrError(`invalid filter 'restart-policy=${value}'`);
        return (c) => c.hostConfig.restart.name === value;
      default:
        throw new TsctrError(`invalid filter '${key}'`);
    }
  });
}

export interface PsOptions {
  all?: boolean;
  last?: number;
  noTrunc?: boolean;
  filters?: string[];
  /** podman's --sort: command, created (the default: newest first), id, image, names, runningfor, size, status. */
  sort?: string;
}

export const PS_SORT_KEYS = ['command', 'created', 'id', 'image', 'names', 'runningfor', 'size', 'status'];

/**
 * podman's orders: created and runningfor newest first (the shortest-running first), the others
 * ascending by their column; ties keep the newest first.
 */
function sortRows(pairs: { c: ContainerRecord; row: ContainerRow }[], key: string): void {
  const str = (f: (p: { c: ContainerRecord; row: ContainerRow }) => string) => (a: (typeof pairs)[0], b: (typeof pairs)[0]) => {
    const x = f(a);
    const y = f(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const cmp: Record<string, (a: (typeof pairs)[0], b: (typeof pairs)[0]) => number> = {
    command: str((p) => p.row.Command),
    created: () => 0, // already newest first
    id: str((p) => p.c.id),
    image: str((p) => p.row.Image),
    names: str((p) => p.row.Names),
    runningfor: (a, b) => Date.parse(b.c.startedAt ?? b.c.created) - Date.parse(a.c.startedAt ?? a.c.created),
    size: () => 0, // every size is N/A: not computed
    status: str((p) => p.row.State),
  };
  pairs.sort(cmp[key]!);
}

export function listContainers(o: PsOptions = {}, now = Date.now()): ContainerRow[] {
  if (o.sort !== undefined && !PS_SORT_KEYS.includes(o.sort)) throw new TsctrError(`invalid option for --sort, options are: ${PS_SORT_KEYS.join(', ')}`);
  const preds = parseFilters(o.filters ?? []);
  // Newest first. ISO times order as strings; localeCompare would load ICU's collator (~9 ms).
  let containers = Object.values(loadContainers().containers).sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  if (o.last !== undefined && o.last > 0) containers = containers.slice(0, o.last);
  const showAll = o.all || (o.last !== undefined && o.last > 0);
  const pairs: { c: ContainerRecord; row: ContainerRow }[] = [];
  for (const c of containers) {
    const st = liveState(c);
    if (!showAll && st.status !== 'running') continue;
    if (!preds.every((p) => p(c, st))) continue;
    // docker quotes the arguments that contain spaces.
    const command = [c.path, ...c.args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
    pairs.push({ c, row: {
      Command: JSON.stringify(o.noTrunc ? command : ellipsis(command, 20)),
      CreatedAt: goTime(c.created),
      ID: o.noTrunc ? c.id : c.id.slice(0, 12),
      Image: c.config.image,
      Labels: Object.entries(c.config.labels).map(([k, v]) => `${k}=${v}`).join(','),
      LocalVolumes: String(c.hostConfig.mounts.filter((m) => m.type === 'volume').length),
      Mounts: c.hostConfig.mounts.map((m) => (m.type === 'volume' ? m.source : m.destination)).join(','),
      Names: c.name,
      Networks: containerNetworks(c).join(','),
      Ports: portsText(c, st.status === 'running'),
      RunningFor: `${humanDuration(now - Date.parse(c.created))} ago`,
      Size: 'N/A',
      State: st.paused ? 'paused' : st.status,
      Status: statusText(st, now, st.status === 'running' ? readHealth(c) : undefined),
    } });
  }
  if (o.sort && o.sort !== 'created') sortRows(pairs, o.sort);
  return pairs.map((p) => p.row);
}

/** The names a verb was given, or with --all (podman) every container (running ones only, unless `stopped`). */
export function namesOrAll(names: string[], all: boolean, stopped: boolean): string[] {
  if (all && names.length) throw new TsctrError('when using the --all switch, you may not pass any container names');
  if (!all && !names.length) throw new TsctrError('requires at least 1 container name (or --all)');
  if (!all) return names;
  return listContainers({ all: stopped, noTrunc: true, filters: [] }).map((r) => r.ID);
}
