import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';
import { GLOBAL_WITH_VALUE } from '../global-options.js';

export class GenerateSystemdCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Generate a systemd user unit that starts, stops and restarts a container',
    details: `
      The unit is for \`systemctl --user\`: copy it to ~/.config/systemd/user/, run
      \`systemctl --user daemon-reload && systemctl --user enable --now container-NAME.service\`, and
      \`loginctl enable-linger $USER\` so that it starts at boot without a login. With \`--new\` each
      start creates the container afresh from the options it was created with, and each stop removes it.
    `,
    examples: [
      ['Print the unit for web', '$0 generate systemd web'],
      ['Write container-web.service, recreating the container at each start', '$0 generate systemd --new --files web'],
    ],
  });

  fresh = Option.Boolean('--new', false, { description: 'Create a new container at each start instead of starting the existing one' });
  files = Option.Boolean('-f,--files', false, { description: 'Write the unit to ./container-NAME.service and print its path' });
  restartPolicy = Option.String('--restart-policy', { description: "systemd restart policy (default: from the container's, else on-failure)" });
  time = Option.String('-t,--time', { description: 'Stop timeout in seconds (default: the container\'s)' });
  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<void> {
    const { generateSystemd } = await import('../engine/containers.js');
    const { TsctrError } = await import('../errors.js');
    if (this.time !== undefined && !/^\d+$/.test(this.time)) throw new TsctrError(`invalid stop timeout ${this.time}`);
    const { unit, fileName } = await generateSystemd(this.container, {
      fresh: this.fresh,
      restartPolicy: this.restartPolicy,
      stopTimeout: this.time === undefined ? undefined : Number(this.time),
      globalFlags: GLOBAL_WITH_VALUE,
    });
    if (!this.files) return void this.write(unit);
    const path = await import('node:path');
    const { atomicWriteFile } = await import('../util/fsutil.js');
    const file = path.resolve(fileName);
    atomicWriteFile(file, unit, 0o644);
    this.out(file);
  }
}

export class GenerateKubeCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: 'Generate Kubernetes YAML (a Pod, and a Service with --service) from containers',
    details: `
      The containers become one Pod: images by their fully qualified names, command, args, environment
      and working directory where they differ from the image, the user as securityContext ids,
      published ports as hostPort, bind mounts as hostPath volumes, named volumes as
      persistentVolumeClaims, limits, labels and the restart policy. \`tsctr play kube\` runs it again.
    `,
    examples: [
      ['YAML for web, with a Service', '$0 generate kube --service web'],
      ['Into a file', '$0 generate kube -f web.yaml web'],
    ],
  });

  service = Option.Boolean('-s,--service', false, { description: 'Also generate a Service for the published ports' });
  file = Option.String('-f,--filename', { description: 'Write the YAML to this file' });
  containers = Option.Rest({ required: 1 });

  async run(): Promise<void> {
    const { generateKube } = await import('../engine/pods.js');
    const yaml = await generateKube(this.containers, this.service);
    if (!this.file) return void this.write(yaml);
    const { atomicWriteFile } = await import('../util/fsutil.js');
    atomicWriteFile(this.file, yaml, 0o644);
  }
}
