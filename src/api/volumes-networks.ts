/** The `/volumes` and `/networks` endpoints. */
import { badRequest } from './errors.js';
import { boolParam, filtersParam, readJsonObject, sendJson, sendStatus, type Ctx } from './http.js';
import type { Route } from './router.js';

type Obj = Record<string, unknown>;
const volumes = () => import('../engine/volumes.js');
const networks = () => import('../engine/networks.js');

const str = (o: Obj, k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);

async function volumeCreate(ctx: Ctx): Promise<void> {
  const b = await readJsonObject(ctx);
  const { createVolume, inspectVolume } = await volumes();
  const driver = str(b, 'Driver');
  if (driver && driver !== 'local') throw badRequest(`volume driver "${driver}" is not supported: tsctr has local volumes only`);
  const name = await createVolume(str(b, 'Name') || undefined);
  sendJson(ctx, 201, await inspectVolume(name));
}

async function volumeList(ctx: Ctx): Promise<void> {
  const f = filtersParam(ctx.query);
  let list = await (await volumes()).listVolumes();
  const names = f.get('name');
  if (names?.length) list = list.filter((v) => names.some((n) => v.Name.includes(n)));
  const labels = f.get('label');
  if (labels?.length) list = list.filter((v) => labels.every((l) => {
    const [k, val] = l.split('=');
    return k! in v.Labels && (val === undefined || v.Labels[k!] === val);
  }));
  sendJson(ctx, 200, { Volumes: list, Warnings: [] });
}

async function volumeInspect(ctx: Ctx): Promise<void> {
  sendJson(ctx, 200, await (await volumes()).inspectVolume(ctx.params.name!));
}

async function volumeRemove(ctx: Ctx): Promise<void> {
  await (await volumes()).removeVolume(ctx.params.name!, boolParam(ctx.query, 'force'));
  sendStatus(ctx, 204);
}

async function volumePrune(ctx: Ctx): Promise<void> {
  const r = await (await volumes()).pruneVolumes();
  sendJson(ctx, 200, { VolumesDeleted: r.removed, SpaceReclaimed: r.reclaimed });
}

async function networkCreate(ctx: Ctx): Promise<void> {
  const b = await readJsonObject(ctx);
  const name = str(b, 'Name');
  if (!name) throw badRequest('Name is required');
  const ipam = (b.IPAM && typeof b.IPAM === 'object' ? (b.IPAM as Obj) : {}) as Obj;
  const cfg = Array.isArray(ipam.Config) && ipam.Config[0] && typeof ipam.Config[0] === 'object' ? (ipam.Config[0] as Obj) : {};
  const labels: Record<string, string> = {};
  if (b.Labels && typeof b.Labels === 'object') for (const [k, v] of Object.entries(b.Labels as Obj)) labels[k] = String(v ?? '');
  const subnet = str(cfg, 'Subnet');
  const gateway = str(cfg, 'Gateway');
  const driver = str(b, 'Driver');
  const rec = await (await networks()).createNetwork({
    name,
    ...(driver ? { driver } : {}),
    ...(subnet ? { subnet } : {}),
    ...(gateway ? { gateway } : {}),
    internal: b.Internal === true,
    labels,
  });
  sendJson(ctx, 201, { Id: rec.id, Warning: '' });
}

async function networkList(ctx: Ctx): Promise<void> {
  const filters: string[] = [];
  for (const [k, vals] of filtersParam(ctx.query)) for (const v of vals) filters.push(`${k}=${v}`);
  const { inspectNetwork, listNetworks } = await networks();
  const out: Obj[] = [];
  for (const r of await listNetworks(filters, true)) {
    try {
      out.push(await inspectNetwork(r.ID));
    } catch {
      /* removed meanwhile */
    }
  }
  sendJson(ctx, 200, out);
}

async function networkInspect(ctx: Ctx): Promise<void> {
  sendJson(ctx, 200, await (await networks()).inspectNetwork(ctx.params.id!));
}

async function networkRemove(ctx: Ctx): Promise<void> {
  await (await networks()).removeNetwork(ctx.params.id!, false);
  sendStatus(ctx, 204);
}

async function networkPrune(ctx: Ctx): Promise<void> {
  sendJson(ctx, 200, { NetworksDeleted: await (await networks()).pruneNetworks() });
}

async function networkConnect(ctx: Ctx): Promise<void> {
  const b = await readJsonObject(ctx);
  const container = str(b, 'Container');
  if (!container) throw badRequest('Container is required');
  const ep = (b.EndpointConfig && typeof b.EndpointConfig === 'object' ? b.EndpointConfig : {}) as Obj;
  const aliases = Array.isArray(ep.Aliases) ? ep.Aliases.filter((a): a is string => typeof a === 'string') : [];
  const ipam = (ep.IPAMConfig && typeof ep.IPAMConfig === 'object' ? ep.IPAMConfig : {}) as Obj;
  const ip = str(ipam, 'IPv4Address');
  await (await networks()).connectNetwork(ctx.params.id!, container, { aliases, ...(ip ? { ip } : {}) });
  sendStatus(ctx, 200);
}

async function networkDisconnect(ctx: Ctx): Promise<void> {
  const b = await readJsonObject(ctx);
  const container = str(b, 'Container');
  if (!container) throw badRequest('Container is required');
  await (await networks()).disconnectNetwork(ctx.params.id!, container);
  sendStatus(ctx, 200);
}

export const VOLUME_NETWORK_ROUTES: Route[] = [
  { method: 'POST', pattern: '/volumes/create', handle: volumeCreate },
  { method: 'GET', pattern: '/volumes', handle: volumeList },
  { method: 'POST', pattern: '/volumes/prune', handle: volumePrune },
  { method: 'GET', pattern: '/volumes/{name}', handle: volumeInspect },
  { method: 'DELETE', pattern: '/volumes/{name}', handle: volumeRemove },
  { method: 'POST', pattern: '/networks/create', handle: networkCreate },
  { method: 'GET', pattern: '/networks', handle: networkList },
  { method: 'POST', pattern: '/networks/prune', handle: networkPrune },
  { method: 'GET', pattern: '/networks/{id}', handle: networkInspect },
  { method: 'DELETE', pattern: '/networks/{id}', handle: networkRemove },
  { method: 'POST', pattern: '/networks/{id}/connect', handle: networkConnect },
  { method: 'POST', pattern: '/networks/{id}/disconnect', handle: networkDisconnect },
];
