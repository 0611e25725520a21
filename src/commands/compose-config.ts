/** `compose config` (and `compose convert`): the project's files resolved, checked and printed. */
import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';
import type { Project } from '../compose/model.js';

const category = 'Compose';

/** The project options docker compose takes (before the subcommand too: see main's argv handling). */
abstract class ComposeFileCommand extends TsctrCommand {
  file = Option.Array('-f,--file', [], { description: 'Compose configuration files' });
  projectName = Option.String('-p,--project-name', { description: 'Project name' });
  projectDirectory = Option.String('--project-directory', { description: 'Specify an alternate working directory (default: the path of the first compose file)' });
  envFile = Option.Array('--env-file', [], { description: 'Specify an alternate environment file' });
  profile = Option.Array('--profile', [], { description: 'Specify a profile to enable' });

  async loadProject(): Promise<Project> {
    const { loadProject } = await import('../compose/load.js');
    const p = await loadProject({
      files: this.file,
      projectName: this.projectName,
      projectDirectory: this.projectDirectory,
      envFiles: this.envFile,
      profiles: this.profile,
      cwd: process.cwd(),
      env: process.env,
    });
    for (const w of p.warnings) this.context.stderr.write(`WARN[0000] ${w}\n`);
    return p;
  }
}

export class ComposeConfigCommand extends ComposeFileCommand {
  static override usage = TsctrCommand.Usage({
    category,
    description: 'Parse, resolve and render compose file in canonical format',
    details: `
      Reads the project's files as \`compose up\` does (discovery or -f, merged in order, .env and
      --env-file, variables interpolated, checked against the Compose Specification's schema) and
      prints the result in docker compose's canonical form: long syntax, absolute paths, sorted keys.
    `,
    examples: [['Check the files only', '$0 compose config -q'], ['The services', '$0 compose config --services']],
  });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only validate the configuration, don\'t print anything' });
  services = Option.Boolean('--services', false, { description: 'Print the service names, one per line' });
  volumes = Option.Boolean('--volumes', false, { description: 'Print the volume names, one per line' });
  profiles = Option.Boolean('--profiles', false, { description: 'Print the profile names, one per line' });
  images = Option.Boolean('--images', false, { description: 'Print the image names, one per line' });
  hash = Option.String('--hash', { description: 'Print the service config hash, one per line ("*" for all)' });
  format = Option.String('--format', { description: 'Format the output. Values: [yaml | json]' });
  output = Option.String('-o,--output', { description: 'Save to file (default to stdout)' });

  async run(): Promise<number> {
    const { ComposeError } = await import('../compose/errors.js');
    if (this.format !== undefined && this.format !== 'yaml' && this.format !== 'json') throw new ComposeError(`unsupported format "${this.format}"`);
    const p = await this.loadProject();
    if (this.quiet) return 0;
    const lines = (list: string[]) => list.map((l) => `${l}\n`).join('');
    let text: string;
    if (this.services) text = lines(Object.keys(p.services));
    else if (this.volumes) text = lines(Object.keys(p.volumes));
    else if (this.profiles) text = lines((await import('../compose/config-output.js')).allProfiles(p));
    else if (this.images) {
      const { serviceImageName } = await import('../compose/config-output.js');
      text = lines(Object.values(p.services).map((s) => serviceImageName(p, s)));
    } else if (this.hash !== undefined) {
      const hashes = (await import('../compose/hash.js')).serviceHashes(p);
      const wanted = this.hash === '*' ? Object.keys(p.services) : this.hash.split(',').map((s) => s.trim());
      const out: string[] = [];
      for (const name of wanted) {
        if (!p.services[name]) throw new ComposeError(`no such service: ${name}`);
        out.push(`${name} ${hashes[name]}`);
      }
      text = lines(out);
    } else {
      const { configTree, configYaml } = await import('../compose/config-output.js');
      text = this.format === 'json' ? `${JSON.stringify(configTree(p), null, 2)}\n` : await configYaml(p);
    }
    if (this.output) {
      const fs = await import('node:fs');
      fs.writeFileSync(this.output, text);
    } else this.write(text);
    return 0;
  }
}

export class ComposeConvertCommand extends ComposeConfigCommand {
  static override usage = TsctrCommand.Usage({
    category,
    description: 'Convert the project: the compose file (as config), or Kubernetes objects with --kube',
    details: `
      Without --kube, the same as \`compose config\` (docker compose's alias). With --kube, the
      project as Kubernetes YAML: a Deployment per service (replicas, command, environment, ports,
      limits, health check as a liveness probe, mounts), a Service per service with ports, a
      PersistentVolumeClaim per named volume; \`tsctr play kube\` runs it, and so does a cluster.
    `,
    examples: [['Kubernetes YAML', '$0 compose convert --kube > app.yaml']],
  });
  kube = Option.Boolean('--kube', false, { description: 'Write Kubernetes Deployments, Services and PersistentVolumeClaims' });

  override async run(): Promise<number> {
    if (!this.kube) return super.run();
    const p = await this.loadProject();
    const text = await (await import('../compose/kube.js')).kubeYaml(p);
    if (this.output) (await import('node:fs')).writeFileSync(this.output, text);
    else this.write(text);
    return 0;
  }
}
