/**
 * Retry pacing as pure data: per-item exponential backoff with jitter, and an overall token
 * bucket. The {@link WorkQueue} combines both and waits for the longer of the two delays; the API
 * transport waits on the same bucket through {@link RateLimiter} (the client request budget).
 */
import type { Clock } from './clock.ts';

/** Options of {@link backoffDelayMs}. */
export interface BackoffOptions {
  /** Delay after the first failure, in milliseconds. Default 5. */
  baseDelayMs?: number;
  /** Upper bound of any delay, in milliseconds. Default 300_000 (5 min). */
  maxDelayMs?: number;
  /** Extra random fraction added to each delay, in [0, 1]. Default 0.1 (up to +10%). */
  jitter?: number;
}

/** Default per-item backoff: 5 ms doubling to a 5 min cap, +0–10% jitter. */
export const DEFAULT_BACKOFF: Required<BackoffOptions> = {
  baseDelayMs: 5,
  maxDelayMs: 300_000,
  jitter: 0.1,
};

/**
 * Delay before retry number `failures + 1`: `base * 2^failures`, plus up to `jitter` of itself
 * (`random()` in [0, 1)), never above `maxDelayMs`.
 */
export function backoffDelayMs(
  failures: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const { baseDelayMs, maxDelayMs, jitter } = { ...DEFAULT_BACKOFF, ...options };
  // 2^failures overflows to Infinity for large counts; min() keeps it finite.
  const exponential = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, failures));
  return Math.min(maxDelayMs, exponential * (1 + jitter * random()));
}

/** Options of {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Sustained rate, in tokens per second. Default 10. */
  qps?: number;
  /** Bucket size: tokens available at once after idling. Default 100. */
  burst?: number;
}

/** A token taken from a {@link TokenBucket}: how long to wait for it, and the instant it is valid. */
export interface Reservation {
  /** Milliseconds from the reservation until the token may be used; 0 for at once. */
  waitMs: number;
  /** When the token may be used, in ms epoch. */
  atMs: number;
}

/**
 * An overall rate limit: each {@link TokenBucket.reserve} takes one token, going into debt when
 * empty, and returns how long the caller must wait for its token (like x/time/rate's Reserve).
 * The bucket starts full.
 */
export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  #tokens: number | undefined;
  #lastMs = 0;
  /** When the latest reservation may act (x/time/rate's lastEvent). */
  #lastEventMs = Number.NEGATIVE_INFINITY;

  /** Defaults: 10 qps, burst 100. */
  constructor(options: TokenBucketOptions = {}) {
    this.#qps = options.qps ?? 10;
    this.#burst = options.burst ?? 100;
  }

  /** Takes a token at `nowMs` (ms epoch); returns the wait in milliseconds until it is valid. */
  reserve(nowMs: number): number {
    return this.take(nowMs).waitMs;
  }

  /** Takes a token at `nowMs` (ms epoch); returns when it is valid. */
  take(nowMs: number): Reservation {
    this.#tokens = this.#tokensAt(nowMs) - 1;
    this.#lastMs = Math.max(this.#lastMs, nowMs);
    const waitMs = this.#tokens >= 0 ? 0 : (-this.#tokens / this.#qps) * 1000;
    const atMs = nowMs + waitMs;
    this.#lastEventMs = Math.max(this.#lastEventMs, atMs);
    return { waitMs, atMs };
  }

  /**
   * Gives back the token of a wait abandoned at `nowMs` (x/time/rate's Reservation.Cancel): only
   * the part no later reservation counts on, since those keep their place. A token whose time
   * has come was used: nothing is given back.
   */
  cancel(reservation: Reservation, nowMs: number): void {
    if (reservation.atMs <= nowMs) return;
    const restore = 1 - ((this.#lastEventMs - reservation.atMs) / 1000) * this.#qps;
    if (restore <= 1e-9) return;
    this.#tokens = Math.min(this.#burst, this.#tokensAt(nowMs) + restore);
    this.#lastMs = Math.max(this.#lastMs, nowMs);
    if (reservation.atMs === this.#lastEventMs) {
      const previousMs = reservation.atMs - 1000 / this.#qps;
      if (previousMs >= nowMs) this.#lastEventMs = previousMs;
    }
  }

  /** The tokens at `nowMs`: refilled at qps since the last take, at most the burst. */
  #tokensAt(nowMs: number): number {
    if (this.#tokens === undefined) return this.#burst;
    const elapsedMs = Math.max(0, nowMs - this.#lastMs);
    return Math.min(this.#burst, this.#tokens + (elapsedMs / 1000) * this.#qps);
  }
}

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Sustained rate, in requests per second (may be fractional). Required. */
  qps: number;
  /** Requests allowed at once after idling. Required. */
  burst: number;
  /** Time source of the waits. Required (`systemClock()` in production). */
  clock: Clock;
}

/**
 * A blocking token bucket, client-go's flowcontrol token bucket rate limiter: QPS refill, burst
 * capacity, and each {@link RateLimiter.wait} takes a token, waiting (first come, first served)
 * until it is valid. The caller's signal ends the wait: the call rejects with the signal's
 * reason and the token goes back as far as no later waiter counts on it.
 */
export class RateLimiter {
  readonly #clock: Clock;
  readonly #bucket: TokenBucket;

  /** Stores options; the bucket starts full. */
  constructor(options: RateLimiterOptions) {
    this.#clock = options.clock;
    this.#bucket = new TokenBucket({ qps: options.qps, burst: options.burst });
  }

  /** Waits for a token; resolves to the milliseconds waited; rejects when `signal` aborts. */
  wait(signal?: AbortSignal): Promise<number> {
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    const reservation = this.#bucket.take(this.#clock.now());
    if (reservation.waitMs <= 0) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        cancelTimer();
        this.#bucket.cancel(reservation, this.#clock.now());
        reject(abortReason(signal));
      };
      const cancelTimer = this.#clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(reservation.waitMs);
      }, reservation.waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** What an aborted signal carries, as an Error. */
function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return new Error(typeof reason === 'string' ? reason : 'aborted');
}
