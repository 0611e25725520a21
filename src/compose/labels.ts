/** docker compose v2's labels and object names: how a project's containers, networks and volumes are found again. */
export const LABEL = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  hash: 'com.docker.compose.config-hash',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  oneoff: 'com.docker.compose.oneoff',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
  version: 'com.docker.compose.version',
} as const;

export const containerName = (project: string, service: string, n: number) => `${project}-${service}-${n}`;
export const resourceName = (project: string, name: string) => `${project}_${name}`;
/** The image `build:` makes when the service names none (docker compose v2: PROJECT-SERVICE). */
export const builtImageName = (project: string, service: string) => `${project}-${service}`;
