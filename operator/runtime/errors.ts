/**
 * The runtime's error family. Every failure of a run is one {@link SyncError} whose `code` is a
 * error class of docs/connectors.md (or `Interrupted`), decided once where the failure enters the runtime
 * (the HTTP edge, configuration checks); everything above switches on `code`, never on messages.
 */
import type { ErrorClass } from '../api/index.ts';

/**
 * Stable codes of the family: the error classes of docs/connectors.md plus `Interrupted`
 * (SIGTERM, abort). Not `InvalidRecord`: a bad record is quarantined with that reason, never
 * thrown (custom connectors may still report the class).
 */
export type SyncErrorCode = Exclude<ErrorClass, 'InvalidRecord'> | 'Interrupted';

/** Whether another attempt may succeed after an error of `code`. */
export function isRetryable(code: SyncErrorCode): boolean {
  switch (code) {
    case 'Timeout':
    case 'RateLimited':
    case 'ServerError':
    case 'Network':
    case 'Internal':
    case 'Interrupted':
      return true;
    case 'Authentication':
    case 'Configuration':
    case 'NotFound':
      return false;
  }
}

/** The error class a result reports for `code` (`Interrupted` is reported as `Internal`). */
export function resultClass(code: SyncErrorCode): ErrorClass {
  return code === 'Interrupted' ? 'Internal' : code;
}

/** Details of a {@link SyncError} besides its code and message. */
export interface SyncErrorDetails {
  /** HTTP status of the answer that caused it; absent when no answer arrived. */
  status?: number | undefined;
  /** How long the server asked us to wait (Retry-After), in milliseconds. */
  retryAfterMs?: number | undefined;
  /** The underlying error, kept for logs (never for classification). */
  cause?: unknown;
}

/** A classified runtime failure. The message never contains a secret (see {@link redact}). */
export class SyncError extends Error {
  override readonly name = 'SyncError';
  /** The stable class of the failure. */
  readonly code: SyncErrorCode;
  /** Whether another attempt (request or run) may succeed. */
  readonly retryable: boolean;
  /** HTTP status of the answer that caused it; undefined when no answer arrived. */
  readonly status: number | undefined;
  /** Server-requested wait before retrying, in milliseconds; undefined when not given. */
  readonly retryAfterMs: number | undefined;

  constructor(code: SyncErrorCode, message: string, details: SyncErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.retryable = isRetryable(code);
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** Throws an `Interrupted` {@link SyncError} saying `message` once `signal` is aborted. */
export function throwIfInterrupted(signal: AbortSignal | undefined, message: string): void {
  if (signal?.aborted === true) throw new SyncError('Interrupted', message);
}

/** Converts anything thrown into a {@link SyncError}; unknown errors become `Internal`. */
export function toSyncError(error: unknown): SyncError {
  if (error instanceof SyncError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SyncError('Internal', `unexpected error: ${message}`, { cause: error });
}

const REDACTED = '[REDACTED]';
const CREDENTIAL_PATTERNS = [
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi,
  /\b(sk|rk|pk)_(live|test)_[A-Za-z0-9]+/g,
  /\bshpat_[A-Za-z0-9]+/g,
];

/**
 * Removes secrets from `text`: every occurrence of a known secret value (4 characters or more)
 * and anything shaped like a credential (`Bearer …`, `Basic …`, Stripe and Shopify keys).
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  for (const pattern of CREDENTIAL_PATTERNS) {
    out = out.replace(pattern, (match, scheme: unknown) =>
      typeof scheme === 'string' && /^(bearer|basic)$/i.test(scheme)
        ? `${scheme} ${REDACTED}`
        : REDACTED,
    );
  }
  return out;
}
