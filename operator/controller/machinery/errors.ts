/**
 * The machinery's error family. Behaviour changes by `code`, never by message;
 * client and HTTP errors are converted once, at the boundary, by {@link toApiError}.
 */

/** Every stable code of the family. */
export type MachineryErrorCode = 'TERMINAL' | 'WAIT' | 'API' | 'SHUTDOWN';

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

/**
 * Thrown by a reconciler that must wait for something outside its control: the key's failure
 * count is reset and it is requeued after `retryAfterMs` (no exponential backoff).
 */
export class WaitError extends MachineryError {
  readonly code = 'WAIT';
  override readonly name = 'WaitError';
  /** How long to wait before the next reconcile, in milliseconds. */
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number, options?: ErrorOptions) {
    super(message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

/** An API server answered with a non-success HTTP status (or the watch sent an ERROR Status). */
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

/** The component was shut down while the operation was pending. */
export class ShutdownError extends MachineryError {
  readonly code = 'SHUTDOWN';
  override readonly name = 'ShutdownError';
}

/** True for an {@link ApiError} with HTTP status `status`. */
export function isApiStatus(err: unknown, status: number): boolean {
  return err instanceof ApiError && err.status === status;
}

/**
 * Converts a thrown client-node `ApiException` (has numeric `code` and a `body`), an error
 * carrying `statusCode`, or an ApiError into an {@link ApiError}; anything else is returned as is.
 */
export function toApiError(err: unknown): unknown {
  if (err instanceof ApiError || typeof err !== 'object' || err === null) return err;
  const candidate = err as {
    code?: unknown;
    statusCode?: unknown;
    body?: unknown;
    message?: unknown;
  };
  const status = typeof candidate.code === 'number' ? candidate.code : candidate.statusCode;
  if (typeof status !== 'number') return err;
  const body = parseStatusBody(candidate.body);
  const message =
    body.message ?? (typeof candidate.message === 'string' ? candidate.message : `HTTP ${status}`);
  return new ApiError(status, message, body.reason, { cause: err });
}

function parseStatusBody(body: unknown): { message?: string; reason?: string } {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return {};
    }
  }
  if (typeof value !== 'object' || value === null) return {};
  const { message, reason } = value as { message?: unknown; reason?: unknown };
  return {
    ...(typeof message === 'string' ? { message } : {}),
    ...(typeof reason === 'string' ? { reason } : {}),
  };
}

/** Any concrete member of the family; `switch (err.code)` narrows it. */
export type AnyMachineryError = TerminalError | WaitError | ApiError | ShutdownError;

/** True when `err` belongs to the family. */
export function isMachineryError(err: unknown): err is AnyMachineryError {
  return err instanceof MachineryError;
}
