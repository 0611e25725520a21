/** The flags `run` and `create` share (docker's names), declared once. */
import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';
import type { RunOptions } from '../container/options.js';

export abstract class ContainerCreateCommand extends TsctrCommand {
  name = Option.String('--name', { description: 'Assign a name to the container' });
  hostname = Option.String('-h,--hostname', { description: 'Container host name' });
  env = Option.Array('-e,--env', [], { description: 'Set environment variables (K=V, or K to copy it)' });
  envFile = Option.Array('--env-file', [], { description: 'Read in a file of environment variables' });
  workdir = Option.String('-w,--workdir', { description: 'Working directory inside the container' });
  user = Option.String('-u,--user', { description: 'Username or UID (format: <name|uid>[:<group|gid>])' });
  entrypoint = Option.String('--entrypoint', { description: 'Overwrite the default ENTRYPOINT of the image' });
  volume = Option.Array('-v,--volume', [], { description: 'Bind mount a volume (/host:/ctr[:ro] or name:/ctr)' });
  mount = Option.Array('--mount', [], { description: 'Attach a filesystem mount to the container (type=bind|volume|tmpfs,source=,target=,readonly,...)' });
  tmpfs = Option.Array('--tmpfs', [], { description: 'Mount a tmpfs directory (/path[:options])' });
  readOnly = Option.Boolean('--read-only', false, { description: "Mount the container's root filesystem as read only" });
  init = Option.Boolean('--init', false, { description: 'Run an init inside the container that forwards signals and reaps processes' });
  ulimit = Option.Array('--ulimit', [], { description: 'Ulimit options (nofile=1024:4096)' });
  memory = Option.String('-m,--memory', { description: 'Memory limit (needs a delegated cgroup v2)' });
  cpus = Option.String('--cpus', { description: 'Number of CPUs (needs a delegated cgroup v2)' });
  pidsLimit = Option.String('--pids-limit', { description: 'Tune container pids limit (needs a delegated cgroup v2)' });
  restart = Option.String('--restart', { description: 'Restart policy: no, on-failure[:N], always, unless-stopped' });
  stopSignal = Option.String('--stop-signal', { description: 'Signal to stop the container' });
  stopTimeout = Option.String('--stop-timeout', { description: 'Timeout (in seconds) to stop a container' });
  label = Option.Array('-l,--label', [], { description: 'Set meta data on a container' });
  pull = Option.String('--pull', 'missing', { description: 'Pull image before running (always, missing, never)' });
  tty = Option.Boolean('-t,--tty', false, { description: 'Allocate a pseudo-TTY' });
  interactive = Option.Boolean('-i,--interactive', false, { description: 'Keep STDIN open even if not attached' });
  network = Option.String('--network,--net', { description: 'Network mode: slirp4netns (default), pasta (keeps client addresses), none, host, container:NAME' });
  publish = Option.Array('-p,--publish', [], { description: "Publish a container's port(s) to the host" });
  pod = Option.String('--pod', { description: "Run container in an existing pod (its network; ports are the pod's)" });
  publishAll = Option.Boolean('-P,--publish-all', false, { description: 'Publish all exposed ports to random ports' });
  platform = Option.String('--platform', { description: 'Set platform if the image is multi-platform' });
  capAdd = Option.Array('--cap-add', [], { description: 'Add Linux capabilities' });
  capDrop = Option.Array('--cap-drop', [], { description: 'Drop Linux capabilities' });
  logOpt = Option.Array('--log-opt', [], { description: 'Log driver options: max-size=10m (rotate at this size), max-file=3 (files kept)' });
  securityOpt = Option.Array('--security-opt', [], { description: 'Security options: seccomp=unconfined (no seccomp filter), no-new-privileges[=false] (on by default)' });
  healthCmd = Option.String('--health-cmd', { description: 'Command to run to check health' });
  healthInterval = Option.String('--health-interval', { description: 'Time between running the check (ms|s|m|h) (default 30s)' });
  healthTimeout = Option.String('--health-timeout', { description: 'Maximum time to allow one check to run (ms|s|m|h) (default 30s)' });
  healthRetries = Option.String('--health-retries', { description: 'Consecutive failures needed to report unhealthy' });
  healthStartPeriod = Option.String('--health-start-period', { description: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)' });
  healthStartInterval = Option.String('--health-start-interval', { description: 'Time between running the check during the start period (ms|s|m|h) (default 5s)' });
  noHealthcheck = Option.Boolean('--no-healthcheck', false, { description: 'Disable any container-specified HEALTHCHECK' });
  replace = Option.Boolean('--replace', false, { description: 'If a container with the same name exists, replace it (podman)' });
  image = Option.String({ name: 'IMAGE' });
  command = Option.Proxy({ name: 'COMMAND' });

  private healthFlags(): RunOptions['health'] {
    const f = {
      cmd: this.healthCmd, interval: this.healthInterval, timeout: this.healthTimeout, retries: this.healthRetries,
      startPeriod: this.healthStartPeriod, startInterval: this.healthStartInterval, none: this.noHealthcheck || undefined,
    };
    // Kept in the record only when given (ps reads every record).
    return Object.values(f).some((v) => v !== undefined) ? f : undefined;
  }

  /** podman's --replace: a container of that name goes first (stopped and removed, as rm -f). */
  protected async replaceExisting(): Promise<void> {
    if (this.replace && this.name) await (await import('../engine/extra.js')).replaceContainer(this.name);
  }

  protected runOptions(detach: boolean, rm: boolean): RunOptions {
    return {
      image: this.image,
      command: this.command,
      name: this.name,
      hostname: this.hostname,
      env: this.env,
      envFile: this.envFile,
      workdir: this.workdir,
      user: this.user,
      entrypoint: this.entrypoint,
      volumes: this.volume,
      tmpfs: this.tmpfs,
      mounts: this.mount,
      readOnly: this.readOnly,
      init: this.init,
      ulimits: this.ulimit,
      memory: this.memory,
      cpus: this.cpus,
      pidsLimit: this.pidsLimit,
      restart: this.restart,
      stopSignal: this.stopSignal,
      stopTimeout: this.stopTimeout === undefined ? undefined : Number(this.stopTimeout),
      labels: this.label,
      pull: this.pull,
      tty: this.tty,
      interactive: this.interactive,
      detach,
      rm,
      network: this.network,
      pod: this.pod,
      publish: this.publish,
      publishAll: this.publishAll,
      platform: this.platform,
      capAdd: this.capAdd,
      capDrop: this.capDrop,
      securityOpt: this.securityOpt,
      logOpt: this.logOpt,
      health: this.healthFlags(),
    };
  }
}
