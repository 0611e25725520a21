/**
 * The --network values and the mode each one means. A new mode is one file beside this one and a
 * line here; nothing else in the tree names modes.
 */
import { TsctrError } from '../../errors.js';
import { networkMode } from '../default.js';
import { containerMode } from './container.js';
import { hostMode } from './host.js';
import { noneMode } from './none.js';
import { pastaMode } from './pasta.js';
import { slirp4netnsMode } from './slirp4netns.js';
import { userMode } from './user.js';
import { NETWORK_NAME } from '../network-store.js';
import type { NetworkMode } from '../types.js';

const BUILTIN: Record<string, NetworkMode> = {
  slirp4netns: slirp4netnsMode,
  pasta: pastaMode,
  none: noneMode,
  host: hostMode,
};

export const BUILTIN_MODES = Object.keys(BUILTIN);

/** The mode of a container: user networks where it has endpoints, else by its --network value. */
export function modeFor(req: { mode: string; endpoints: unknown[] }): NetworkMode {
  return req.endpoints.length ? userMode : modeOf(req.mode);
}

/** The mode of a recorded --network value ('default' is the default mode as of now). */
export function modeOf(recorded: string): NetworkMode {
  const mode = networkMode(recorded);
  const builtin = BUILTIN[mode];
  if (builtin) return builtin;
  if (mode.startsWith('container:')) return containerMode;
  throw new TsctrError(`network mode ${mode} is not supported: use pasta, slirp4netns, none, host or container:NAME`);
}

/** A --network value as recorded: 'default' for the default (and docker's `bridge`), else as given. */
export function parseNetwork(n: string | undefined): string {
  if (!n || n === 'default' || n === 'bridge') return 'default';
  if (BUILTIN[n] || /^container:.+/.test(n)) return n;
  // A user network's name: whether it exists is checked where its endpoint is allocated.
  if (NETWORK_NAME.test(n)) return n;
  throw new TsctrError(`network ${n} not found: use pasta, slirp4netns, none, host, container:NAME or a network made by 'network create'`);
}
