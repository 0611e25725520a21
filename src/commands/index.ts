import { PullCommand } from './pull.js';
import { PushCommand } from './push.js';
import { ImagesCommand } from './images.js';
import { RmiCommand } from './rmi.js';
import { TagCommand } from './tag.js';
import { HistoryCommand } from './history.js';
import { CommitCommand } from './commit.js';
import { BuildCommand } from './build.js';
import { GenerateKubeCommand, GenerateSystemdCommand } from './generate.js';
import { PlayKubeCommand } from './play.js';
import { PodCreateCommand, PodPsCommand, PodRmCommand, PodStartCommand, PodStopCommand } from './pod.js';
import { InternalLayerCommand } from './internal.js';
import { InspectCommand } from './inspect.js';
import { LoginCommand } from './login.js';
import { LogoutCommand } from './logout.js';
import { VersionCommand } from './version.js';
import { ImagePruneCommand } from './image-prune.js';
import { RunCommand } from './run.js';
import { CreateCommand } from './create.js';
import { StartCommand } from './start.js';
import { StopCommand } from './stop.js';
import { RestartCommand } from './restart.js';
import { KillCommand } from './kill.js';
import { RmCommand } from './rm.js';
import { WaitCommand } from './wait.js';
import { PsCommand } from './ps.js';
import { LogsCommand } from './logs.js';
import { ExecCommand } from './exec.js';
import { RenameCommand } from './rename.js';
import { PortCommand } from './port.js';
import { TopCommand } from './top.js';
import { CpCommand } from './cp.js';
import { ExportCommand } from './export.js';
import { SaveCommand } from './save.js';
import { LoadCommand } from './load.js';
import { ImportCommand } from './import.js';
import { ContainerCleanupCommand } from './container-cleanup.js';
import { ContainerPruneCommand } from './container-prune.js';
import { VolumeCreateCommand, VolumeInspectCommand, VolumeLsCommand, VolumePruneCommand, VolumeRmCommand } from './volume.js';
import { SystemCheckCommand } from './system-check.js';
import { InfoCommand } from './info.js';
import { SystemDfCommand } from './system-df.js';
import { SystemPruneCommand } from './system-prune.js';
import { SystemResetCommand } from './system-reset.js';
import { PauseCommand, UnpauseCommand } from './pause.js';
import { ContainerExistsCommand, ImageExistsCommand, VolumeExistsCommand } from './exists.js';
import { HealthcheckRunCommand } from './healthcheck.js';
import { StatsCommand } from './stats.js';
import { DiffCommand } from './diff.js';
import { AttachCommand } from './attach.js';

export const commands = [
  RunCommand,
  CreateCommand,
  StartCommand,
  StopCommand,
  RestartCommand,
  KillCommand,
  RmCommand,
  WaitCommand,
  PsCommand,
  LogsCommand,
  ExecCommand,
  RenameCommand,
  PortCommand,
  TopCommand,
  CpCommand,
  ExportCommand,
  ContainerCleanupCommand,
  ContainerPruneCommand,
  VolumeCreateCommand,
  VolumeLsCommand,
  VolumeInspectCommand,
  VolumeRmCommand,
  VolumePruneCommand,
  PullCommand,
  PushCommand,
  ImagesCommand,
  RmiCommand,
  TagCommand,
  HistoryCommand,
  CommitCommand,
  BuildCommand,
  GenerateSystemdCommand,
  GenerateKubeCommand,
  PlayKubeCommand,
  PodCreateCommand,
  PodPsCommand,
  PodRmCommand,
  PodStartCommand,
  PodStopCommand,
  InternalLayerCommand,
  SaveCommand,
  LoadCommand,
  ImportCommand,
  InspectCommand,
  LoginCommand,
  LogoutCommand,
  ImagePruneCommand,
  VersionCommand,
  SystemCheckCommand,
  InfoCommand,
  SystemDfCommand,
  SystemPruneCommand,
  SystemResetCommand,
  PauseCommand,
  UnpauseCommand,
  ContainerExistsCommand,
  ImageExistsCommand,
  VolumeExistsCommand,
  HealthcheckRunCommand,
  StatsCommand,
  DiffCommand,
  AttachCommand,
];
