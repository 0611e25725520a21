/** `compose …`: docker compose v2's verbs over the compose use cases (src/engine/compose.ts). */
import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';
import type { ProjectContainer, Reporter, RtProject } from '../engine/compose.js';

const category = 'Compose';

abstract class ComposeCommand extends TsctrCommand {
  file = Option.Array('-f,--file', [], { description: 'Compose configuration files' });
  projectName = Option.String('-p,--project-name', { description: 'Project name' });
  projectDirectory = Option.String('--project-directory', { description: 'Specify an alternate working directory (default: the path of the first compose file)' });
  envFile = Option.Array('--env-file', [], { description: 'Specify an alternate environment file' });
  profile = Option.Array('--profile', [], { description: 'Specify a profile to enable' });

  /** The project of the files; for verbs that only need the containers, `-p NAME` alone also does. */
  async project(nameOnly = false): Promise<RtProject> {
    const { loadComposeProject, projectByName } = await import('../engine/compose.js');
    try {
      return await loadComposeProject({ files: this.file, projectName: this.projectName, projectDirectory: this.projectDirectory, envFiles: this.envFile, profiles: this.profile }, this.reporter().warn);
    } catch (e) {
      if (nameOnly && this.projectName && !this.file.length && /no configuration file/.test((e as Error).message)) return projectByName(this.projectName);
      throw e;
    }
  }

  reporter(): Reporter {
    const err = this.context.stderr;
    return {
      progress: (kind, name, state) => err.write(` ${kind} ${name}  ${state}\n`),
      warn: (m) => err.write(`WARN[0000] ${m}\n`),
      out: err,
    };
  }

  async timeoutValue(t: string | undefined): Promise<number | undefined> {
    if (t === undefined) return undefined;
    const n = Number(t);
    if (!Number.isInteger(n)) throw new (await import('../errors.js')).TsctrError(`invalid argument "${t}" for "-t, --timeout" flag: strconv.ParseInt: parsing "${t}": invalid syntax`);
    return n;
  }
}

async function parseScale(values: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of values) {
    const m = /^([^=]+)=(\d+)$/.exec(v);
    if (!m) throw new (await import('../errors.js')).TsctrError(`invalid --scale value ${v}: use SERVICE=NUM`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

const COLOURS = [36, 33, 32, 35, 34, 91, 96, 93, 92, 95, 94];

/** Prints the containers' logs with docker compose's `web-1  | ` prefixes; following, until all stopped (or the signal). */
async function streamLogs(p: RtProject, cs: ProjectContainer[], o: { follow: boolean; tail: number; timestamps: boolean; noPrefix?: boolean; stop?: AbortSignal }): Promise<void> {
  const { containerLogs } = await import('../engine/containers.js');
  const { isTerminal, writeFd } = await import('../util/stdout.js');
  const colour = isTerminal(1);
  const label = (c: ProjectContainer) => (c.record.name.startsWith(`${p.name}-`) ? c.record.name.slice(p.name.length + 1) : c.record.name);
  const width = Math.max(0, ...cs.map((c) => label(c).length));
  await Promise.all(
    cs.map(async (c, i) => {
      const pad = label(c).padEnd(width);
      const prefix = o.noPrefix ? '' : colour ? `\x1b[${COLOURS[i % COLOURS.length]}m${pad}  |\x1b[0m ` : `${pad}  | `;
      let partial = '';
      for await (const batch of containerLogs(c.record.id, { tail: o.tail, follow: o.follow })) {
        let text = '';
        for (const r of batch) {
          partial += o.timestamps && !partial ? `${r.time} ${r.text}` : r.text;
          if (partial.endsWith('\n')) {
            text += partial.split('\n').slice(0, -1).map((l) => `${prefix}${l}\n`).join('');
            partial = '';
          }
        }
        if (text) writeFd(1, text);
        if (o.stop?.aborted) return;
      }
      if (partial) writeFd(1, `${prefix}${partial}\n`);
    }),
  );
}

export class ComposeUpCommand extends ComposeCommand {
  static override usage = TsctrCommand.Usage({
    category,
    description: 'Create and start containers',
    details: `
      Creates the project's networks and volumes, then each service's containers in dependency
      order (depends_on conditions: service_started, service_healthy, service_completed_successfully),
      recreating only those whose configuration changed. Attached, it prints the containers' logs
      with per-service prefixes until they stop; Ctrl-C stops the project.
    `,
    examples: [['In the background', '$0 compose up -d'], ['Three web replicas', '$0 compose up -d --scale web=3']],
  });
  detach = Option.Boolean('-d,--detach', false, { description: 'Detached mode: Run containers in the background' });
  build = Option.Boolean('--build', false, { description: 'Build images before starting containers' });
  noBuild = Option.Boolean('--no-build', false, { description: "Don't build an image, even if it's missing" });
  forceRecreate = Option.Boolean('--force-recreate', false, { description: "Recreate containers even if their configuration and image haven't changed" });
  noRecreate = Option.Boolean('--no-recreate', false, { description: "If containers already exist, don't recreate them" });
  noDeps = Option.Boolean('--no-deps', false, { description: "Don't start linked services" });
  noStart = Option.Boolean('--no-start', false, { description: "Don't start the services after creating them" });
  removeOrphans = Option.Boolean('--remove-orphans', false, { description: 'Remove containers for services not defined in the Compose file' });
  scale = Option.Array('--scale', [], { description: 'Scale SERVICE to NUM instances (SERVICE=NUM)' });
  wait = Option.Boolean('--wait', false, { description: 'Wait for services to be running|healthy. Implies detached mode' });
  timeout = Option.String('-t,--timeout', { description: 'Use this timeout in seconds for container shutdown (attached mode)' });
  services = Option.Rest();

  async run(): Promise<number> {
    const { TsctrError } = await import('../errors.js');
    if (this.forceRecreate && this.noRecreate) throw new TsctrError('--force-recreate and --no-recreate are incompatible');
    const timeout = await this.timeoutValue(this.timeout);
    const p = await this.project();
    const { composeUp, composeStop, selectContainers } = await import('../engine/compose.js');
    const r = this.reporter();
    await composeUp(p, { services: this.services, build: this.build, noBuild: this.noBuild, forceRecreate: this.forceRecreate, noRecreate: this.noRecreate, removeOrphans: this.removeOrphans, scale: await parseScale(this.scale), wait: this.wait, noDeps: this.noDeps, noStart: this.noStart }, r);
    if (this.detach || this.wait || this.noStart) return 0;
    // Attached: the logs until everything stopped; the first Ctrl-C stops the project, the second kills.
    const cs = await selectContainers(p, this.services);
    const stop = new AbortController();
    let stopping: Promise<void> | undefined;
    const onSignal = () => {
      if (stopping) process.exit(130);
      this.context.stderr.write('Gracefully stopping... (press Ctrl+C again to force)\n');
      stop.abort();
      stopping = composeStop(p, this.services, r, timeout);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    await streamLogs(p, cs, { follow: true, tail: -1, timestamps: false, stop: stop.signal });
    if (stopping) await stopping;
    return stopping ? 130 : 0;
  }
}

export class ComposeDownCommand extends ComposeCommand {
  static override usage = TsctrCommand.Usage({ category, description: 'Stop and remove containers, networks', examples: [['And the named volumes', '$0 compose down -v']] });
  volumes = Option.Boolean('-v,--volumes', false, { description: 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers' });
  rmi = Option.String('--rmi', { description: 'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")' });
  removeOrphans = Option.Boolean('--remove-orphans', false, { description: 'Remove containers for services not defined in the Compose file' });
  timeout = Option.String('-t,--timeout', { description: 'Specify a shutdown timeout in seconds' });

  async run(): Promise<void> {
    const { TsctrError } = await import('../errors.js');
    if (this.rmi !== undefined && this.rmi !== 'local' && this.rmi !== 'all') throw new TsctrError(`invalid value for --rmi: ${this.rmi}`);
    const timeout = await this.timeoutValue(this.timeout);
    const p = await this.project(true);
    const { composeDown } = await import('../engine/compose.js');
    await composeDown(p, { volumes: this.volumes, removeOrphans: this.removeOrphans || !Object.keys(p.services).length, timeout, rmi: this.rmi as 'local' | 'all' | undefined }, this.reporter());
  }
}

export class ComposePsCommand extends ComposeCommand {
  static override usage = TsctrCommand.Usage({ category, description: 'List containers' });
  all = Option.Boolean('-a,--all', false, { description: 'Show all stopped containers (including those created by the run command)' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only display IDs' });
  servicesOnly = Option.Boolean('--services', false, { description: 'Display services' });
  format = Option.String('--format', { description: 'Format output using a custom template: "table" (default), "json", or a Go template' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: "Don't truncate output" });
  services = Option.Rest();

  async run(): Promise<void> {
    const p = await this.project(true);
    const { composePs } = await import('../engine/compose.js');
    const rows = await composePs(p, { all: this.all, services: this.services });
    if (this.quiet) return void this.write(rows.map((r) => `${r.ID}\n`).join(''));
    if (this.servicesOnly) return void this.write([...new Set(rows.map((r) => r.Service))].map((s) => `${s}\n`).join(''));
    const { formatRows } = await import('../util/template.js');
    const def = 'table {{.Names}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}';
    const format = this.format === 'json' ? '{{json .}}' : this.format === 'table' || !this.format ? def : this.format;
    this.write(formatRows(format, rows.map((r) => ({ ...r, Name: r.Names })), { Names: 'NAME', Name: 'NAME', Image: 'IMAGE', Command: 'COMMAND', Service: 'SERVICE', RunningFor: 'CREATED', Status: 'STATUS', Ports: 'PORTS', ID: 'CONTAINER ID', State: 'STATE', Project: 'PROJECT' }, def));
  }
}

export class ComposeLogsCommand extends ComposeCommand {
  static override usage = TsctrCommand.Usage({ category, description: 'View output from containers' });
  // Its -f is --follow / --force: the file only by its long name (or before the verb).
  override file = Option.Array('--file', [], { description: 'Compose configuration files' });
  follow = Option.Boolean('-f,--follow', false, { description: 'Follow log output' });
  tail = Option.String('-n,--tail', 'all', { description: 'Number of lines to show from the end of the logs for each container' });
  timestamps = Option.Boolean('-t,--timestamps', false, { description: 'Show timestamps' });
  noPrefix = Option.Boolean('--no-prefix', false, { description: "Don't print prefix in logs" });
  noColor = Option.Boolean('--no-color', false, { description: 'Produce monochrome output' });
  services = Option.Rest();

  async run(): Promise<void> {
    const { TsctrError } = await import('../errors.js');
    const tail = this.tail === 'all' ? -1 : Number(this.tail);
    if (!Number.isInteger(tail)) throw new TsctrError(`invalid value for --tail: ${this.tail}`);
    const p = await this.project(true);
    const { selectContainers } = await import('../engine/compose.js');
    await streamLogs(p, await selectContainers(p, this.services), { follow: this.follow, tail, timestamps: this.timestamps, noPrefix: this.noPrefix });
  }
}

export class ComposeExecCommand extends ComposeCommand {
  static override usage = TsctrCommand.Usage({ category, description: 'Execute a command in a running container' });
  detach = Option.Boolean('-d,--detach', false, { description: 'Detached mode: Run command in the background' });
  env = Option.Array('-e,--env', [], { description: 'Set environment variables' });
  index = Option.String('--index', '1', { description: 'Index of the container if service has multiple replicas' });
  noTty = Option.Boolean('-T,--no-TTY', false, { description: 'Disable pseudo-TTY allocation. By default `exec` allocates a TTY' });
  user = Option.String('-u,--user', { description: 'Run the command as this user' });
  workdir = Option.String('-w,--workdir', { description: 'Path to workdir directory for this command' });
  service = Option.String();
  command = Option.Proxy({ required: 1 });

  async run(): Promise<number> {
    const p = await this.project(true);
    const { composeExec } = await import('../engine/compose.js');
    const { isTerminal } = await import('../util/stdout.js');
    const tty = !this.noTty && !this.detach && isTerminal(0) && isTerminal(1);
    return composeExec(p, this.service, Number(this.index), { command: this.command, interactive: !this.detach, tty, detach: this.detach, env: this.env, envFile: [], user: this.user, workdir: this.workdir });
  }
}

export class ComposeRunCommand extends ComposeCommand {
  static override usage = TsctrCommand.Usage({ category, description: 'Run a one-off command on a service' });
  detach = Option.Boolean('-d,--detach', false, { description: 'Run container in background and print container ID' });
  rm = Option.Boolean('--rm', false, { description: 'Automatically remove the container when it exits' });
  env = Option.Array('-e,--env', [], { description: 'Set environment variables' });
  noDeps = Option.Boolean('--no-deps', false, { description: "Don't start linked services" });
  name = Option.String('--name', { description: 'Assign a name to the container' });
  entrypoint = Option.String('--entrypoint', { description: 'Override the entrypoint of the image' });
  noTty = Option.Boolean('-T,--no-TTY', false, { description: 'Disable pseudo-TTY allocation' });
  interactive = Option.Boolean('-i,--interactive', true, { description: 'Keep STDIN open even if not attached' });
  servicePorts = Option.Boolean('-P,--service-ports', false, { description: "Run command with all service's ports enabled and mapped to the host" });
  service = Option.String();
  command = Option.Proxy();

  async run(): Promise<number> {
    const p = await this.project();
    const { composeRun } = await import('../engine/compose.js');
    const { isTerminal } = await import('../util/stdout.js');
    const tty = !this.noTty && !this.detach && isTerminal(0) && isTerminal(1);
    return composeRun(p, { service: this.service, command: this.command, entrypoint: this.entrypoint !== undefined ? [this.entrypoint] : undefined, env: this.env, rm: this.rm, noDeps: this.noDeps, detach: this.detach, interactive: this.interactive && !this.detach && isTerminal(0), tty, name: this.name, servicePorts: this.servicePorts }, this.reporter());
  }
}

export class ComposeBuildCommand extends ComposeCommand {
  static override usage = TsctrCommand.Usage({ category, description: 'Build or rebuild services' });
  noCache = Option.Boolean('--no-cache', false, { description: 'Do not use cache when building the image' });
  pull = Option.Boolean('--pull', false, { description: 'Always attempt to pull a newer version of the image' });
  quiet = Option.Boolean('-q,--quiet', false, { description: "Don't print anything to STDOUT" });
  services = Option.Rest();

  async run(): Promise<void> {
    const p = await this.project();
    const { buildServices } = await import('../engine/compose.js');
    await buildServices(p, this.services, { noCache: this.noCache, pull: this.pull, quiet: this.quiet }, this.reporter());
  }
}

export class ComposePullCommand extends ComposeCommand {
  static override usage = TsctrCommand.Usage({ category, description: 'Pull service images' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Pull without printing progress information' });
  ignoreBuildable = Option.Boolean('--ignore-buildable', false, { description: 'Ignore images that can be built' });
  services = Option.Rest();

  async run(): Promise<number | void> {
    const p = await this.project();
    const { pullServices } = await import('../engine/compose.js');
    await pullServices(p, this.services, { quiet: this.quiet, ignoreBuildable: this.ignoreBuildable }, this.reporter());
  }
}

export class ComposePushCommand extends ComposeCommand {
  static override usage = TsctrCommand.Usage({ category, description: 'Push service images' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Push without printing progress information' });
  services = Option.Rest();

  async run(): Promise<number | void> {
    const p = await this.project();
    const { pushServices } = await import('../engine/compose.js');
    await pushServices(p, this.services, { quiet: this.quiet }, this.reporter());
  }
}

export class ComposeStartCommand extends ComposeCommand {
  static override usage = TsctrCommand.Usage({ category, description: 'Start services' });
  services = Option.Rest();
  async run(): Promise<void> {
    const p = await this.project(true);
    await (await import('../engine/compose.js')).composeStart(p, this.services, this.reporter());
  }
}

export class ComposeStopCommand extends ComposeCommand {
  static override usage = TsctrCommand.Usage({ category, description: 'Stop services' });
  timeout = Option.String('-t,--timeout', { description: 'Specify a shutdown timeout in seconds' });
  services = Option.Rest();
  async run(): Promise<void> {
    const timeout = await this.timeoutValue(this.timeout);
    const p = await this.project(true);
    await (await import('../engine/compose.js')).composeStop(p, this.services, this.reporter(), timeout);
  }
}

export class ComposeRestartCommand extends ComposeCommand {
  static override usage = TsctrCommand.Usage({ category, description: 'Restart service containers' });
  timeout = Option.String('-t,--timeout', { description: 'Specify a shutdown timeout in seconds' });
  services = Option.Rest();
  async run(): Promise<void> {
    const timeout = await this.timeoutValue(this.timeout);
    const p = await this.project(true);
    await (await import('../engine/compose.js')).composeRestart(p, this.services, this.reporter(), timeout);
  }
}

export class ComposeKillCommand extends ComposeCommand {
  static override usage = TsctrCommand.Usage({ category, description: 'Force stop service containers' });
  signal = Option.String('-s,--signal', 'SIGKILL', { description: 'SIGNAL to send to the container' });
  services = Option.Rest();
  async run(): Promise<void> {
    const p = await this.project(true);
    await (await import('../engine/compose.js')).composeKill(p, this.services, this.signal, this.reporter());
  }
}

export class ComposeRmCommand extends ComposeCommand {
  static override usage = TsctrCommand.Usage({ category, description: 'Removes stopped service containers' });
  // Its -f is --follow / --force: the file only by its long name (or before the verb).
  override file = Option.Array('--file', [], { description: 'Compose configuration files' });
  force = Option.Boolean('-f,--force', false, { description: "Don't ask to confirm removal" });
  stop = Option.Boolean('-s,--stop', false, { description: 'Stop the containers, if required, before removing' });
  volumes = Option.Boolean('-v,--volumes', false, { description: 'Remove any anonymous volumes attached to containers' });
  services = Option.Rest();
  async run(): Promise<void> {
    const p = await this.project(true);
    // Without a terminal to ask on, as docker compose with -f: no prompt.
    await (await import('../engine/compose.js')).composeRm(p, this.services, { stop: this.stop, volumes: this.volumes }, this.reporter());
  }
}

export class ComposeTopCommand extends ComposeCommand {
  static override usage = TsctrCommand.Usage({ category, description: 'Display the running processes' });
  services = Option.Rest();
  async run(): Promise<void> {
    const p = await this.project(true);
    const { selectContainers } = await import('../engine/compose.js');
    const { topContainer } = await import('../engine/containers.js');
    for (const c of await selectContainers(p, this.services, false)) {
      const t = await topContainer(c.record.id, []);
      this.write(`${c.record.name}\n${t.stdout}\n`);
    }
  }
}

export class ComposePortCommand extends ComposeCommand {
  static override usage = TsctrCommand.Usage({ category, description: 'Print the public port for a port binding' });
  protocol = Option.String('--protocol', 'tcp', { description: 'tcp or udp' });
  index = Option.String('--index', '1', { description: 'Index of the container if service has multiple replicas' });
  service = Option.String();
  port = Option.String();
  async run(): Promise<number> {
    const p = await this.project(true);
    const { serviceContainer, servicePublished } = await import('../engine/compose.js');
    const published = await servicePublished(p, this.service, Number(this.port), this.protocol);
    if (published) {
      this.out(published);
      return 0;
    }
    const c = await serviceContainer(p, this.service, Number(this.index));
    const { containerPorts } = await import('../engine/containers.js');
    const ports = await containerPorts(c.record.id, { port: Number(this.port), protocol: this.protocol });
    if (!ports.length) throw new (await import('../errors.js')).TsctrError(`no port ${this.port}/${this.protocol} for container ${c.record.name}`);
    this.out(`${ports[0]!.hostIp || '0.0.0.0'}:${ports[0]!.hostPort}`);
    return 0;
  }
}

export class ComposeImagesCommand extends ComposeCommand {
  static override usage = TsctrCommand.Usage({ category, description: 'List images used by the created containers' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only display IDs' });
  services = Option.Rest();
  async run(): Promise<void> {
    const p = await this.project(true);
    const { composeImages } = await import('../engine/compose.js');
    const rows = await composeImages(p, this.services);
    if (this.quiet) return void this.write([...new Set(rows.map((r) => r.ID))].map((id) => `${id}\n`).join(''));
    const { formatRows } = await import('../util/template.js');
    const def = 'table {{.Container}}\t{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}';
    this.write(formatRows(def, rows, { Container: 'CONTAINER', Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', Size: 'SIZE' }, def));
  }
}

export class ComposeLsCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category, description: 'List running compose projects' });
  all = Option.Boolean('-a,--all', false, { description: 'Show all stopped Compose projects' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only display project names' });
  format = Option.String('--format', { description: 'Format the output: "table" or "json"' });
  async run(): Promise<void> {
    const rows = await (await import('../engine/compose.js')).composeLs(this.all);
    if (this.quiet) return void this.write(rows.map((r) => `${r.Name}\n`).join(''));
    if (this.format === 'json') return void this.out(JSON.stringify(rows));
    const { formatRows } = await import('../util/template.js');
    const def = 'table {{.Name}}\t{{.Status}}\t{{.ConfigFiles}}';
    this.write(formatRows(def, rows, { Name: 'NAME', Status: 'STATUS', ConfigFiles: 'CONFIG FILES' }, def));
  }
}
