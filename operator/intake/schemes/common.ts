/**
 * What every signature scheme shares: the request as the verifiers see it, the verdict, and the
 * few checks each scheme repeats (constant-time digest comparison, the timestamp window, the
 * event id when the body carries none). No secret or digest ever reaches a `problem`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { formatDuration } from '../../api/formats.ts';

/** A delivery as received: its headers (looked up by lower-case name) and its raw body bytes. */
export interface SignedRequest {
  /** The header's value, `undefined` when absent; `name` is lower-case. */
  header(name: string): string | undefined;
  /** The raw body, exactly as received (verified before any parsing). */
  body: Buffer;
}

/** The verdict on one delivery. */
export type Verification =
  | {
      ok: true;
      /** The provider's delivery or event id, or `sha256:<hex of body>` when it has none. */
      id: string;
      /** The event type as the provider names it, `''` when the delivery carries none. */
      eventType: string;
      /** When the sender signed it (epoch ms), for schemes that sign a timestamp. */
      signedAt?: number;
    }
  | {
      ok: false;
      /** What is wrong, for the rejection counts and logs: never a secret or a digest. */
      problem: string;
    };

/** What a scheme's verifier is given. */
export interface VerifyInput {
  request: SignedRequest;
  /** The candidate secrets (1-3): a delivery is authentic when any of them verifies it. */
  secrets: readonly string[];
  /** Now, epoch ms. */
  now: number;
  /** How far a signed timestamp may be from `now`, in ms. */
  toleranceMs: number;
}

/** A refusal. */
export function refuse(problem: string): Verification {
  return { ok: false, problem };
}

/** True when both digests have the same length and bytes (constant time; never throws). */
export function sameDigest(expected: Buffer, given: Buffer): boolean {
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** `"X does not match any of the 2 secrets"`, worded for one secret too. */
export function noSecretMatches(what: string, secrets: number): string {
  return secrets === 1
    ? `${what} does not match the secret`
    : `${what} does not match any of the ${secrets} secrets`;
}

/** Why a signed timestamp is refused, or `undefined` when it is within `toleranceMs` of `now`. */
export function timestampProblem(
  signedAt: number,
  now: number,
  toleranceMs: number,
): string | undefined {
  const age = now - signedAt;
  const bound = `the ${formatDuration(toleranceMs)} tolerance`;
  if (age > toleranceMs) {
    return `timestamp ${formatDuration(age)} old, outside ${bound} by ${formatDuration(age - toleranceMs)}`;
  }
  if (-age > toleranceMs) {
    return `timestamp ${formatDuration(-age)} in the future, outside ${bound} by ${formatDuration(-age - toleranceMs)}`;
  }
  return undefined;
}

/** The body as a JSON object, or `undefined` when it is not one (still authentic). */
export function jsonObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A non-empty string field of `object`, if any. */
export function stringField(
  object: Record<string, unknown> | undefined,
  name: string,
): string | undefined {
  const value = object?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The id of a delivery that carries none: the body's digest, so its duplicates are still one. */
export function bodyId(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/** A header's value, `undefined` when absent or blank. */
export function headerOf(request: SignedRequest, name: string): string | undefined {
  const value = request.header(name)?.trim();
  return value === undefined || value === '' ? undefined : value;
}
