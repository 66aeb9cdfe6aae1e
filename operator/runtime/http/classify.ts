/**
 * Error classification at the HTTP edge: HTTP statuses and socket/undici failures become
 * {@link SyncErrorCode}s here and nowhere else (docs/connectors.md, "Output"; one typed family, never matched by message).
 */
import type { SyncErrorCode } from '../errors.ts';

/**
 * The class of a non-2xx HTTP status: 401/403 Authentication, 404 NotFound, 408 Timeout,
 * 429 RateLimited, 5xx ServerError, any other status (other 4xx, unexpected 1xx/3xx)
 * Configuration. Callers that give 409/422 a meaning of their own ask the client to pass those
 * statuses through instead.
 */
export function classifyStatus(status: number): SyncErrorCode {
  if (status === 401 || status === 403) return 'Authentication';
  if (status === 404) return 'NotFound';
  if (status === 408) return 'Timeout';
  if (status === 429) return 'RateLimited';
  if (status >= 500 && status <= 599) return 'ServerError';
  return 'Configuration';
}

const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

/** TLS failures: retrying cannot help until a certificate or the URL changes. */
const CONFIGURATION_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'ERR_INVALID_URL',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

/** The `code` properties along an error's cause chain, outermost first (at most 5 levels). */
function errorCodes(error: unknown): { codes: string[]; names: string[] } {
  const codes: string[] = [];
  const names: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const { code, name, cause } = current as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof code === 'string') codes.push(code);
    if (typeof name === 'string') names.push(name);
    current = cause;
  }
  return { codes, names };
}

/**
 * The class of a request that got no HTTP answer: timeouts (connect, headers, body) are
 * `Timeout`; resets, refusals, hang-ups and DNS failures are `Network`; TLS and invalid-URL
 * failures are `Configuration`; an abort is `Interrupted`; anything else is `Network`, because
 * it happened on the wire.
 */
export function classifyFailure(error: unknown): SyncErrorCode {
  const { codes, names } = errorCodes(error);
  if (names.includes('AbortError') || codes.includes('UND_ERR_ABORTED')) return 'Interrupted';
  for (const code of codes) {
    if (TIMEOUT_CODES.has(code)) return 'Timeout';
    if (NETWORK_CODES.has(code)) return 'Network';
    if (CONFIGURATION_CODES.has(code)) return 'Configuration';
  }
  if (names.includes('TimeoutError')) return 'Timeout';
  return 'Network';
}
