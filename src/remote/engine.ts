/**
 * The engine's use cases against another machine's `tsctr system service` (or any Docker Engine
 * API): the same typed values in and out as the local engine, so the commands print remote objects
 * with their own code. The engine (engine/remote.ts) hands a use case here when a URL is set.
 */
import { NotFoundError, TsctrError } from '../errors.js';
import type { CreateOptions } from '../container/options.js';
import type { ExecOptions } from '../container/exec.js';
import { PS_SORT_KEYS, type ContainerRow, type PsOptions } from '../container/list.js';
import type { LogRecord } from '../container/logs.js';
import type { ImageRow, ListOptions } from '../image/list.js';
import type { RemoveReport } from '../image/remove.js';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiClient, readText } from './http.js';
import { containerRow, imageRows } from './rows.js';
import { demux } from './frames.js';
import { defaultCerts, parseTarget, type TargetOptions } from './target.js';
import { formatReference, parseReference } from '../image/reference.js';
import { splitFilter } from '../util/filters.js';

/** The reference in full (`docker.io/library/busybox:latest`); a malformed one fails before any request. */
const checkReference = (ref: string) => formatReference(parseReference(ref));

type Obj = Record<string, unknown>;

export interface RemoteLogsOptions {
  tail: number;
  since?: number;
  until?: number;
  follow: boolean;
}

/** The signals an attached client passes on (docker's CLI forwards all it can catch). */
const PROXIED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

interface AttachedRun {
  interactive: boolean;
  tty: boolean;
  /** Waits for the removal (`--rm`) rather than the exit. */
  autoRemove: boolean;
  /** run --rm: a container that failed to start goes. */
  removeOnFailure: boolean;
  streams?: ('stdin' | 'stdout' | 'stderr')[];
  sigProxy: boolean;
  write(stream: 'stdout' | 'stderr', data: Buffer): void;
}

/** The wait's answer → the exit code (an error in it is the start's failure). */
function exitCodeOf(text: string): number {
  const r = JSON.parse(text || '{}') as { StatusCode?: number; Error?: { Message?: string } | null };
  if (r.Error?.Message) throw new TsctrError(r.Error.Message);
  return typeof r.StatusCode === 'number' && r.StatusCode >= 0 ? r.StatusCode : 125;
}

export interface RemoteRunIo {
  /** -a: the streams to show (all when undefined). */
  streams?: ('stdin' | 'stdout' | 'stderr')[];
  /** A line for stdout (the id of `run -d`). */
  out(line: string): void;
  /** Where the container's output goes. */
  write(stream: 'stdout' | 'stderr', data: Buffer): void;
  /** docker's --sig-proxy (default true): signals we receive go to the container while attached. */
  sigProxy?: boolean;
}

/** docker's `filters` query: {"key": ["value", …]} from the CLI's key=value list. */
function filtersJson(filters: string[]): string | undefined {
  if (!filters.length) return undefined;
  const out: Record<string, string[]> = {};
  for (const f of filters) {
    const [key, value] = splitFilter(f);
    (out[key] ??= []).push(value);
  }
  return JSON.stringify(out);
}

const enc = encodeURIComponent;

type Write = (stream: 'stdout' | 'stderr', data: Buffer) => void;

/** docker's answer is raw (a tty) or in 8-byte frames: its content type says which. */
const isRaw = (res: http.IncomingMessage) => /raw-stream/.test(String(res.headers['content-type']));

/** A streamed answer (attach, exec start) to where the output goes, until the server ends it. */
async function copyOutput(res: http.IncomingMessage, write: Write): Promise<void> {
  for await (const batch of demux(res, isRaw(res))) for (const f of batch) write(f.stream, f.data);
}

/** This terminal's stdout and stderr, as the local commands write them. */
async function terminal(): Promise<Write> {
  const { writeFd } = await import('../util/stdout.js');
  return (stream, d) => writeFd(stream === 'stderr' ? 2 : 1, d);
}

export class RemoteEngine {
  constructor(private readonly api: ApiClient) {}

  static async open(url: string, given: TargetOptions): Promise<RemoteEngine> {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const o = defaultCerts(given, process.env.DOCKER_CERT_PATH || `${process.env.HOME || os.homedir()}/.docker`, (f) => fs.existsSync(f));
    const target = parseTarget(url, o);
    if (target.kind === 'tcp' && !target.tls) process.stderr.write(`WARNING: --insecure-tcp: ${url} is reached without TLS: anyone on the network can read and drive this engine\n`);
    return new RemoteEngine(new ApiClient(target));
  }

  close(): void {
    this.api.close();
  }

  // --- containers

  async listContainers(o: PsOptions = {}): Promise<ContainerRow[]> {
    if (o.sort !== undefined && !PS_SORT_KEYS.includes(o.sort)) throw new TsctrError(`invalid option for --sort, options are: ${PS_SORT_KEYS.join(', ')}`);
    const entries = await this.api.json<Obj[]>('GET', '/containers/json', {
      query: { all: o.all ? 1 : undefined, limit: o.last && o.last > 0 ? o.last : undefined, filters: filtersJson(o.filters ?? []) },
    });
    const now = Date.now();
    const pairs: { row: ContainerRow; started: string }[] = [];
    for (const e of entries) {
      let j: Obj;
      try {
        j = await this.api.json<Obj>('GET', `/containers/${enc(String(e.Id))}/json`);
      } catch (err) {
        if (err instanceof NotFoundError) continue; // removed meanwhile
        throw err;
      }
      pairs.push({ row: containerRow(e, j, o, now), started: String((j.State as Obj | undefined)?.StartedAt || j.Created) });
    }
    // Newest first, as locally; podman's other orders on the rows' columns.
    pairs.sort((a, b) => (a.row.CreatedAt < b.row.CreatedAt ? 1 : a.row.CreatedAt > b.row.CreatedAt ? -1 : 0));
    const key = o.sort;
    if (key && key !== 'created' && key !== 'size') {
      const field = { command: 'Command', id: 'ID', image: 'Image', names: 'Names', status: 'State' }[key] as keyof ContainerRow | undefined;
      if (field) pairs.sort((a, b) => (a.row[field] < b.row[field] ? -1 : a.row[field] > b.row[field] ? 1 : 0));
      else pairs.sort((a, b) => Date.parse(b.started) - Date.parse(a.started));
    }
    return pairs.map((p) => p.row);
  }

  async namesOrAll(names: string[], all: boolean, stopped: boolean): Promise<string[]> {
    if (all && names.length) throw new TsctrError('when using the --all switch, you may not pass any container names');
    if (!all && !names.length) throw new TsctrError('requires at least 1 container name (or --all)');
    if (!all) return names;
    return (await this.listContainers({ all: stopped, noTrunc: true })).map((r) => r.ID);
  }

  async startContainer(query: string): Promise<void> {
    await readText(await this.api.request('POST', `/containers/${enc(query)}/start`, { accept: [304] }));
  }

  async stopContainer(query: string, timeoutSec?: number): Promise<void> {
    await readText(await this.api.request('POST', `/containers/${enc(query)}/stop`, { query: { t: timeoutSec }, accept: [304] }));
  }

  async killContainer(query: string, signal: string): Promise<void> {
    await readText(await this.api.request('POST', `/containers/${enc(query)}/kill`, { query: { signal } }));
  }

  async removeContainer(query: string, o: { force: boolean; volumes: boolean }): Promise<void> {
    await readText(await this.api.request('DELETE', `/containers/${enc(query)}`, { query: { force: o.force ? 1 : undefined, v: o.volumes ? 1 : undefined } }));
  }

  async inspectContainer(query: string): Promise<Obj> {
    return this.api.json<Obj>('GET', `/containers/${enc(query)}/json`);
  }

  /** docker's inspect: a container of that name, else an image; undefined for neither. */
  async inspectObject(name: string, type?: 'container' | 'image'): Promise<Obj | undefined> {
    const kinds = type ? [type] : (['container', 'image'] as const);
    for (const k of kinds) {
      try {
        return await this.api.json<Obj>('GET', `/${k}s/${enc(name)}/json`);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
    return undefined;
  }

  /** The log records, as the local engine yields them: the server's timestamps ask for each record's time. */
  async *containerLogs(query: string, o: RemoteLogsOptions): AsyncGenerator<LogRecord[]> {
    const res = await this.api.request('GET', `/containers/${enc(query)}/logs`, {
      query: {
        stdout: 1, stderr: 1, timestamps: 1, follow: o.follow ? 1 : undefined,
        tail: o.tail < 0 ? 'all' : o.tail,
        since: o.since !== undefined ? o.since / 1000 : undefined,
        until: o.until !== undefined ? o.until / 1000 : undefined,
      },
    });
    const raw = isRaw(res);
    let partial = '';
    for await (const batch of demux(res, raw)) {
      const records: LogRecord[] = [];
      for (const { stream, data } of batch) {
        // Framed: one record a frame. Raw (a tty): lines, each with its time first.
        const texts = raw ? splitLines((partial += data.toString('utf8'))) : [data.toString('utf8')];
        if (raw) partial = texts.pop() ?? '';
        for (const t of texts) {
          const sp = t.indexOf(' ');
          records.push({ stream, time: sp < 0 ? '' : t.slice(0, sp), text: sp < 0 ? t : t.slice(sp + 1) });
        }
      }
      if (records.length) yield records;
    }
  }

  /**
   * exec without stdin (no -i): the output streams back as the local exec's goes to this terminal;
   * the exit code from the instance's inspect once it ended.
   */
  async exec(query: string, o: ExecOptions): Promise<number> {
    if (o.command.length === 0) throw new TsctrError('exec requires at least 1 argument: a command');
    const { parseEnv, processHost } = await import('../container/options.js');
    const env = parseEnv(o.env, o.envFile, processHost());
    const { Id } = await this.api.json<{ Id: string }>('POST', `/containers/${enc(query)}/exec`, {
      body: { Cmd: o.command, AttachStdin: o.interactive, AttachStdout: true, AttachStderr: true, Tty: o.tty, Env: env, ...(o.user ? { User: o.user } : {}), ...(o.workdir ? { WorkingDir: o.workdir } : {}) },
    });
    if (o.detach) {
      await readText(await this.api.request('POST', `/exec/${Id}/start`, { body: { Detach: true, Tty: o.tty } }));
      return 0;
    }
    const write = await terminal();
    if (o.interactive) await relay(await this.api.upgrade('POST', `/exec/${Id}/start`, { body: { Detach: false, Tty: o.tty } }), write, o.tty);
    else await copyOutput(await this.api.request('POST', `/exec/${Id}/start`, { body: { Detach: false, Tty: o.tty } }), write);
    const j = await this.api.json<{ ExitCode?: number | null }>('GET', `/exec/${Id}/json`);
    return typeof j.ExitCode === 'number' ? j.ExitCode : 125;
  }

  // --- create, run, start -a, attach

  /** docker's create: the flags' body, the image pulled on "no such image" as the pull policy allows; the id. */
  async createContainer(o: CreateOptions): Promise<string> {
    const { createBody } = await import('./create-body.js');
    const { processHost } = await import('../container/options.js');
    if (!['missing', 'always', 'never'].includes(o.pull)) throw new TsctrError(`invalid pull policy "${o.pull}": use always, missing or never`);
    checkReference(o.image);
    const c = createBody(o, processHost());
    if (o.pull === 'always') await this.pullImage(o.image, { quiet: false, out: process.stderr, platform: c.platform });
    const create = () => this.api.json<{ Id: string }>('POST', '/containers/create', { query: { name: c.name, platform: c.platform }, body: c.body });
    try {
      return (await create()).Id;
    } catch (e) {
      if (!(e instanceof NotFoundError) || !/no such image/i.test(e.message) || o.pull === 'never') throw e;
      process.stderr.write(`Unable to find image '${o.image}' locally\n`);
      await this.pullImage(o.image, { quiet: false, out: process.stderr, platform: c.platform });
      return (await create()).Id;
    }
  }

  /** docker's run over the API: create (pulling on "no such image"), attach, wait, start; the exit code. */
  async run(o: CreateOptions, io: RemoteRunIo): Promise<number> {
    if (io.streams?.includes('stdin')) throw new TsctrError('-a stdin is not supported with --url (remote)');
    const id = await this.createContainer(o);
    if (o.detach) {
      await this.startContainer(id);
      io.out(id);
      return 0;
    }
    return this.startAttached(id, { interactive: o.interactive, tty: o.tty, autoRemove: o.rm, removeOnFailure: o.rm, streams: io.streams, sigProxy: io.sigProxy !== false, write: io.write });
  }

  /** `start -a [-i]`: the container's own settings say whether it has a tty and stdin to attach. */
  async startAttachedByName(query: string, o: { interactive: boolean; sigProxy: boolean }): Promise<number> {
    const j = await this.inspectContainer(query);
    const st = (j.State ?? {}) as Obj;
    const cfg = (j.Config ?? {}) as Obj;
    if (st.Running) throw new TsctrError(`container ${String(j.Name ?? query).replace(/^\//, '')} is already running`);
    return this.startAttached(String(j.Id), {
      interactive: o.interactive && cfg.OpenStdin === true,
      tty: cfg.Tty === true,
      autoRemove: ((j.HostConfig ?? {}) as Obj).AutoRemove === true,
      removeOnFailure: false,
      sigProxy: o.sigProxy,
      write: await terminal(),
    });
  }

  /**
   * As docker's CLI: the attachment first (the server starts the container into it), then the wait
   * (its answer's header says it is in place), then the start; the output until the container ends,
   * the exit code from the wait. Signals this process gets go to the container meanwhile (--sig-proxy;
   * not with a tty, where ^C is a byte on stdin).
   */
  private async startAttached(id: string, a: AttachedRun): Promise<number> {
    const want = a.streams ?? ['stdout', 'stderr'];
    const query = { stream: 1, stdin: a.interactive ? 1 : 0, stdout: want.includes('stdout') ? 1 : 0, stderr: want.includes('stderr') ? 1 : 0 };
    // With -i the connection is taken over (stdin goes up it); without, the answer's body is the output.
    const taken = a.interactive ? await this.api.upgrade('POST', `/containers/${id}/attach`, { query }) : undefined;
    const answer = taken ? undefined : await this.api.request('POST', `/containers/${id}/attach`, { query });
    const wait = await this.api.request('POST', `/containers/${id}/wait`, { query: { condition: a.autoRemove ? 'removed' : 'next-exit' } });
    const exited = readText(wait);
    const unproxy = a.sigProxy && !a.tty ? this.proxySignals(id) : () => undefined;
    try {
      try {
        await this.startContainer(id);
      } catch (e) {
        (taken?.socket ?? answer)?.destroy();
        wait.destroy();
        if (a.removeOnFailure) await this.removeContainer(id, { force: true, volumes: true }).catch(() => undefined);
        throw e;
      }
      const unsize = a.tty ? this.followTerminalSize(id) : () => undefined;
      try {
        if (taken) await relay(taken, a.write, a.tty);
        else if (answer) await copyOutput(answer, a.write);
      } finally {
        unsize();
      }
      return exitCodeOf(await exited);
    } finally {
      unproxy();
    }
  }

  /**
   * docker attach: to a running container, its output from now on, our stdin when it was started
   * with -i (raw with a tty; the detach keys leave it running, exit 0); else the exit code.
   */
  async attach(query: string, o: { stdin: boolean; sigProxy: boolean; detachKeys?: string }): Promise<number> {
    const j = await this.inspectContainer(query);
    const id = String(j.Id);
    const st = (j.State ?? {}) as Obj;
    const cfg = (j.Config ?? {}) as Obj;
    if (!st.Running) throw new TsctrError('You cannot attach to a stopped container, start it first');
    if (st.Paused) throw new TsctrError('You cannot attach to a paused container, unpause it first');
    const tty = cfg.Tty === true;
    const stdin = o.stdin && cfg.OpenStdin === true;
    const write = await terminal();
    const q = { stream: 1, stdin: stdin ? 1 : 0, stdout: 1, stderr: 1, detachKeys: o.detachKeys };
    // Asked first, so that an exit while we attach is not missed; an --rm container is gone after it.
    const wait = await this.api.request('POST', `/containers/${id}/wait`, { query: { condition: ((j.HostConfig ?? {}) as Obj).AutoRemove === true ? 'removed' : 'next-exit' } });
    const exited = readText(wait);
    const unproxy = o.sigProxy && !tty ? this.proxySignals(id) : () => undefined;
    try {
      const unsize = tty ? this.followTerminalSize(id) : () => undefined;
      try {
        if (stdin) await relay(await this.api.upgrade('POST', `/containers/${id}/attach`, { query: q }), write, tty);
        else await copyOutput(await this.api.request('POST', `/containers/${id}/attach`, { query: q }), write);
      } finally {
        unsize();
      }
      // The stream ended: the container exited, or the detach keys left it running.
      const now = await this.inspectContainer(id).catch(() => undefined);
      if ((now?.State as Obj | undefined)?.Running) {
        wait.destroy();
        exited.catch(() => undefined);
        return 0;
      }
      return exitCodeOf(await exited);
    } finally {
      unproxy();
    }
  }

  /** docker's --sig-proxy: what this process receives, the container gets (`kill?signal=`), each time. */
  private proxySignals(id: string): () => void {
    const forward = (sig: NodeJS.Signals) => void this.killContainer(id, sig).catch(() => undefined);
    for (const s of PROXIED_SIGNALS) process.on(s, forward);
    return () => {
      for (const s of PROXIED_SIGNALS) process.off(s, forward);
    };
  }

  /** The container's tty follows this terminal's size (`resize?h=&w=`, now and on each change). */
  private followTerminalSize(id: string): () => void {
    const out = process.stdout;
    if (!out.isTTY) return () => undefined;
    const send = () => void this.api.request('POST', `/containers/${id}/resize`, { query: { h: out.rows, w: out.columns } }).then(readText).catch(() => undefined);
    send();
    out.on('resize', send);
    return () => out.off('resize', send);
  }

  // --- images

  async listImages(o: ListOptions = {}): Promise<ImageRow[]> {
    const filters = [...(o.filters ?? []), ...(o.reference ? [`reference=${o.reference}`] : [])];
    const entries = await this.api.json<Obj[]>('GET', '/images/json', { query: { all: o.all ? 1 : undefined, filters: filtersJson(filters) } });
    const now = Date.now();
    const docs: Obj[] = [];
    for (const e of entries) {
      try {
        docs.push(await this.api.json<Obj>('GET', `/images/${enc(String(e.Id))}/json`));
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    // Newest first, as locally.
    docs.sort((a, b) => Date.parse(String(b.Created)) - Date.parse(String(a.Created)) || (String(a.Id) < String(b.Id) ? -1 : 1));
    const rows = docs.flatMap((d) => imageRows(d, o, now));
    // The server filtered images; a reference filter applies to each tag's row, as locally.
    if (!o.reference && !filters.some((f) => f.startsWith('reference='))) return rows;
    const { globToRegExp } = await import('../image/list.js');
    const res = filters.filter((f) => f.startsWith('reference=')).map((f) => globToRegExp(f.slice('reference='.length)));
    return rows.filter((r) => r.Repository !== '<none>' && res.every((re) => re.test(r.Repository) || re.test(`${r.Repository}:${r.Tag}`)));
  }

  /** The server's progress lines as the local pull prints them; the reference pulled, in full. */
  async pullImage(ref: string, o: { quiet: boolean; out: NodeJS.WritableStream; platform?: string }): Promise<string> {
    const full = checkReference(ref);
    const res = await this.api.request('POST', '/images/create', { query: { fromImage: ref, platform: o.platform } });
    let buf = '';
    let failed: string | undefined;
    const line = (l: string) => {
      if (!l.trim()) return;
      let j: { status?: string; id?: string; error?: string; errorDetail?: { message?: string } };
      try {
        j = JSON.parse(l);
      } catch {
        return;
      }
      if (j.error || j.errorDetail?.message) failed = j.errorDetail?.message || j.error;
      // The server's own first line (docker's "TAG: Pulling from NAME") is not the local pull's.
      else if (j.status && !o.quiet && !/^Pulling from /.test(j.status)) o.out.write(`${j.id ? `${j.id}: ` : ''}${j.status}\n`);
    };
    res.setEncoding('utf8');
    for await (const chunk of res as AsyncIterable<string>) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        line(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    }
    line(buf);
    if (failed) throw new TsctrError(failed);
    return full;
  }

  async removeImage(name: string, force: boolean): Promise<RemoveReport> {
    const r = await this.api.json<Obj[]>('DELETE', `/images/${enc(name)}`, { query: { force: force ? 1 : undefined } });
    const out: RemoveReport = { untagged: [], deleted: [], reclaimed: 0 };
    for (const e of r ?? []) {
      if (typeof e.Untagged === 'string') out.untagged.push(e.Untagged);
      if (typeof e.Deleted === 'string') out.deleted.push(e.Deleted);
    }
    return out;
  }

  // --- system

  async version(): Promise<Obj> {
    return this.api.json<Obj>('GET', '/version');
  }
}

/**
 * A taken-over connection: this process's stdin up it (a terminal in raw mode with -t, as docker's
 * CLI sets it, so that ^C and the like reach the container), until its end, which half-closes the
 * connection; the output back, until the server ends it.
 */
async function relay(conn: { socket: Duplex; head: Buffer; raw: boolean }, write: Write, tty: boolean): Promise<void> {
  const { socket, head, raw } = conn;
  const stdin = process.stdin;
  const rawMode = tty && stdin.isTTY;
  if (rawMode) stdin.setRawMode(true);
  socket.on('error', () => undefined); // the read below ends with the connection
  stdin.pipe(socket);
  async function* output(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    yield* socket as AsyncIterable<Buffer>;
  }
  try {
    for await (const batch of demux(output(), raw)) for (const f of batch) write(f.stream, f.data);
  } finally {
    if (rawMode) stdin.setRawMode(false);
    stdin.unpipe(socket);
    stdin.destroy();
    socket.destroy();
  }
}

function splitLines(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (let j; (j = s.indexOf('\n', i)) >= 0; i = j + 1) out.push(s.slice(i, j + 1));
  out.push(s.slice(i));
  return out;
}
