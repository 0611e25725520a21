import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class PlayKubeCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Run the Pods of a Kubernetes YAML here, rootless (or remove them with --down)',
    details: `
      Each Pod (or a Deployment's pod template) becomes containers named POD-CONTAINER that share one
      network namespace, held by an infra container POD-infra, so they reach each other on localhost;
      hostPorts are published on the host. Fields without a local meaning are reported and ignored.
    `,
    examples: [
      ['Run what generate kube wrote', '$0 play kube web.yaml'],
      ['Stop and remove it', '$0 play kube --down web.yaml'],
    ],
  });

  down = Option.Boolean('--down', false, { description: 'Stop and remove the pods the YAML describes' });
  file = Option.String({ name: 'FILE' });

  async run(): Promise<void> {
    const fs = await import('node:fs');
    const { TsctrError } = await import('../errors.js');
    const { kubePods, playPod, downPod } = await import('../engine/pods.js');
    let text: string;
    try {
      text = fs.readFileSync(this.file === '-' ? 0 : this.file, 'utf8');
    } catch (e) {
      throw new TsctrError(`cannot read ${this.file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    const pods = await kubePods(text);
    if (pods.length === 0) throw new TsctrError(`${this.file} describes no Pod or Deployment`);
    if (this.down) {
      const gone: string[] = [];
      for (const p of pods) if (await downPod(p.name)) gone.push(p.name);
      this.out(gone.length ? `Pods stopped and removed:\n${gone.join('\n')}` : 'No pods to remove');
      return;
    }
    for (const p of pods) {
      const played = await playPod(p);
      this.out(`Pod:\n${played.name}\nContainers:\n${played.containers.join('\n')}`);
    }
  }
}
