/**
 * The Docker API's JSON → the typed rows the local engine returns (ContainerRow, ImageRow), so
 * that `ps`, `images` and their --format print a remote engine's objects with the same code and
 * the same text as local ones. Pure (the time is given): unit-tested without a server.
 */
import { ellipsis, goTime, type ContainerRow } from '../container/list.js';
import type { ImageRow } from '../image/list.js';
import { familiarName, parseReference } from '../image/reference.js';
import { humanDuration, humanSize } from '../util/units.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** `ip:host->ctr/proto` for each bound port, then the exposed ones that are not bound, as ps shows them. */
function portsText(ports: Obj): string {
  const bound: string[] = [];
  const free: string[] = [];
  for (const [key, binds] of Object.entries(ports)) {
    if (!Array.isArray(binds) || !binds.length) {
      free.push(key.includes('/') ? key : `${key}/tcp`);
      continue;
    }
    for (const b of binds as Obj[]) {
      const ip = str(b.HostIp) || '0.0.0.0';
      bound.push(`${ip.includes(':') ? `[${ip}]` : ip}:${str(b.HostPort)}->${key.includes('/') ? key : `${key}/tcp`}`);
    }
  }
  return [...bound, ...free].join(', ');
}

/**
 * A row of `ps` from a container's list entry (its Status, computed by the server at its time)
 * and its inspect document (the exact command, creation time, mounts).
 */
export function containerRow(entry: Obj, j: Obj, o: { noTrunc?: boolean }, now: number): ContainerRow {
  const cfg = obj(j.Config);
  const st = obj(j.State);
  const hc = obj(j.HostConfig);
  const ns = obj(j.NetworkSettings);
  const args = Array.isArray(j.Args) ? (j.Args as string[]) : [];
  // docker quotes the arguments that contain spaces.
  const command = [str(j.Path), ...args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
  const labels = obj(cfg.Labels);
  const mounts = (Array.isArray(j.Mounts) ? j.Mounts : []).map(obj);
  const networks = Object.keys(obj(ns.Networks));
  const created = str(j.Created);
  const id = str(j.Id);
  return {
    Command: JSON.stringify(o.noTrunc ? command : ellipsis(command, 20)),
    CreatedAt: goTime(created),
    ID: o.noTrunc ? id : id.slice(0, 12),
    Image: str(cfg.Image),
    Labels: Object.entries(labels).map(([k, v]) => `${k}=${String(v)}`).join(','),
    LocalVolumes: String(mounts.filter((m) => m.Type === 'volume').length),
    Mounts: mounts.map((m) => (m.Type === 'volume' ? str(m.Name) : str(m.Destination))).join(','),
    Names: str(j.Name).replace(/^\//, ''),
    Networks: (networks.length ? networks : [str(hc.NetworkMode)]).join(','),
    Ports: portsText(obj(ns.Ports)),
    RunningFor: `${humanDuration(now - Date.parse(created))} ago`,
    Size: 'N/A',
    State: str(st.Status) || str(entry.State),
    Status: str(entry.Status),
  };
}

/** The rows of `images` for one image's inspect document: one per tag (or one `<none>` row). */
export function imageRows(j: Obj, o: { noTrunc?: boolean }, now: number): ImageRow[] {
  const tags = Array.isArray(j.RepoTags) ? (j.RepoTags as string[]).filter((t) => t !== '<none>:<none>') : [];
  const digests = Array.isArray(j.RepoDigests) ? (j.RepoDigests as string[]) : [];
  const created = str(j.Created);
  const size = typeof j.Size === 'number' ? j.Size : 0;
  const id = str(j.Id);
  const pairs: [string, string, string][] = tags.length
    ? tags.map((t) => {
        const ref = parseReference(t);
        const repo = familiarName(ref);
        const digest = digests.find((d) => familiarName(parseReference(d)) === repo);
        return [repo, ref.tag ?? '<none>', digest ? digest.slice(digest.indexOf('@') + 1) : '<none>'];
      })
    : [[digests[0] ? familiarName(parseReference(digests[0])) : '<none>', '<none>', digests[0]?.slice(digests[0].indexOf('@') + 1) ?? '<none>']];
  return pairs.map(([repo, tag, digest]) => ({
    Containers: 'N/A',
    CreatedAt: created,
    CreatedSince: `${humanDuration(now - Date.parse(created))} ago`,
    Digest: digest,
    ID: o.noTrunc ? id : id.replace(/^sha256:/, '').slice(0, 12),
    Repository: repo,
    SharedSize: 'N/A',
    Size: humanSize(size),
    Tag: tag,
    UniqueSize: 'N/A',
    VirtualSize: humanSize(size),
  }));
}
