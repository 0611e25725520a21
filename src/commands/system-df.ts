import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';
import type { Row } from '../system/disk-usage.js';

export class SystemDfCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'System',
    description: 'Show disk usage of images, containers and volumes',
    examples: [
      ['Summary', '$0 system df'],
      ['Per item', '$0 system df -v'],
    ],
  });

  verbose = Option.Boolean('-v,--verbose', false, { description: 'Show detailed information on space usage' });
  format = Option.String('--format', { description: 'Output format: "json"' });

  async run(): Promise<void> {
    const { treeSize, reclaimText } = await import('../system/disk-usage.js');
    const { loadImages } = await import('../image/store.js');
    const { loadContainers } = await import('../container/store.js');
    const { liveState } = await import('../container/state.js');
    const { volumeNames, volumeUsers } = await import('../container/volumes.js');
    const { containerPaths, volumePaths, hexOf } = await import('../paths.js');
    const { humanSize } = await import('../util/units.js');
    const { renderTable } = await import('../util/template.js');

    const images = loadImages();
    const containers = Object.values(loadContainers().containers);

    // Layers are shared between images and stored once: count each once, as docker does.
    const layerSize = (d: string) => images.layers[d]?.size ?? 0;
    const usedImageIds = new Set(containers.map((c) => c.imageId));
    const allLayers = new Set(Object.values(images.images).flatMap((i) => i.layers));
    const activeLayers = new Set(Object.values(images.images).filter((i) => usedImageIds.has(i.id)).flatMap((i) => i.layers));
    const imgSize = [...allLayers].reduce((n, d) => n + layerSize(d), 0);
    const imgRow: Row = {
      type: 'Images',
      total: Object.keys(images.images).length,
      active: Object.values(images.images).filter((i) => usedImageIds.has(i.id)).length,
      size: imgSize,
      reclaimable: [...allLayers].filter((d) => !activeLayers.has(d)).reduce((n, d) => n + layerSize(d), 0),
    };

    const ctrs = await Promise.all(containers.map(async (c) => ({ c, running: liveState(c).status === 'running', size: await treeSize(containerPaths.upper(c.id)) })));
    const ctrRow: Row = {
      type: 'Containers',
      total: ctrs.length,
      active: ctrs.filter((x) => x.running).length,
      size: ctrs.reduce((n, x) => n + x.size, 0),
      reclaimable: ctrs.filter((x) => !x.running).reduce((n, x) => n + x.size, 0),
    };

    const usedVolumes = new Set(containers.flatMap((c) => c.hostConfig.mounts.filter((m) => m.type === 'volume').map((m) => m.source)));
    const vols = await Promise.all(volumeNames().map(async (name) => ({ name, links: volumeUsers(name, containers).length, size: await treeSize(volumePaths.data(name)) })));
    const volRow: Row = {
      type: 'Local Volumes',
      total: vols.length,
      active: vols.filter((v) => usedVolumes.has(v.name)).length,
      size: vols.reduce((n, v) => n + v.size, 0),
      reclaimable: vols.filter((v) => !usedVolumes.has(v.name)).reduce((n, v) => n + v.size, 0),
    };

    const rows = [imgRow, ctrRow, volRow];
    if (this.format === 'json') {
      for (const r of rows) this.out(JSON.stringify({ Type: r.type, TotalCount: r.total, Active: r.active, Size: humanSize(r.size), Reclaimable: reclaimText(humanSize, r) }));
      return;
    }
    if (!this.verbose) {
      this.write(renderTable([['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], ...rows.map((r) => [r.type, String(r.total), String(r.active), humanSize(r.size), reclaimText(humanSize, r)])]));
      return;
    }

    const { familiarName, parseReference } = await import('../image/reference.js');
    const { humanDuration } = await import('../util/units.js');
    const ago = (iso: string) => (iso ? `${humanDuration(Date.now() - Date.parse(iso))} ago` : '');
    const layerUsers = new Map<string, number>();
    for (const i of Object.values(images.images)) for (const d of new Set(i.layers)) layerUsers.set(d, (layerUsers.get(d) ?? 0) + 1);
    const imageLines = [['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS']];
    for (const i of Object.values(images.images)) {
      const uniq = [...new Set(i.layers)];
      const shared = uniq.filter((d) => (layerUsers.get(d) ?? 0) > 1).reduce((n, d) => n + layerSize(d), 0);
      const unique = uniq.filter((d) => (layerUsers.get(d) ?? 0) <= 1).reduce((n, d) => n + layerSize(d), 0);
      const users = String(containers.filter((c) => c.imageId === i.id).length);
      const tags = i.repoTags.length ? i.repoTags : [''];
      for (const t of tags) {
        let repo = '<none>';
        let tag = '<none>';
        if (t) {
          const ref = parseReference(t);
          [repo, tag] = [familiarName(ref), ref.tag ?? '<none>'];
        }
        imageLines.push([repo, tag, hexOf(i.id).slice(0, 12), ago(i.created), humanSize(i.size), humanSize(shared), humanSize(unique), users]);
      }
    }
    const ctrLines = [['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES']];
    for (const x of ctrs) {
      const cmd = [x.c.path, ...x.c.args].join(' ');
      const nvol = x.c.hostConfig.mounts.filter((m) => m.type === 'volume').length;
      ctrLines.push([x.c.id.slice(0, 12), x.c.config.image, JSON.stringify(cmd.length > 20 ? `${cmd.slice(0, 19)}…` : cmd), String(nvol), humanSize(x.size), ago(x.c.created), x.running ? 'Up' : 'Exited', x.c.name]);
    }
    const volLines = [['VOLUME NAME', 'LINKS', 'SIZE'], ...vols.map((v) => [v.name, String(v.links), humanSize(v.size)])];
    this.write(
      `Images space usage:\n\n${renderTable(imageLines)}\nContainers space usage:\n\n${renderTable(ctrLines)}\nLocal Volumes space usage:\n\n${renderTable(volLines)}`,
    );
  }
}
