/**
 * `generate systemd`: a systemd user unit that starts, stops and restarts a container. With no
 * daemon, the container's monitor is the service's main process: `tsctr start` (or `run -d`)
 * forks it and exits once the container runs, so the unit is Type=forking and finds the monitor
 * through PIDFile= (written by --monitor-pidfile); the container, its network helpers and the
 * monitor all live in the unit's cgroup, so systemd sees them and cleans up after them.
 */
import { TsctrError } from '../errors.js';
import { selfCommand } from '../rootless/userns.js';
import { flagTakesValue } from '../container/options.js';
import { VERSION } from '../version.js';
import type { ContainerRecord } from '../container/types.js';

export interface SystemdOptions {
  /** Create the container afresh at each start from the options it was created with. */
  fresh: boolean;
  /** Restart= (default: from the container's restart policy, else on-failure, as podman). */
  restartPolicy?: string;
  /** Seconds `stop` waits before SIGKILL (default: the container's stop timeout). */
  stopTimeout?: number;
  /** The CLI's global flags that take a value: the stored command line may hold them, the unit sets its own. */
  globalFlags: ReadonlySet<string>;
}

const RESTART = ['no', 'on-success', 'on-failure', 'on-abnormal', 'on-watchdog', 'on-abort', 'always'];
/** Environment that decides which store and registries tsctr uses: the unit must use the same. */
const CARRIED_ENV = ['TSCTR_ROOT', 'TSCTR_RUNROOT', 'TSCTR_REGISTRIES_CONF', 'TSCTR_STORAGE_DRIVER', 'REGISTRY_AUTH_FILE'];

/** One word of an Exec line: systemd's quoting, with % and $ doubled so nothing is expanded. */
export function execWord(w: string): string {
  const escaped = w.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function unitName(c: ContainerRecord): string {
  return `container-${c.name}.service`;
}

/** What the unit decides itself, dropped from the command line a container was created with. */
const UNIT_OWN = new Set(['-d', '--detach', '--name', '--rm', '-t', '--tty', '-i', '--interactive', '--monitor-pidfile']);
const UNIT_OWN_SHORT = new Set(['d', 't', 'i']);

/**
 * The `run` arguments that create the container again: its create command line (as typed, after
 * the verb) without the flags the unit sets itself (detach, name, --rm, terminals, the pid file)
 * and without global options (the unit's tsctr carries its own). Everything from the image on is
 * kept as it is: that is the container's command.
 */
export function unitRunArgs(c: ContainerRecord, globalFlags: ReadonlySet<string>): string[] {
  const line = c.createCommand;
  if (!line?.length) {
    const why = 'createOptions' in c ? 'was created by an older tsctr that did not keep its command line' : 'was not created from a command line (pod create, play kube and build make their containers themselves)';
    throw new TsctrError(`container ${c.name} ${why}: --new cannot recreate it; generate the unit without --new`);
  }
  const out: string[] = [];
  for (let i = 0; i < line.length; i++) {
    const a = line[i]!;
    if (a === '--' || !a.startsWith('-') || a === '-') {
      out.push(...line.slice(i));
      break;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const global = globalFlags.has(name);
    if (a.startsWith('--') || a.length === 2) {
      const takesValue = global || name === '--monitor-pidfile' || (flagTakesValue(name) ?? false);
      const value = takesValue && eq < 0 ? line[++i] : undefined;
      if (UNIT_OWN.has(name) || global) continue;
      out.push(a, ...(value !== undefined ? [value] : []));
      continue;
    }
    // Bundled short flags (`-dit`, `-itp 80`): the unit's own letters go, the rest stays as it was.
    const letters = [...a.slice(1)];
    const valueAt = letters.findIndex((ch) => flagTakesValue(`-${ch}`));
    const kept = letters.filter((ch, j) => (valueAt >= 0 && j > valueAt) || !UNIT_OWN_SHORT.has(ch));
    if (kept.length) out.push(`-${kept.join('')}`);
    if (valueAt === letters.length - 1) out.push(line[++i]!);
  }
  return out;
}

export function systemdUnit(c: ContainerRecord, o: SystemdOptions): string {
  const restart = o.restartPolicy ?? (c.hostConfig.restart.name === 'always' || c.hostConfig.restart.name === 'unless-stopped' ? 'always' : 'on-failure');
  if (!RESTART.includes(restart)) throw new TsctrError(`${restart} is not a valid restart policy (${RESTART.join(', ')})`);
  const timeout = o.stopTimeout ?? c.config.stopTimeout;
  // The exact program and global options this tsctr runs with; `%t` is $XDG_RUNTIME_DIR for user units.
  const tsctr = selfCommand().map(execWord).join(' ');
  const pidFile = '%t/%n.pid';
  const name = execWord(c.name);
  const env = CARRIED_ENV.filter((k) => process.env[k]).map((k) => `Environment=${execWord(`${k}=${process.env[k]}`)}`);
  let exec: string[];
  if (o.fresh) {
    const args = unitRunArgs(c, o.globalFlags).map(execWord).join(' ');
    exec = [
      `ExecStartPre=/bin/rm -f ${pidFile}`,
      `ExecStartPre=-${tsctr} rm -f ${name}`,
      `ExecStart=${tsctr} run -d --monitor-pidfile ${pidFile} --name ${name} ${args}`,
      `ExecStop=${tsctr} stop -t ${timeout} ${name}`,
      `ExecStopPost=-${tsctr} rm -f ${name}`,
    ];
  } else {
    exec = [
      `ExecStart=${tsctr} start --monitor-pidfile ${pidFile} ${name}`,
      `ExecStop=${tsctr} stop -t ${timeout} ${name}`,
      `ExecStopPost=${tsctr} stop -t ${timeout} ${name}`,
    ];
  }
  return [
    `# ${unitName(c)}`,
    `# Generated by tsctr ${VERSION}${o.fresh ? ' (--new: the container is created at each start)' : ''}.`,
    '# Install for your user, and have it start at boot even without a login session:',
    `#   cp ${unitName(c)} ~/.config/systemd/user/ && systemctl --user daemon-reload`,
    `#   systemctl --user enable --now ${unitName(c)}`,
    '#   loginctl enable-linger $USER',
    '',
    '[Unit]',
    `Description=tsctr container ${c.name}`,
    'Wants=network-online.target',
    'After=network-online.target',
    'RequiresMountsFor=%t',
    '',
    '[Service]',
    ...env,
    `Restart=${restart}`,
    // stop's own wait, plus time for the monitor and helpers to go.
    `TimeoutStopSec=${timeout + 60}`,
    ...exec,
    `PIDFile=${pidFile}`,
    'Type=forking',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}
