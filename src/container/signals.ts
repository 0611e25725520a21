/** Signal names and numbers as docker takes them: KILL, SIGKILL, 9. */
import os from 'node:os';
import { TsctrError } from '../errors.js';

export function signalNumber(sig: string): number {
  if (/^\d+$/.test(sig) && Number(sig) > 0 && Number(sig) <= 64) return Number(sig);
  const name = sig.toUpperCase().startsWith('SIG') ? sig.toUpperCase() : `SIG${sig.toUpperCase()}`;
  const n = (os.constants.signals as Record<string, number>)[name];
  if (!n) throw new TsctrError(`invalid signal: ${sig}`);
  return n;
}
