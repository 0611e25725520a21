/**
 * A compose file that cannot be used. docker compose exits 1 for a bad file (its one exit code for
 * every failure that is not a container's), and scripts written for it test that; so these do too,
 * unlike the CLI's 125 for bad flags of the docker-compatible verbs.
 */
import { ConfigError } from '../errors.js';

export class ComposeError extends ConfigError {
  constructor(message: string) {
    super(message, 1);
  }
}
