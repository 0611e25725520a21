/**
 * The switch between this machine's engine and a remote one: with --url (or TSCTR_HOST,
 * CONTAINER_HOST) the use cases that work remotely hand their arguments to src/remote/, which
 * speaks the Docker Engine API to another machine's `tsctr system service`. Locally this costs a
 * look at a global and the environment: no remote code is loaded.
 */
import type { RemoteEngine } from '../remote/engine.js';

let opened: Promise<RemoteEngine | undefined> | undefined;

/** The remote engine when a URL is set, else undefined (the use case runs here). */
export function remote(): Promise<RemoteEngine | undefined> {
  return (opened ??= (async () => {
    const { globals, remoteUrl } = await import('../paths.js');
    const url = remoteUrl();
    if (!url) return undefined;
    const { RemoteEngine } = await import('../remote/engine.js');
    return RemoteEngine.open(url, { tlsverify: globals.tlsverify, ca: globals.tlscacert, cert: globals.tlscert, key: globals.tlskey, insecureTcp: globals.insecureTcp });
  })());
}

export type { RemoteEngine };

/** The remote engine's `/version` (for `version`'s Server part); undefined locally. */
export async function remoteVersion(): Promise<Record<string, unknown> | undefined> {
  const r = await remote();
  return r ? r.version() : undefined;
}
