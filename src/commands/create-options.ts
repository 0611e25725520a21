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
  network = Option.Array('--network,--net', [], { description: "Network: slirp4netns (default; also 'bridge'), pasta (keeps client addresses), none, host, container:NAME, or user networks by name (repeatable)" });
  networkAlias = Option.Array('--network-alias', [], { description: 'Add a network-scoped alias for the container (user networks)' });
  ip = Option.String('--ip', { description: 'IPv4 address on the (first) user network' });
  macAddress = Option.String('--mac-address', { description: 'MAC address on the (first) user network' });
  dns = Option.Array('--dns', [], { description: 'Set custom DNS servers' });
  dnsSearch = Option.Array('--dns-search', [], { description: 'Set custom DNS search domains' });
  dnsOption = Option.Array('--dns-option,--dns-opt', [], { description: 'Set DNS options' });
  addHost = Option.Array('--add-host', [], { description: 'Add a custom host-to-IP mapping (host:ip; ip may be host-gateway)' });
  publish = Option.Array('-p,--publish', [], { description: "Publish a container's port(s) to the host" });
  pod = Option.String('--pod', { description: "Run container in an existing pod (its network; ports are the pod's)" });
  publishAll = Option.Boolean('-P,--publish-all', false, { description: 'Publish all exposed ports to random ports' });
  platform = Option.String('--platform', { description: 'Set platform if the image is multi-platform' });
  capAdd = Option.Array('--cap-add', [], { description: 'Add Linux capabilities' });
  capDrop = Option.Array('--cap-drop', [], { description: 'Drop Linux capabilities' });
  logOpt = Option.Array('--log-opt', [], { description: 'Log driver options: max-size=10m (rotate at this size), max-file=3 (files kept)' });
  securityOpt = Option.Array('--security-opt', [], { description: 'Security options: seccomp=unconfined (no seccomp filter), no-new-privileges[=false] (on by default)' });
  image = Option.String({ name: 'IMAGE' });
  command = Option.Proxy({ name: 'COMMAND' });

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
      network: this.network[0],
      extraNetworks: this.network.slice(1),
      networkAlias: this.networkAlias,
      ip: this.ip,
      macAddress: this.macAddress,
      dns: this.dns,
      dnsSearch: this.dnsSearch,
      dnsOption: this.dnsOption,
      addHost: this.addHost,
      pod: this.pod,
      publish: this.publish,
      publishAll: this.publishAll,
      platform: this.platform,
      capAdd: this.capAdd,
      capDrop: this.capDrop,
      securityOpt: this.securityOpt,
      logOpt: this.logOpt,
    };
  }
}
