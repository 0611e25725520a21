/**
 * Where `tsctr system service` listens by default, and whether a service is listening there: the
 * run root (`$XDG_RUNTIME_DIR/tsctr`, 0700) holds the socket, so only its owner can reach it.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { runRoot } from '../paths.js';

export function defaultServiceSocket(): string {
  return path.join(runRoot(), 'tsctr.sock');
}

/** The default socket's path when a service answers on it, else undefined. */
export async function liveServiceSocket(): Promise<string | undefined> {
  const p = defaultServiceSocket();
  if (!fs.lstatSync(p, { throwIfNoEntry: false })?.isSocket()) return undefined;
  return new Promise((resolve) => {
    const c = net.connect(p);
    const done = (live: boolean) => {
      c.destroy();
      resolve(live ? p : undefined);
    };
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
    c.setTimeout(500, () => done(false));
  });
}
