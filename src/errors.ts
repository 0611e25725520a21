/**
 * Errors carry the exact line the user will see and the exit code docker would use.
 * 125 = the engine failed; 126 = the command could not be invoked; 127 = not found.
 */
export class TsctrError extends Error {
  constructor(message: string, readonly exitCode: number = 125) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidReferenceError extends TsctrError {}
export class NotFoundError extends TsctrError {}
export class ConflictError extends TsctrError {}
export class RegistryError extends TsctrError {}
/** The registry could not be reached, or the connection broke mid-request: worth another try. */
export class NetworkError extends RegistryError {}
export class ConfigError extends TsctrError {}
/** An image layer broke a rule (path traversal, bad digest...): never trusted, never kept. */
export class LayerError extends TsctrError {}
export class StoreCorruptError extends TsctrError {}
/** A save/load archive or an imported tarball that is malformed or fails verification: refused whole. */
export class ArchiveError extends TsctrError {}

/** Already explained to the user (by a child process, say): exit with the code, print nothing more. */
export class ReportedError extends TsctrError {
  constructor(exitCode: number) {
    super('', exitCode);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
