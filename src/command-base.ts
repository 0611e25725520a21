/**
 * What every command shares: the global options (also accepted after the verb), and turning an
 * error into docker's one-line `Error: ...` with its exit code instead of a stack trace.
 */
import { Command, Option } from 'clipanion';
import { ReportedError, TsctrError, errorMessage } from './errors.js';
import { globals, remoteUrl } from './paths.js';
import { log, setLogLevel } from './util/log.js';
import { writeStdout } from './util/stdout.js';

export abstract class TsctrCommand extends Command {
  // The global options, also after the verb (`tsctr ps --root DIR`), as podman accepts them; main.ts
  // takes those before it (global-options.ts).
  root = Option.String('--root', { hidden: true });
  runroot = Option.String('--runroot', { hidden: true });
  storageDriver = Option.String('--storage-driver', { hidden: true });
  logLevel = Option.String('--log-level', { hidden: true });
  // podman's --url after the verb too; the TLS client flags go before it, as docker's do (after it,
  // `system service` has its own, the server's).
  url = Option.String('--url', { hidden: true });

  /**
   * Whether the command works against a remote engine (--url, TSCTR_HOST): its engine use cases
   * go through the API there (engine/remote.ts). Any other command refuses to run when a URL is
   * set, rather than act on this machine. 'here': plumbing that serves this machine whatever the
   * caller's environment says (the API service, dial-stdio on the far side of ssh, the monitor's
   * cleanup): a URL from the environment is dropped, for its children too; --url is still refused.
   */
  static remote: boolean | 'here' = false;

  abstract run(): Promise<number | void>;

  async execute(): Promise<number> {
    try {
      if (this.root !== undefined) await applyGlobal('--root', this.root);
      if (this.runroot !== undefined) await applyGlobal('--runroot', this.runroot);
      if (this.storageDriver !== undefined) await applyGlobal('--storage-driver', this.storageDriver);
      if (this.logLevel !== undefined) await applyGlobal('--log-level', this.logLevel);
      if (this.url !== undefined) await applyGlobal('--url', this.url);
      const remote = (this.constructor as typeof TsctrCommand).remote;
      if (remote === 'here') for (const v of REMOTE_ENV) delete process.env[v];
      if (remote !== true && remoteUrl()) {
        throw new TsctrError(`"${this.path.join(' ')}" is not supported with --url (remote): it acts on this machine only (remote verbs: ${REMOTE_VERBS})`);
      }
      return (await this.run()) ?? 0;
    } catch (e) {
      return reportError(e, this.context.stderr);
    }
  }

  /** A line of output. */
  out(text: string): void {
    writeStdout(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Output as it is (tables, lists). */
  write(text: string): void {
    writeStdout(text);
  }

  /** What `inspect` verbs print: each object through a `--format` template, or all as docker's JSON array. */
  protected async printInspected(found: object[], format: string | undefined): Promise<void> {
    if (!format) return this.out(JSON.stringify(found, null, 4));
    const { compileTemplate, parseFormat } = await import('./util/template.js');
    const tpl = compileTemplate(parseFormat(format).template);
    for (const v of found) this.out(tpl(v));
  }
}

/** The environment variables that name a remote engine (paths.ts remoteUrl). */
const REMOTE_ENV = ['TSCTR_HOST', 'CONTAINER_HOST'];

/** What the message for a command that cannot run remotely lists. */
const REMOTE_VERBS = 'run, create, start, attach, ps, logs, exec, stop, kill, rm, inspect, images, pull, rmi, version';

const flagValue = (name: string, value: string) => {
  if (['true', '1', ''].includes(value)) return true;
  if (['false', '0'].includes(value)) return false;
  throw new TsctrError(`invalid argument "${value}" for "${name}" flag: a boolean`);
};

/**
 * A boolean flag as docker takes it, `--flag` or `--flag=false` (clipanion's booleans refuse the
 * second form: such flags are declared `Option.String(…, { tolerateBoolean: true })`).
 */
export function boolFlag(name: string, value: string | boolean | undefined, dflt: boolean): boolean {
  if (value === undefined || typeof value === 'boolean') return value ?? dflt;
  return flagValue(name, value.toLowerCase());
}

/** Sets one of GLOBAL_WITH_VALUE or GLOBAL_BOOLEAN; a bad value is the user's error (125), before anything runs. */
export async function applyGlobal(name: string, value: string): Promise<void> {
  if (name === '--root') globals.root = value;
  else if (name === '--runroot') globals.runroot = value;
  else if (name === '--storage-driver') globals.storageDriver = (await import('./store/storage-driver.js')).parseStorageDriver(value, '--storage-driver');
  else if (name === '--log-level') {
    if (!setLogLevel(value)) throw new TsctrError(`invalid log level "${value}": use error, warn, info or debug`);
  } else if (name === '--url') globals.url = value;
  else if (name === '--tlscacert') globals.tlscacert = value;
  else if (name === '--tlscert') globals.tlscert = value;
  else if (name === '--tlskey') globals.tlskey = value;
  else if (name === '--tlsverify') globals.tlsverify = flagValue(name, value);
  else if (name === '--insecure-tcp') globals.insecureTcp = flagValue(name, value);
  else throw new Error(`no global option ${name}`);
}

export function reportError(e: unknown, stderr: NodeJS.WritableStream): number {
  if (e instanceof ReportedError) return e.exitCode;
  if (e instanceof TsctrError) {
    stderr.write(`Error: ${e.message}\n`);
    if (log.isDebug() && e.stack) stderr.write(`${e.stack}\n`);
    return e.exitCode;
  }
  // Anything else is a bug or an unexpected system error: still one line, the stack only on request.
  stderr.write(`Error: ${errorMessage(e)}\n`);
  if (log.isDebug() && e instanceof Error && e.stack) stderr.write(`${e.stack}\n`);
  return 125;
}

/**
 * Runs fn for each item, like docker's multi-argument commands: each failure is reported on its own
 * line and the others still run; the exit code says whether any failed.
 */
/**
 * A verb over several names (rm, stop, kill, rmi...): each failure is reported and the others
 * still done; the exit code is then 1, as docker's (whatever the failure: a missing container, a
 * running one without -f). `skip` names failures that are no failure (rm -f of a missing one).
 * Pod verbs are podman's, and keep podman's codes (`exitOne` false: the error's own, 125).
 */
export async function forEachItem(
  items: string[],
  stderr: NodeJS.WritableStream,
  fn: (item: string) => Promise<void>,
  skip: (e: unknown) => boolean = () => false,
  exitOne = true,
): Promise<number> {
  let code = 0;
  for (const item of items) {
    try {
      await fn(item);
    } catch (e) {
      if (skip(e)) continue;
      const own = reportError(e, stderr);
      code = exitOne ? 1 : own || 1;
    }
  }
  return code;
}
