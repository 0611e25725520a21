/**
 * Every command of the CLI, once. Its paths (docker's verbs, docker's noun forms such as
 * `container ls`, podman's aliases) are given here, not in the command classes: from this table
 * come clipanion's registration (index.ts sets each class's paths from it), the verb list and
 * unknown-verb suggestions, the choice of the one module a command line loads (main.ts), the SEA
 * loader's code-cache keys (runtime/sea-loader.ts) and the reference (`npm run docs`).
 *
 * Plain data, no imports: the SEA loader bundles this file, and main.ts reads it before anything else.
 *
 * To add a command: write src/commands/FILE.ts exporting the class (without `static paths`), and
 * add one line below. Order is `tsctr --help`'s order within each category.
 */
export interface CommandEntry {
  /** src/commands/FILE.ts */
  readonly file: string;
  /** The class FILE exports. */
  readonly name: string;
  /** The first is the command's name, the others aliases; each a list of words. */
  readonly paths: readonly (readonly string[])[];
}

const cmd = (file: string, name: string, paths: string[]): CommandEntry => ({ file, name, paths: paths.map((p) => p.split(' ')) });

export const COMMANDS: readonly CommandEntry[] = [
  cmd('run', 'RunCommand', ['run', 'container run']),
  cmd('create', 'CreateCommand', ['create', 'container create']),
  cmd('start', 'StartCommand', ['start', 'container start']),
  cmd('stop', 'StopCommand', ['stop', 'container stop']),
  cmd('restart', 'RestartCommand', ['restart', 'container restart']),
  cmd('kill', 'KillCommand', ['kill', 'container kill']),
  cmd('rm', 'RmCommand', ['rm', 'container rm', 'container remove']),
  cmd('wait', 'WaitCommand', ['wait', 'container wait']),
  cmd('ps', 'PsCommand', ['ps', 'container ls', 'container list']),
  cmd('logs', 'LogsCommand', ['logs', 'container logs']),
  cmd('exec', 'ExecCommand', ['exec', 'container exec']),
  cmd('rename', 'RenameCommand', ['rename', 'container rename']),
  cmd('port', 'PortCommand', ['port', 'container port']),
  cmd('top', 'TopCommand', ['top', 'container top']),
  cmd('cp', 'CpCommand', ['cp', 'container cp']),
  cmd('export', 'ExportCommand', ['export', 'container export']),
  cmd('pause', 'PauseCommand', ['pause', 'container pause']),
  cmd('pause', 'UnpauseCommand', ['unpause', 'container unpause']),
  cmd('stats', 'StatsCommand', ['stats', 'container stats']),
  cmd('diff', 'DiffCommand', ['diff', 'container diff']),
  cmd('attach', 'AttachCommand', ['attach', 'container attach']),
  cmd('update', 'UpdateCommand', ['update', 'container update']),
  cmd('exists', 'ContainerExistsCommand', ['container exists']),
  cmd('healthcheck', 'HealthcheckRunCommand', ['healthcheck run']),
  cmd('container-cleanup', 'ContainerCleanupCommand', ['container cleanup']),
  cmd('container-prune', 'ContainerPruneCommand', ['container prune']),
  cmd('volume', 'VolumeCreateCommand', ['volume create']),
  cmd('volume', 'VolumeLsCommand', ['volume ls', 'volume list']),
  cmd('volume', 'VolumeInspectCommand', ['volume inspect']),
  cmd('volume', 'VolumeRmCommand', ['volume rm', 'volume remove']),
  cmd('volume', 'VolumePruneCommand', ['volume prune']),
  cmd('exists', 'VolumeExistsCommand', ['volume exists']),
  cmd('network', 'NetworkCreateCommand', ['network create']),
  cmd('network', 'NetworkLsCommand', ['network ls', 'network list']),
  cmd('network', 'NetworkInspectCommand', ['network inspect']),
  cmd('network', 'NetworkRmCommand', ['network rm', 'network remove']),
  cmd('network', 'NetworkPruneCommand', ['network prune']),
  cmd('network', 'NetworkConnectCommand', ['network connect']),
  cmd('network', 'NetworkDisconnectCommand', ['network disconnect']),
  cmd('pull', 'PullCommand', ['pull', 'image pull']),
  cmd('push', 'PushCommand', ['push', 'image push']),
  cmd('search', 'SearchCommand', ['search']),
  cmd('images', 'ImagesCommand', ['images', 'image ls', 'image list']),
  cmd('rmi', 'RmiCommand', ['rmi', 'image rm', 'image remove']),
  cmd('tag', 'TagCommand', ['tag', 'image tag']),
  cmd('exists', 'ImageExistsCommand', ['image exists']),
  cmd('history', 'HistoryCommand', ['history', 'image history']),
  cmd('commit', 'CommitCommand', ['commit', 'container commit']),
  cmd('build', 'BuildCommand', ['build', 'image build', 'builder build']),
  cmd('generate', 'GenerateSystemdCommand', ['generate systemd']),
  cmd('generate', 'GenerateKubeCommand', ['generate kube', 'kube generate']),
  cmd('play', 'PlayKubeCommand', ['play kube', 'kube play']),
  cmd('pod', 'PodCreateCommand', ['pod create']),
  cmd('pod', 'PodPsCommand', ['pod ps', 'pod ls', 'pod list']),
  cmd('pod', 'PodRmCommand', ['pod rm']),
  cmd('pod', 'PodStartCommand', ['pod start']),
  cmd('pod', 'PodStopCommand', ['pod stop']),
  cmd('compose', 'ComposeUpCommand', ['compose up']),
  cmd('compose', 'ComposeDownCommand', ['compose down']),
  cmd('compose', 'ComposePsCommand', ['compose ps']),
  cmd('compose', 'ComposeLogsCommand', ['compose logs']),
  cmd('compose', 'ComposeExecCommand', ['compose exec']),
  cmd('compose', 'ComposeRunCommand', ['compose run']),
  cmd('compose', 'ComposeBuildCommand', ['compose build']),
  cmd('compose', 'ComposePullCommand', ['compose pull']),
  cmd('compose', 'ComposePushCommand', ['compose push']),
  cmd('compose', 'ComposeStartCommand', ['compose start']),
  cmd('compose', 'ComposeStopCommand', ['compose stop']),
  cmd('compose', 'ComposeRestartCommand', ['compose restart']),
  cmd('compose', 'ComposeKillCommand', ['compose kill']),
  cmd('compose', 'ComposeRmCommand', ['compose rm']),
  cmd('compose', 'ComposeTopCommand', ['compose top']),
  cmd('compose', 'ComposePortCommand', ['compose port']),
  cmd('compose', 'ComposeImagesCommand', ['compose images']),
  cmd('compose', 'ComposeLsCommand', ['compose ls']),
  cmd('save', 'SaveCommand', ['save', 'image save']),
  cmd('load', 'LoadCommand', ['load', 'image load']),
  cmd('import', 'ImportCommand', ['import', 'image import']),
  cmd('inspect', 'InspectCommand', ['inspect', 'image inspect', 'container inspect']),
  cmd('login', 'LoginCommand', ['login']),
  cmd('logout', 'LogoutCommand', ['logout']),
  cmd('image-prune', 'ImagePruneCommand', ['image prune']),
  cmd('compose-config', 'ComposeConfigCommand', ['compose config']),
  cmd('compose-config', 'ComposeConvertCommand', ['compose convert']),
  cmd('version', 'VersionCommand', ['version']),
  cmd('system-check', 'SystemCheckCommand', ['system check', 'doctor']),
  cmd('info', 'InfoCommand', ['info', 'system info']),
  cmd('system-df', 'SystemDfCommand', ['system df']),
  cmd('system-prune', 'SystemPruneCommand', ['system prune']),
  cmd('system-reset', 'SystemResetCommand', ['system reset']),
  cmd('system-service', 'SystemServiceCommand', ['system service']),
  cmd('system-dial-stdio', 'SystemDialStdioCommand', ['system dial-stdio']),
  cmd('events', 'EventsCommand', ['events', 'system events']),
];
