import { TsctrError } from '../errors.js';
import { RegistryClient } from './client.js';
import { loadRegistriesConf, endpointsFor } from './registries-conf.js';
import { normaliseRegistryKey, storeCredentials, type Credentials } from './credentials.js';

/** Checks the credentials against the registry itself before saving them, as docker does. */
export async function login(server: string, creds: Credentials, authFile?: string): Promise<string> {
  const host = normaliseRegistryKey(server);
  if (!host) throw new TsctrError('registry name is empty');
  const primary = endpointsFor(loadRegistriesConf(), host === 'index.docker.io' ? 'docker.io' : host, '').filter((e) => !e.mirror).at(-1);
  const client = new RegistryClient({
    registry: primary?.registry ?? host,
    repository: '',
    insecure: primary?.insecure ?? false,
    credentials: creds,
  });
  await client.ping();
  return storeCredentials(host, creds, authFile);
}
