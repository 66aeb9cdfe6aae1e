/**
 * The machinery's error family. Behaviour changes by `code`, never by message; HTTP and network
 * failures are converted once, at the boundary, by the API transport (api.ts).
 */

/** Every stable code of the family. */
export type MachineryErrorCode = 'TERMINAL' | 'API';

/** Base of the family: an Error with a stable `code`. */
export abstract class MachineryError extends Error {
  /** Stable machine-readable category. */
  abstract readonly code: MachineryErrorCode;
}

/**
 * Thrown by a reconciler when retrying cannot help until the object (or the world) changes:
 * the key is forgotten and not requeued; the reconciler is expected to have set Stalled.
 */
export class TerminalError extends MachineryError {
  readonly code = 'TERMINAL';
  override readonly name = 'TerminalError';
}

/** An API call failed: a non-success HTTP status, an ERROR watch event, or no answer (status 0). */
export class ApiError extends MachineryError {
  readonly code = 'API';
  override readonly name = 'ApiError';
  /** HTTP status code, e.g. 404, 409, 410; 0 when the request never got an answer. */
  readonly status: number;
  /** The Kubernetes Status `reason` (e.g. `Expired`, `Conflict`), when the server sent one. */
  readonly reason: string | undefined;

  constructor(status: number, message: string, reason?: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.reason = reason;
  }
}

/** True for an {@link ApiError} with HTTP status `status`. */
export function isApiStatus(err: unknown, status: number): boolean {
  return err instanceof ApiError && err.status === status;
}

/** Any concrete member of the family; `switch (err.code)` narrows it. */
export type AnyMachineryError = TerminalError | ApiError;

/** True when `err` belongs to the family. */
export function isMachineryError(err: unknown): err is AnyMachineryError {
  return err instanceof MachineryError;
}
