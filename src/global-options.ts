/**
 * Global options that take a value. Accepted before the verb and between a path's words (main.ts
 * takes them out, the SEA loader skips them to find the command: commands/verbs.ts) and after the
 * verb, where every command declares them (command-base.ts). Plain data: the SEA loader bundles it.
 */
export const GLOBAL_WITH_VALUE = new Set(['--root', '--runroot', '--storage-driver', '--log-level', '--url', '--tlscacert', '--tlscert', '--tlskey']);
/**
 * Global flags without a value (`--tlsverify`, or `--tlsverify=false`). The remote client's TLS flags
 * (these and --tlscacert/--tlscert/--tlskey) are taken before the verb only, as docker takes them:
 * after it, `system service` has flags of those names for the server.
 */
export const GLOBAL_BOOLEAN = new Set(['--tlsverify', '--insecure-tcp']);
