/**
 * `extends:` — a service built on another one, of the same file or of another file, merged by the
 * same rules as files are (the extending service wins). Done on the merged tree, before
 * normalisation. The relative paths of a service taken from another file are made absolute against
 * that file's directory (build context, env_file, bind sources), as compose reads them there.
 */
import path from 'node:path';
import { ComposeError } from './errors.js';
import { mergeTrees } from './merge.js';
import { isMap, put, type Tree } from './tree.js';

/** Reads another compose file (parsed, interpolated, validated) for its services. */
export type ReadFile = (file: string) => Promise<Tree>;

export async function resolveExtends(tree: Tree, workingDir: string, read: ReadFile): Promise<void> {
  const services = isMap(tree.services) ? tree.services : undefined;
  if (!services) return;
  const files = new Map<string, Tree>();
  const done = new Map<string, Tree>();
  for (const name of Object.keys(services)) put(services, name, await resolve(services, name, '', [], workingDir, read, files, done));
}

async function resolve(services: Tree, name: string, file: string, stack: string[], workingDir: string, read: ReadFile, files: Map<string, Tree>, done: Map<string, Tree>): Promise<Tree> {
  const id = `${file}\0${name}`;
  const cached = done.get(id);
  if (cached) return cached;
  if (stack.includes(id)) throw new ComposeError(`service "${name}": circular reference with extends`);
  const s = services[name];
  if (!isMap(s)) throw new ComposeError(`cannot extend service "${stack.length ? stack[stack.length - 1]!.split('\0')[1] : name}": service "${name}" not found${file ? ` in ${file}` : ''}`);
  if (s.extends === undefined) {
    done.set(id, s);
    return s;
  }
  const ext = typeof s.extends === 'string' ? { service: s.extends } : isMap(s.extends) ? s.extends : {};
  const baseName = String(ext.service ?? '');
  let base: Tree;
  if (ext.file !== undefined) {
    const other = path.resolve(file && file !== '-' ? path.dirname(file) : workingDir, String(ext.file));
    let t = files.get(other);
    if (!t) {
      t = await read(other);
      files.set(other, t);
    }
    const otherServices = isMap(t.services) ? t.services : {};
    if (!isMap(otherServices[baseName])) throw new ComposeError(`cannot extend service "${name}": service "${baseName}" not found in ${other}`);
    base = rebaseService(await resolve(otherServices, baseName, other, [...stack, id], workingDir, read, files, done), path.dirname(other));
  } else {
    if (!isMap(services[baseName])) throw new ComposeError(`cannot extend service "${name}": service "${baseName}" not found${file ? ` in ${file}` : ''}`);
    base = await resolve(services, baseName, file, [...stack, id], workingDir, read, files, done);
  }
  const own: Tree = {};
  for (const [k, v] of Object.entries(s)) if (k !== 'extends') put(own, k, v);
  const wrap = (svc: Tree): Tree => {
    const t: Tree = {};
    put(t, name, svc);
    return { services: t };
  };
  const merged = (mergeTrees(wrap(base), wrap(own)).services as Tree)[name] as Tree;
  done.set(id, merged);
  return merged;
}

/** A service read from another file: its relative paths made absolute against that file's directory. */
export function rebaseService(s: Tree, dir: string): Tree {
  const out: Tree = {};
  for (const [k, v] of Object.entries(s)) put(out, k, v);
  // Absolute paths, home paths and URLs (a remote build context) stay as they are.
  const abs = (p: unknown) => (typeof p === 'string' && !p.startsWith('/') && !p.startsWith('~') && !p.includes('://') ? path.resolve(dir, p) : p);
  if (typeof out.build === 'string') out.build = abs(out.build);
  else if (isMap(out.build)) out.build = { ...out.build, context: abs(out.build.context ?? '.') };
  if (typeof out.env_file === 'string') out.env_file = abs(out.env_file);
  else if (Array.isArray(out.env_file)) out.env_file = out.env_file.map((e) => (isMap(e) ? { ...e, path: abs(e.path) } : abs(e)));
  if (Array.isArray(out.volumes)) {
    out.volumes = out.volumes.map((v) => {
      if (typeof v === 'string') {
        const i = v.indexOf(':');
        return i > 0 && v.startsWith('.') ? `${path.resolve(dir, v.slice(0, i))}${v.slice(i)}` : v;
      }
      return isMap(v) && v.type === 'bind' && typeof v.source === 'string' && v.source.startsWith('.') ? { ...v, source: path.resolve(dir, v.source) } : v;
    });
  }
  return out;
}
