/**
 * The module of each top-level verb, so that one invocation evaluates one command file and what it
 * imports, not all of them. Verbs not listed here (groups such as `container`, `image`, `system`,
 * aliases such as `doctor`, help) load every command through ./index.ts. A unit test checks that
 * every listed module exports the commands whose first word is its verb.
 */
type CommandModule = Record<string, unknown>;

export const verbModules: Record<string, () => Promise<CommandModule>> = {
  run: () => import('./run.js'),
  create: () => import('./create.js'),
  start: () => import('./start.js'),
  stop: () => import('./stop.js'),
  restart: () => import('./restart.js'),
  kill: () => import('./kill.js'),
  rm: () => import('./rm.js'),
  wait: () => import('./wait.js'),
  ps: () => import('./ps.js'),
  logs: () => import('./logs.js'),
  exec: () => import('./exec.js'),
  rename: () => import('./rename.js'),
  port: () => import('./port.js'),
  top: () => import('./top.js'),
  cp: () => import('./cp.js'),
  export: () => import('./export.js'),
  volume: () => import('./volume.js'),
  network: () => import('./network.js'),
  pull: () => import('./pull.js'),
  push: () => import('./push.js'),
  images: () => import('./images.js'),
  rmi: () => import('./rmi.js'),
  tag: () => import('./tag.js'),
  history: () => import('./history.js'),
  commit: () => import('./commit.js'),
  build: () => import('./build.js'),
  generate: () => import('./generate.js'),
  play: () => import('./play.js'),
  pod: () => import('./pod.js'),
  internal: () => import('./internal.js'),
  save: () => import('./save.js'),
  load: () => import('./load.js'),
  import: () => import('./import.js'),
  inspect: () => import('./inspect.js'),
  login: () => import('./login.js'),
  logout: () => import('./logout.js'),
  version: () => import('./version.js'),
  info: () => import('./info.js'),
};
