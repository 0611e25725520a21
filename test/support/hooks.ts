/**
 * A test file's (or a describe's) set-up and tear-down, as node:test hooks registered where these are
 * called: the usual life of a sandbox, and of a sandbox served by `tsctr system service`.
 */
import { after, before } from 'node:test';
import { Sandbox } from './harness.js';
import { startService, type Service } from './service.js';

const pullAll = (sb: Sandbox, images: string[] = []) => {
  for (const image of images) sb.ok(['pull', '-q', image]);
};

/**
 * A fresh Sandbox: `pull` pulled before the tests (quietly), its containers and directory removed
 * after them.
 */
export function useSandbox(name: string, o: { pull?: string[] } = {}): Sandbox {
  const sb = new Sandbox(name);
  if (o.pull?.length) before(() => pullAll(sb, o.pull));
  after(() => sb.dispose());
  return sb;
}

/**
 * `sb` served by a `system service` (on `url`; none: the default socket) from before the tests, after
 * `pull`; after them the containers are removed, then the service stopped, then the sandbox. The
 * Service is filled in when the before hook has run.
 */
export function useService(sb: Sandbox, o: { pull?: string[]; url?: string } = {}): Service {
  const service = {} as Service;
  before(async () => {
    pullAll(sb, o.pull);
    Object.assign(service, await startService(sb, { url: o.url }));
  });
  after(async () => {
    sb.removeContainers();
    await service.stop?.();
    sb.cleanup();
  });
  return service;
}
