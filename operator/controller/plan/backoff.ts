/**
 * Retry timing of failed attempts: exponential backoff capped at `maxInterval`, with AWS "full
 * jitter" or none. Pure: randomness is injected, so tests and replays are deterministic.
 */
import type { EffectivePolicy } from '../../api/index.ts';
import { parseDuration } from '../../api/index.ts';

/** Input of {@link retryDelay}. */
export interface RetryDelayInput {
  /** The attempt that just failed, from 1. */
  attempt: number;
  /** The retry policy in force. */
  retry: EffectivePolicy['retry'];
  /** A uniform random number in [0, 1), e.g. Math.random; only used with jitter Full. */
  random: () => number;
}

/**
 * Milliseconds to wait before the attempt after `attempt`: `min(maxInterval, initialInterval ×
 * coefficient^(attempt − 1))`, drawn uniformly from [0, that] with jitter Full, exactly that with
 * None. Whole milliseconds; unparseable durations count as 0.
 */
export function retryDelay({ attempt, retry, random }: RetryDelayInput): number {
  const initial = parseDuration(retry.initialInterval) ?? 0;
  const cap = parseDuration(retry.maxInterval) ?? 0;
  const exponential = initial * retry.backoffCoefficient ** Math.max(0, attempt - 1);
  const ceiling = Number.isFinite(exponential) ? Math.min(cap, exponential) : cap;
  switch (retry.jitter) {
    case 'None':
      return Math.round(ceiling);
    case 'Full':
      return Math.floor(Math.min(Math.max(random(), 0), 1) * ceiling);
  }
}

/** What follows a failed attempt: another attempt at a time, or nothing (retries exhausted). */
export type NextAttempt =
  | { exhausted: true }
  | {
      exhausted: false;
      /** The number of the next attempt. */
      attempt: number;
      /** When the next attempt is due. */
      at: Date;
      /** Milliseconds from the failure to the next attempt. */
      delay: number;
    };

/** Input of {@link nextAttempt}. */
export interface NextAttemptInput extends RetryDelayInput {
  /** When the attempt failed (its Job finished); the delay counts from here. */
  failedAt: Date;
}

/**
 * Decides what follows failed attempt `attempt`: exhausted when `attempt ≥ maxAttempts`, else
 * the next attempt number and when it is due.
 */
export function nextAttempt(input: NextAttemptInput): NextAttempt {
  if (input.attempt >= input.retry.maxAttempts) return { exhausted: true };
  const delay = retryDelay(input);
  return {
    exhausted: false,
    attempt: input.attempt + 1,
    at: new Date(input.failedAt.getTime() + delay),
    delay,
  };
}
