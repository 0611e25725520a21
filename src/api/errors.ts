/**
 * Errors as the Docker Engine API reports them: a status code and `{"message": …}`. The engine's
 * typed errors map to docker's codes here, once, so that handlers just let them through.
 */
import { ConflictError, InvalidReferenceError, NotFoundError, RegistryError, TsctrError, errorMessage } from '../errors.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string) => new ApiError(400, message);
export const notFound = (message: string) => new ApiError(404, message);

/** The status and message a thrown error becomes. */
export function apiErrorOf(e: unknown): { status: number; message: string } {
  if (e instanceof ApiError) return { status: e.status, message: e.message };
  if (e instanceof NotFoundError) return { status: 404, message: e.message };
  if (e instanceof ConflictError) return { status: 409, message: e.message };
  if (e instanceof InvalidReferenceError) return { status: 400, message: e.message };
  // docker login's wrong password: docker answers 401, and its CLI says so.
  if (e instanceof RegistryError && /unauthori[sz]ed|401|credentials|denied/i.test(e.message)) return { status: 401, message: e.message };
  // The engine's other typed errors are the caller's bad input (a bad flag value, a bad name)
  // or a failed operation; docker says 500 for the latter, and clients print the message either way.
  if (e instanceof TsctrError) {
    const m = e.message;
    if (/^no such |not found|No such /i.test(m)) return { status: 404, message: m };
    if (/^(invalid|bad|unknown|missing) /i.test(m)) return { status: 400, message: m };
    return { status: 500, message: m };
  }
  return { status: 500, message: errorMessage(e) };
}
