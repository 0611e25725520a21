/**
 * `--change` (import, and later commit): Dockerfile instructions that set an image's config
 * without a build. The ones docker accepts there: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL,
 * USER, VOLUME, WORKDIR (ONBUILD is refused: tsctr has no builder to honour it).
 */
import path from 'node:path';
import { TsctrError } from '../errors.js';
import type { ContainerConfig } from './types.js';

const INSTRUCTION = /^\s*([A-Za-z]+)(?:\s+([\s\S]*))?$/;

/** `["a", "b"]` exec form, when the text is a JSON array of strings. */
function jsonArray(text: string): string[] | undefined {
  if (!text.trimStart().startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v;
  } catch {
    /* shell form after all, as docker does with a malformed array */
  }
  return undefined;
}

/** Words of `k=v "k 2"=v2 k3="a b"`: quotes group and are removed, a backslash escapes. */
function words(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new TsctrError(`unterminated quote in "${text}"`);
  if (inWord) out.push(cur);
  return out;
}

/** ENV and LABEL: `k=v ...`, or the old one-pair form `k the rest is the value`. */
function pairs(instr: string, text: string): [string, string][] {
  const all = words(text);
  if (all.length && !all[0]!.includes('=')) {
    const m = /^\s*(\S+)\s+([\s\S]*?)\s*$/.exec(text);
    if (!m) throw new TsctrError(`${instr} needs a value: ${instr} ${text}`);
    return [[m[1]!, m[2]!]];
  }
  return all.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new TsctrError(`${instr} names must be followed by =value: "${w}"`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

function port(spec: string): string {
  const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new TsctrError(`invalid port in EXPOSE: ${spec}`);
  return `${Number(m[1])}/${(m[2] ?? 'tcp').toLowerCase()}`;
}

const commandOf = (text: string) => jsonArray(text) ?? ['/bin/sh', '-c', text];

/** The config with each change applied in order (a copy; `base` is left alone). */
export function applyChanges(base: ContainerConfig, changes: string[]): ContainerConfig {
  const c: ContainerConfig = structuredClone(base);
  for (const change of changes) {
    const m = INSTRUCTION.exec(change);
    if (!m) throw new TsctrError(`invalid change "${change}": expected a Dockerfile instruction such as CMD ["sh"]`);
    const instr = m[1]!.toUpperCase();
    const arg = (m[2] ?? '').trim();
    if (!arg) throw new TsctrError(`${instr} needs an argument`);
    switch (instr) {
      case 'CMD':
        c.Cmd = commandOf(arg);
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = commandOf(arg);
        break;
      case 'ENV':
        for (const [k, v] of pairs(instr, arg)) c.Env = [...(c.Env ?? []).filter((e) => e.split('=')[0] !== k), `${k}=${v}`];
        break;
      case 'LABEL':
        for (const [k, v] of pairs(instr, arg)) c.Labels = { ...(c.Labels ?? {}), [k]: v };
        break;
      case 'EXPOSE':
        for (const p of words(arg)) c.ExposedPorts = { ...(c.ExposedPorts ?? {}), [port(p)]: {} };
        break;
      case 'VOLUME':
        for (const v of jsonArray(arg) ?? words(arg)) c.Volumes = { ...(c.Volumes ?? {}), [v]: {} };
        break;
      case 'USER':
        c.User = arg;
        break;
      case 'WORKDIR':
        // Relative to the one before, as in a Dockerfile.
        c.WorkingDir = path.posix.resolve(c.WorkingDir || '/', arg);
        break;
      case 'STOPSIGNAL':
        c.StopSignal = arg;
        break;
      default:
        throw new TsctrError(`${instr} is not a valid change command (use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME or WORKDIR)`);
    }
  }
  return c;
}
