/**
 * The user namespace, as commands meet it. Work that must own files as other uids (layer
 * extraction, deleting layers, reading files of subordinate ids) is done in this process, with the
 * few operations that need those ids handed to the shim's namespace helper (userns-ops.ts).
 */
import fs from 'node:fs';
import { TsctrError, errorMessage } from '../errors.js';
import { isSea } from '../runtime/assets.js';
import { globals } from '../paths.js';
import { nsRemoveTrees } from './userns-ops.js';

/** True when this process may chown to image uids itself: real root. */
export function canOwnImageFiles(): boolean {
  return process.getuid?.() === 0;
}

/**
 * How to start this same program again — the SEA binary alone, or node + its flags + the script —
 * with the global options in force, so the child uses the same store.
 */
export function selfCommand(): string[] {
  return [
    ...selfExecutable(),
    ...(globals.root ? ['--root', globals.root] : []),
    ...(globals.runroot ? ['--runroot', globals.runroot] : []),
    ...(globals.storageDriver ? ['--storage-driver', globals.storageDriver] : []),
  ];
}

/** This program's executable: the SEA binary alone, or node + its flags + the script. */
export function selfExecutable(): string[] {
  return isSea() ? [process.execPath] : [process.execPath, ...process.execArgv, process.argv[1]!];
}

export function findTool(name: string): string | undefined {
  for (const dir of (process.env.PATH || '/usr/local/bin:/usr/bin:/bin').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    const p = `${dir}/${name}`;
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

/**
 * Starts a tsctr command with its stdio as pipes, for a caller that streams them elsewhere (the API
 * server's save, load and push: a long-running server, so the child's start is not a command's).
 */
export function spawnSelf(args: string[]): import('node:child_process').ChildProcess {
  const argv = [...selfCommand(), ...args];
  const { spawn } = process.getBuiltinModule('node:child_process') as typeof import('node:child_process');
  return spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
}

/**
 * Delete trees that may hold files of subordinate uids. Most containers only ever write as their
 * root (= us), so a plain delete is tried first; whatever it cannot remove is deleted by root in
 * the namespace.
 */
export function removeTreesAsNamespaceRoot(paths: string[]): void {
  let first: unknown;
  paths = paths.filter((p) => {
    try {
      fs.rmSync(p, { recursive: true, force: true });
      return false;
    } catch (e) {
      first ??= e;
      return true;
    }
  });
  if (paths.length === 0) return;
  if (canOwnImageFiles()) throw new TsctrError(`removing ${paths.join(' ')} failed: ${errorMessage(first)}`);
  try {
    nsRemoveTrees(paths);
  } catch (e) {
    throw new TsctrError(errorMessage(e));
  }
}
