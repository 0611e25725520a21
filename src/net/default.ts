/**
 * The network a container gets without --network: slirp4netns, or $TSCTR_NETWORK. Apart from
 * setup.ts so that `ps` and `inspect` need not load the socket modules.
 */
export function defaultNetwork(): string {
  return process.env.TSCTR_NETWORK || 'slirp4netns';
}

/** What a container record's network means now ('default' is resolved when the container starts). */
export function networkMode(recorded: string): string {
  return recorded === 'default' ? defaultNetwork() : recorded;
}
