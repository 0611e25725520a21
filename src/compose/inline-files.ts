/**
 * Configs and secrets that compose writes rather than binds: inline (`content:`), from a project
 * variable (`environment:`), and `file:` sources whose reference asks for a mode or an owner (a bind
 * mount would show the user's own file as it is). Written once per project under
 * DATAROOT/compose-files/PROJECT (0700: nobody but the user reaches them on the host) with the mode
 * the reference gives (docker compose's default 0444) and its uid:gid, container ids mapped through
 * the container's user namespace to the ids the file must have on disk; then bind-mounted read-only.
 * `down` removes them with the project.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TsctrError } from '../errors.js';
import { dataRoot } from '../paths.js';
import { containerIdMaps } from '../container/spec.js';
import { namespaceIds } from '../rootless/idmap.js';
import { applyOwnership, endNamespaceHelper } from '../rootless/userns-ops.js';
import type { RtFile, RtService } from './project-runtime.js';

const filesDir = (project: string) => path.join(dataRoot(), 'compose-files', project);

/** docker compose's mode for a config or secret it writes into a container. */
export const DEFAULT_FILE_MODE = 0o444;

/** Container id → host id through newuidmap-style "CONTAINER HOST COUNT" lines; undefined when unmapped. */
export function hostIdOf(maps: string[], id: number): number | undefined {
  for (const line of maps) {
    const [c, h, n] = line.trim().split(/\s+/).map(Number) as [number, number, number];
    if (id >= c && id < c + n) return h + (id - c);
  }
  return undefined;
}

/**
 * The file's name in the project directory: the plain `configs-NAME` for the default mode and owner
 * in the default user namespace; otherwise one per service and target, since two services may ask
 * for the same source with different owners.
 */
function fileName(s: RtService, f: RtFile): string {
  if (f.mode === undefined && f.uid === undefined && f.gid === undefined && !s.userns) return f.key;
  const tag = crypto.createHash('sha256').update(`${s.name}\0${f.target}\0${s.userns ?? ''}`).digest('hex').slice(0, 12);
  return `${f.key}-${tag}`;
}

/** The service with every config/secret to write written out and named by its host path. */
export function materialiseFiles(project: string, s: RtService): RtService {
  if (!s.files.some((f) => f.content !== undefined || f.copy !== undefined)) return s;
  const bad = s.files.find((f) => f.unavailable);
  if (bad) throw new TsctrError(`service "${s.name}": ${bad.unavailable}`);
  const dir = filesDir(project);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  let maps: { uid: string[]; gid: string[] } | undefined;
  let helperUsed = false;
  const files = s.files.map((f) => {
    if (f.content === undefined && f.copy === undefined) return f;
    const name = fileName(s, f);
    const file = path.join(dir, name);
    const content = f.content ?? readSource(s, f.copy!);
    // Written beside and renamed: a running container bound to the old file keeps its content whole.
    const tmp = `${name}.${process.pid}.tmp`;
    fs.rmSync(path.join(dir, tmp), { force: true });
    fs.writeFileSync(path.join(dir, tmp), content, { mode: 0o600 });
    const mode = f.mode ?? DEFAULT_FILE_MODE;
    maps ??= containerIdMaps({ usernsMode: s.userns === 'keep-id' ? 'keep-id' : undefined });
    const uid = onDisk(s, f, 'uid', maps.uid, f.uid ?? 0);
    const gid = onDisk(s, f, 'gid', maps.gid, f.gid ?? 0);
    if (uid.host === process.getuid?.() && gid.host === process.getgid?.()) fs.chmodSync(path.join(dir, tmp), mode);
    else if (uid.ns === undefined || gid.ns === undefined) {
      // Real root: the host ids are the ids.
      fs.chownSync(path.join(dir, tmp), uid.host, gid.host);
      fs.chmodSync(path.join(dir, tmp), mode);
    } else {
      // A subordinate id: only root of the user namespace may give it (the shim's helper).
      applyOwnership(dir, [{ rel: tmp, uid: uid.ns, gid: gid.ns, mode }]);
      helperUsed = true;
    }
    fs.renameSync(path.join(dir, tmp), file);
    return { ...f, source: file, content: undefined, copy: undefined };
  });
  if (helperUsed) endNamespaceHelper();
  return { ...s, files };
}

function readSource(s: RtService, file: string): Buffer {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new TsctrError(`service "${s.name}": ${file} is not a regular file: mode, uid and gid apply to a file`);
    return fs.readFileSync(file);
  } catch (e) {
    if (e instanceof TsctrError) throw e;
    throw new TsctrError(`service "${s.name}": cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** A container id as the host and as the helper's namespace (0 = the user) see it. */
function onDisk(s: RtService, f: RtFile, kind: 'uid' | 'gid', maps: string[], id: number): { host: number; ns?: number } {
  const host = hostIdOf(maps, id);
  if (host === undefined) throw new TsctrError(`service "${s.name}": ${kind} ${id} of ${f.target} is not mapped in the container's user namespace`);
  const ids = namespaceIds();
  return ids ? { host, ns: ids[kind](host) } : { host };
}

export function removeFiles(project: string): void {
  fs.rmSync(filesDir(project), { recursive: true, force: true });
}
