/**
 * Retry pacing as pure data: per-item exponential backoff with jitter, and an overall token
 * bucket. The {@link WorkQueue} combines both and waits for the longer of the two delays.
 */

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

/**
 * An overall rate limit: each {@link TokenBucket.reserve} takes one token, going into debt when
 * empty, and returns how long the caller must wait for its token (like x/time/rate's Reserve).
 */
export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  #tokens: number | undefined;
  #lastMs = 0;

  /** Defaults: 10 qps, burst 100. */
  constructor(options: TokenBucketOptions = {}) {
    this.#qps = options.qps ?? 10;
    this.#burst = options.burst ?? 100;
  }

  /** Takes a token at `nowMs` (ms epoch); returns the wait in milliseconds until it is valid. */
  reserve(nowMs: number): number {
    const elapsedMs = Math.max(0, nowMs - this.#lastMs);
    const refilled =
      this.#tokens === undefined ? this.#burst : this.#tokens + (elapsedMs / 1000) * this.#qps;
    this.#lastMs = nowMs;
    this.#tokens = Math.min(this.#burst, refilled) - 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.#qps) * 1000;
  }
}
