/** docker's `image inspect` document and `history` rows, built from the stored config. */
import { hexOf, storePaths } from '../paths.js';
import { humanDuration, humanSize } from '../util/units.js';
import { parseReference, familiarString } from './reference.js';
import { loadImages, readImageConfig } from './store.js';
import type { HistoryEntry, ImageRecord } from './types.js';

function familiarDigest(repoDigest: string): string {
  return repoDigest.replace(/^docker\.io\/(library\/)?/, '');
}

export function inspectImage(image: ImageRecord): Record<string, unknown> {
  const config = readImageConfig(image);
  const c = config.config ?? {};
  const layers = loadImages().layers;
  return {
    Id: image.id,
    RepoTags: image.repoTags.map((t) => familiarString(parseReference(t))),
    RepoDigests: image.repoDigests.map(familiarDigest),
    Parent: '',
    Comment: config.history?.at(-1)?.comment ?? '',
    Created: image.created,
    DockerVersion: '',
    Author: config.author ?? '',
    Config: {
      Hostname: '',
      Domainname: '',
      User: c.User ?? '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      ExposedPorts: c.ExposedPorts ?? null,
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: c.Env ?? null,
      Cmd: c.Cmd ?? null,
      Image: '',
      Volumes: c.Volumes ?? null,
      WorkingDir: c.WorkingDir ?? '',
      Entrypoint: c.Entrypoint ?? null,
      OnBuild: null,
      Labels: c.Labels ?? null,
      StopSignal: c.StopSignal ?? undefined,
      Healthcheck: c.Healthcheck ?? undefined,
    },
    Architecture: config.architecture,
    Variant: config.variant,
    Os: config.os,
    Size: image.size,
    VirtualSize: image.size,
    GraphDriver: {
      Name: 'overlay',
      Data: { LowerDirs: image.layers.slice(0, -1).reverse().map((d) => storePaths.layer(d)).join(':'), UpperDir: image.layers.length ? storePaths.layer(image.layers.at(-1)!) : '' },
    },
    RootFS: { Type: 'layers', Layers: image.layers },
    Metadata: { LastTagTime: image.pulledAt },
    LayerSizes: image.layers.map((d) => layers[d]?.size ?? 0),
  };
}

export interface HistoryRow {
  ID: string;
  CreatedSince: string;
  CreatedAt: string;
  CreatedBy: string;
  Size: string;
  Comment: string;
}

export function imageHistory(image: ImageRecord, noTrunc: boolean, now = Date.now()): HistoryRow[] {
  const config = readImageConfig(image);
  const sizes = loadImages().layers;
  const history: HistoryEntry[] = config.history?.length
    ? config.history
    : image.layers.map(() => ({ created: image.created, created_by: '', empty_layer: false }));
  let layerIndex = 0;
  const rows = history.map((h) => {
    const size = h.empty_layer ? 0 : (sizes[image.layers[layerIndex++] ?? '']?.size ?? 0);
    const by = h.created_by ?? '';
    return {
      ID: '<missing>',
      CreatedSince: h.created ? `${humanDuration(now - Date.parse(h.created))} ago` : '',
      CreatedAt: h.created ?? '',
      CreatedBy: noTrunc || by.length <= 45 ? by : `${by.slice(0, 44)}…`,
      Size: humanSize(size),
      Comment: h.comment ?? '',
    };
  });
  rows.reverse();
  if (rows[0]) rows[0].ID = noTrunc ? image.id : hexOf(image.id).slice(0, 12);
  return rows;
}
