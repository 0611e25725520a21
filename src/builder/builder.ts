/**
 * `build`: runs a Dockerfile the way docker's classic builder does. Each instruction makes one
 * image (kept as a hidden intermediate image, the build cache), on top of the previous one: RUN
 * runs in a real rootless container of the image so far and keeps what it changed as a layer,
 * COPY/ADD make a layer of the files alone, everything else changes only the configuration. A step
 * whose parent, instruction and inputs (the checksums of copied files, the build arguments a RUN
 * sees) are unchanged is taken from the cache.
 *
 * The build runs as the user (it starts containers), and so does its layer work: ownership of
 * subordinate ids is the shim's namespace helper's (rootless/userns-ops.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { TsctrError, errorMessage } from '../errors.js';
import { storePaths } from '../paths.js';
import { atomicWriteFile, tmpName } from '../util/fsutil.js';
import { readJson, writeJson } from '../store/json-store.js';
import { withLock } from '../store/lock.js';
import { hostPlatform } from '../image/platform.js';
import { addImage, normalizeTag } from '../image/add.js';
import { getImage, initStore, layerPresent, loadImages, readImageConfig, setTag, updateImages } from '../image/store.js';
import type { ImageConfig, ImageRecord } from '../image/types.js';
import type { ExtractedLayer } from '../image/layers.js';
import { DockerfileError, parseDockerfile, splitWords, type Instruction } from '../image/dockerfile/parse.js';
import { expandVars, EXPANDED } from '../image/dockerfile/expand.js';
import { applyConfigInstruction, commandOf, CONFIG_ONLY, DEFAULT_SHELL, envLookup } from '../image/dockerfile/config-change.js';
import { resolveCopySources, type ResolvedSources } from './context.js';
import type { CopySpec } from './copy-tar.js';

export interface BuildOptions {
  context: string;
  dockerfile: string;
  tags: string[];
  buildArgs: string[];
  noCache: boolean;
  pull: boolean;
  target?: string;
  quiet: boolean;
  network?: string;
  labels: string[];
  out: NodeJS.WritableStream;
}

interface Stage {
  name?: string;
  /** The image so far (undefined only for `FROM scratch` before its first step). */
  imageId?: string;
  config: ImageConfig;
  args: Map<string, string | undefined>;
  cmdSet: boolean;
}

/** Build arguments every Dockerfile may use without declaring them (docker's list). */
const PREDEFINED_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

function scratchConfig(): ImageConfig {
  const p = hostPlatform();
  return { architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}), config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] }, rootfs: { type: 'layers', diff_ids: [] }, history: [] };
}

const cachePath = () => path.join(path.dirname(storePaths.imagesIndex()), 'build-cache.json');
interface CacheDoc {
  schemaVersion: number;
  entries: Record<string, string>;
}
const emptyCache = (): CacheDoc => ({ schemaVersion: 1, entries: {} });

function cached(key: string): ImageRecord | undefined {
  const id = readJson(cachePath(), emptyCache).entries[key];
  if (!id) return undefined;
  const image = loadImages().images[id];
  return image && image.layers.every(layerPresent) ? image : undefined;
}

async function remember(key: string, id: string): Promise<void> {
  await withLock(storePaths.lockFile(), () => {
    const doc = readJson(cachePath(), emptyCache);
    doc.entries[key] = id;
    writeJson(cachePath(), doc);
  });
}

const short = (id: string) => id.slice(7, 19);

export class Builder {
  private readonly instructions: Instruction[];
  private readonly escape: string;
  private readonly buildArgs = new Map<string, string>();
  private readonly usedArgs = new Set<string>();
  private readonly globalArgs = new Map<string, string | undefined>();
  private readonly stages: Stage[] = [];
  private step = 0;
  private total = 0;

  constructor(private readonly o: BuildOptions) {
    let text: string;
    try {
      text = fs.readFileSync(o.dockerfile, 'utf8');
    } catch (e) {
      throw new TsctrError(`unable to read Dockerfile ${o.dockerfile}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : errorMessage(e)}`);
    }
    const df = parseDockerfile(text);
    this.instructions = df.instructions;
    this.escape = df.escape;
    const firstFrom = this.instructions.findIndex((i) => i.cmd === 'FROM');
    const before = this.instructions.slice(0, firstFrom < 0 ? undefined : firstFrom).find((i) => i.cmd !== 'ARG');
    if (before) throw new DockerfileError(`${before.cmd} before the first FROM: only ARG may come first`, before.line);
    if (firstFrom < 0) throw new DockerfileError('no build stage in current context (a Dockerfile needs a FROM)');
    for (const a of o.buildArgs) {
      const eq = a.indexOf('=');
      if (eq === 0) throw new TsctrError(`invalid build argument "${a}"`);
      if (eq > 0) this.buildArgs.set(a.slice(0, eq), a.slice(eq + 1));
      else if (process.env[a] !== undefined) this.buildArgs.set(a, process.env[a]!);
    }
    if (o.target && !this.instructions.some((i) => i.cmd === 'FROM' && this.stageNameOf(i) === o.target!.toLowerCase())) {
      throw new TsctrError(`target stage "${o.target}" could not be found`);
    }
  }

  private print(line: string): void {
    if (!this.o.quiet) this.o.out.write(`${line}\n`);
  }

  private stageNameOf(ins: Instruction): string | undefined {
    const words = splitWords(ins.rest, this.escape);
    return words.length === 3 && words[1]!.toUpperCase() === 'AS' ? words[2]!.toLowerCase() : undefined;
  }

  /** Runs the build; returns the final image. */
  async run(): Promise<ImageRecord> {
    initStore();
    let list = this.instructions;
    if (this.o.target) {
      // Up to the end of the target stage.
      const at = list.findIndex((i) => i.cmd === 'FROM' && this.stageNameOf(i) === this.o.target!.toLowerCase());
      const next = list.findIndex((i, n) => n > at && i.cmd === 'FROM');
      list = next < 0 ? list : list.slice(0, next);
    }
    // ARGs before the first FROM are not steps (they only feed FROM lines).
    this.total = list.length - list.findIndex((i) => i.cmd === 'FROM');
    let stage: Stage | undefined;
    for (const ins of list) {
      if (!stage && ins.cmd === 'ARG') {
        for (const [k, v] of this.argPairs(ins, (n) => this.globalArgs.get(n))) this.globalArgs.set(k, this.buildArgs.get(k) ?? v);
        continue;
      }
      this.step++;
      this.print(`Step ${this.step}/${this.total} : ${ins.original}`);
      try {
        if (ins.cmd === 'FROM') stage = await this.from(ins);
        else await this.dispatch(stage!, ins);
      } catch (e) {
        if (e instanceof DockerfileError || !(e instanceof Error)) throw e;
        throw new DockerfileError(errorMessage(e), ins.line);
      }
      this.print(` ---> ${short(stage!.imageId ?? 'sha256:<scratch>')}`);
    }
    const final = stage!;
    if (!final.imageId || this.o.labels.length) {
      // A stage with no steps of its own (FROM scratch alone), or labels from the command line.
      const labels = Object.fromEntries(this.o.labels.map((l) => [l.split('=')[0]!, l.slice(l.indexOf('=') + 1)]));
      final.config.config = { ...final.config.config, Labels: { ...(final.config.config?.Labels ?? {}), ...labels } };
      await this.commitStep(final, undefined, undefined);
    }
    const unused = [...this.buildArgs.keys()].filter((k) => !this.usedArgs.has(k) && !PREDEFINED_ARGS.includes(k));
    if (unused.length) process.stderr.write(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
    // The last step's image is the result: tagged, and no longer a hidden build step.
    const image = await updateImages((doc) => {
      const img = getImage(doc, final.imageId!);
      delete img.intermediate;
      for (const t of this.o.tags) setTag(doc, img, normalizeTag(t));
      return img;
    });
    this.print(`Successfully built ${short(image.id)}`);
    for (const t of this.o.tags) this.print(`Successfully tagged ${t}`);
    return image;
  }

  private argPairs(ins: Instruction, lookup: (n: string) => string | undefined): [string, string | undefined][] {
    const words = splitWords(expandVars(ins.rest, lookup, this.escape), this.escape);
    if (words.length === 0) throw new TsctrError('ARG requires exactly one argument');
    return words.map((w) => {
      const eq = w.indexOf('=');
      return eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)];
    });
  }

  /** What an expanded instruction may refer to: the stage's ARGs (with --build-arg values), then ENV. */
  private vars(stage: Stage): (name: string) => string | undefined {
    const env = envLookup(stage.config.config?.Env);
    return (name) => {
      const e = env(name);
      if (e !== undefined) return e;
      if (stage.args.has(name)) return stage.args.get(name);
      return undefined;
    };
  }

  private async from(ins: Instruction): Promise<Stage> {
    const words = splitWords(expandVars(ins.rest, (n) => this.globalArgs.get(n), this.escape), this.escape);
    if (words.length !== 1 && !(words.length === 3 && words[1]!.toUpperCase() === 'AS')) throw new TsctrError('FROM requires either one or three arguments');
    const base = words[0]!;
    const name = words[2]?.toLowerCase();
    if (name && this.stages.some((s) => s.name === name)) throw new TsctrError(`duplicate name ${name}`);
    const stage: Stage = { name, config: scratchConfig(), args: new Map(), cmdSet: false };
    const earlier = this.stages.find((s) => s.name === base.toLowerCase());
    if (earlier) {
      stage.imageId = earlier.imageId;
      stage.config = structuredClone(earlier.config);
    } else if (base !== 'scratch') {
      const { ensureImage } = await import('../container/ensure-image.js');
      const image = await ensureImage(base, this.o.pull ? 'always' : 'missing', ins.flags.platform);
      stage.imageId = image.id;
      stage.config = readImageConfig(image);
      for (const trigger of stage.config.config?.OnBuild ?? []) {
        process.stderr.write(`[Warning] ONBUILD triggers of ${base} are not run (${trigger})\n`);
      }
    }
    if (stage.config.config) stage.config.config.OnBuild = null;
    this.stages.push(stage);
    return stage;
  }

  private async dispatch(stage: Stage, ins: Instruction): Promise<void> {
    if (ins.cmd === 'ARG') {
      for (const [k, v] of this.argPairs(ins, this.vars(stage))) {
        this.usedArgs.add(k);
        // A global ARG redeclared without a value brings its global value into the stage.
        stage.args.set(k, this.buildArgs.get(k) ?? v ?? this.globalArgs.get(k));
      }
      return this.configStep(stage, ins, `ARG ${ins.rest}`);
    }
    if (CONFIG_ONLY.has(ins.cmd)) {
      const config = structuredClone(stage.config);
      const st = { cmdSet: stage.cmdSet };
      applyConfigInstruction(config, ins, this.vars(stage), this.escape, st);
      const shown = EXPANDED.has(ins.cmd) ? `${ins.cmd} ${expandVars(ins.rest, this.vars(stage), this.escape)}` : undefined;
      return this.configStep(stage, ins, shown, config, st.cmdSet);
    }
    if (ins.cmd === 'RUN') return this.runStep(stage, ins);
    if (ins.cmd === 'COPY' || ins.cmd === 'ADD') return this.copyStep(stage, ins);
    throw new TsctrError(`${ins.cmd} is not supported`);
  }

  private key(stage: Stage, ...parts: string[]): string {
    return crypto.createHash('sha256').update(JSON.stringify([stage.imageId ?? 'scratch', ...parts])).digest('hex');
  }

  private useCache(stage: Stage, key: string): boolean {
    if (this.o.noCache) return false;
    const hit = cached(key);
    if (!hit) return false;
    this.print(' ---> Using cache');
    stage.imageId = hit.id;
    stage.config = readImageConfig(hit);
    return true;
  }

  private async commitStep(stage: Stage, layer: ExtractedLayer | undefined, key: string | undefined, createdBy?: string): Promise<void> {
    const created = new Date().toISOString();
    const config = stage.config;
    config.created = created;
    if (layer) config.rootfs = { type: 'layers', diff_ids: [...config.rootfs.diff_ids, layer.diffId] };
    if (createdBy) config.history = [...(config.history ?? []), { created, created_by: createdBy, ...(layer ? {} : { empty_layer: true }) }];
    const image = await addImage({
      config,
      layerSizes: new Map(layer ? [[layer.diffId, layer.size]] : []),
      parent: stage.imageId,
      intermediate: true,
    });
    stage.imageId = image.id;
    stage.config = readImageConfig(image);
    if (key) await remember(key, image.id);
  }

  private async configStep(stage: Stage, ins: Instruction, shown?: string, config?: ImageConfig, cmdSet?: boolean): Promise<void> {
    const text = shown ?? ins.original;
    const key = this.key(stage, 'config', text, JSON.stringify(config?.config ?? null), JSON.stringify([...stage.args]));
    if (cmdSet !== undefined) stage.cmdSet = cmdSet;
    if (this.useCache(stage, key)) return;
    if (config) stage.config = config;
    await this.commitStep(stage, undefined, key, `/bin/sh -c #(nop) ${text.replace(/^\S+/, (c) => c.toUpperCase())}`);
  }

  private async runStep(stage: Stage, ins: Instruction): Promise<void> {
    const argv = commandOf(ins, stage.config.config?.Shell ?? DEFAULT_SHELL);
    // Build arguments are the RUN's environment (not the image's), and part of its cache key, as in docker.
    const argEnv = [...stage.args].filter(([k, v]) => v !== undefined && envLookup(stage.config.config?.Env)(k) === undefined).map(([k, v]) => `${k}=${v}`);
    const key = this.key(stage, 'run', JSON.stringify(argv), JSON.stringify(argEnv));
    if (this.useCache(stage, key)) return;
    if (!stage.imageId) throw new TsctrError('RUN in a stage with no files (FROM scratch): there is no shell to run it');
    const { createContainer } = await import('../container/create.js');
    const { imageDefaults } = await import('../container/container-spec.js');
    const { mergeEnv, parseNetwork } = await import('../container/options.js');
    const { startContainer } = await import('../container/launch.js');
    const { removeContainer } = await import('../container/ops.js');
    const { containerPaths } = await import('../paths.js');
    const cfg = stage.config.config ?? {};
    const image = getImage(loadImages(), stage.imageId);
    const base = imageDefaults(stage.imageId, readImageConfig(image).config ?? {});
    // The step's command as it is, in the stage's directory and user, with the build arguments.
    const c = await createContainer(
      {
        ...base,
        entrypoint: null,
        cmd: argv,
        env: mergeEnv(base.env, argEnv),
        workingDir: cfg.WorkingDir || '/',
        user: cfg.User || base.user,
        autoRemove: true,
        network: parseNetwork(this.o.network),
      },
      image,
    );
    try {
      this.print(` ---> Running in ${c.id.slice(0, 12)}`);
      // Output going elsewhere than our stdout (the API server's build) goes through pipes.
      const out = this.o.out;
      const pipes =
        out === process.stdout || this.o.quiet
          ? undefined
          : {
              spawned: (child: import('node:child_process').ChildProcess) => {
                child.stdin?.end();
                child.stdout?.pipe(out, { end: false });
                child.stderr?.pipe(out, { end: false });
              },
            };
      const code = await startContainer(c.id, { attach: true, interactive: false, quiet: this.o.quiet, created: { record: c, image }, pipes });
      if (code !== 0) {
        throw new DockerfileError(`The command '${ins.json ? JSON.stringify(ins.json) : argv.join(' ')}' returned a non-zero code: ${code}`, ins.line);
      }
      const { layerFromUpper } = await import('../image/layers.js');
      const layer = await layerFromUpper(containerPaths.upper(c.id));
      await this.commitStep(stage, layer, key, ins.json ? `RUN ${JSON.stringify(ins.json)}` : `RUN ${argv.join(' ')}`);
      this.print(`Removing intermediate container ${c.id.slice(0, 12)}`);
    } finally {
      await removeContainer(c.id, true, true).catch(() => undefined);
    }
  }

  private async copyStep(stage: Stage, ins: Instruction): Promise<void> {
    const rest = expandVars(ins.rest, this.vars(stage), this.escape);
    const words = ins.json ?? splitWords(rest, this.escape);
    if (words.length < 2) throw new TsctrError(`${ins.cmd} requires at least two arguments, but only one was provided. Destination could not be determined.`);
    const dest = words.at(-1)!;
    const srcs = words.slice(0, -1);
    const from = ins.flags.from ? expandVars(ins.flags.from, this.vars(stage), this.escape) : undefined;
    if (from && ins.cmd === 'ADD') throw new TsctrError('ADD does not support --from; use COPY --from');
    const sources: ResolvedSources = await this.sourcesFor(from, srcs);
    if (sources.count > 1 && !dest.endsWith('/')) {
      throw new TsctrError(`When using ${ins.cmd} with more than one source file, the destination must be a directory and end with a /`);
    }
    const cfg = stage.config.config ?? {};
    const absDest = path.posix.isAbsolute(dest) ? dest : path.posix.join(cfg.WorkingDir || '/', dest) + (dest.endsWith('/') || dest === '.' ? '/' : '');
    const stageLayers = stage.imageId ? [...getImage(loadImages(), stage.imageId).layers].reverse().map((d) => storePaths.layer(d)) : [];
    let owner: CopySpec['owner'];
    if (ins.flags.chown) {
      const { resolveUser } = await import('../container/user.js');
      const u = resolveUser(expandVars(ins.flags.chown, this.vars(stage), this.escape), stageLayers);
      owner = { uid: u.uid, gid: u.gid };
    }
    let mode: number | undefined;
    if (ins.flags.chmod) {
      if (!/^[0-7]{3,4}$/.test(ins.flags.chmod)) throw new TsctrError(`invalid --chmod=${ins.flags.chmod}: only octal modes are supported`);
      mode = parseInt(ins.flags.chmod, 8);
    }
    const key = this.key(stage, ins.cmd, JSON.stringify(srcs), absDest, JSON.stringify(owner ?? null), String(mode), sources.checksum);
    if (this.useCache(stage, key)) return;
    const spec: CopySpec = {
      tree: sources.tree,
      patterns: sources.patterns,
      dest: absDest,
      owner,
      mode,
      stageLayers,
      ignore: sources.ignore,
      unpack: ins.cmd === 'ADD',
      mtime: Math.floor(Date.now() / 1000),
    };
    const { ingestLayer } = await import('../image/layers.js');
    const { copyTar } = await import('./copy-tar.js');
    const layer = await ingestLayer(copyTar(spec), undefined, 'COPY');
    await this.commitStep(stage, layer, key, `/bin/sh -c #(nop) ${ins.cmd} ${sources.describe} in ${absDest} `);
  }

  private async sourcesFor(from: string | undefined, srcs: string[]): Promise<ResolvedSources> {
    if (from === undefined) return resolveCopySources({ kind: 'context', root: this.o.context }, srcs);
    const stage = /^\d+$/.test(from) ? this.stages[Number(from)] : this.stages.find((s) => s.name === from.toLowerCase());
    let imageId = stage?.imageId;
    if (!stage) {
      if (/^\d+$/.test(from)) throw new TsctrError(`invalid from flag value ${from}: refers to a stage that is not defined yet`);
      const { ensureImage } = await import('../container/ensure-image.js');
      imageId = (await ensureImage(from, 'missing')).id;
    }
    if (!imageId) throw new TsctrError(`stage ${from} has no files to copy from`);
    const layers = [...getImage(loadImages(), imageId).layers].reverse().map((d) => storePaths.layer(d));
    return resolveCopySources({ kind: 'layers', dirs: layers, imageId }, srcs);
  }
}
