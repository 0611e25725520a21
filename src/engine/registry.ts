/** Registry log-in use cases: credentials checked against the registry, then kept in the auth file. */

export interface Credentials {
  username: string;
  password: string;
}

/** Checks the credentials with the registry and stores them (in `authfile`, or the default one). */
export async function login(server: string, credentials: Credentials, authfile?: string): Promise<void> {
  await (await import('../registry/login.js')).login(server, credentials, authfile);
}

/** Forgets the server's credentials; false if there were none. */
export async function logout(server: string, authfile?: string): Promise<boolean> {
  return (await import('../registry/credentials.js')).removeCredentials(server, authfile);
}
