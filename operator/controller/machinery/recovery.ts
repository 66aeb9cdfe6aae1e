/**
 * What an informer does after a list or watch attempt ends, as pure functions: relist or
 * re-watch, after which backoff (client-go's reflector pacing), and how long the next watch asks
 * the server to keep it open.
 */
import { ApiError } from '../../lib/kube/errors.ts';
import { backoffDelayMs } from '../../lib/ratelimit.ts';

/** Pacing of watch retries; defaults follow client-go's reflector backoff manager. */
export interface WatchRetryOptions {
  /** First retry delay, in ms. Default 800. */
  initialBackoffMs?: number;
  /** Largest retry delay, in ms. Default 30_000. */
  maxBackoffMs?: number;
  /** A watch open at least this long counts as a successful period and resets backoff, in ms. Default 60_000. */
  backoffResetMs?: number;
  /** A watch that ends cleanly sooner than this is treated as a failure (no hot loop), in ms. Default 1_000. */
  minWatchMs?: number;
}

/** Backoff state carried between attempts. */
export interface RetryState {
  /** Consecutive failures since the last successful period. */
  failures: number;
}

/** How one list or watch attempt ended. */
export interface AttemptEnding {
  /** Which call ended. */
  phase: 'list' | 'watch';
  /** The error, when it failed; absent when a watch was closed cleanly by the server. */
  error?: unknown;
  /** How long the attempt ran, in ms. */
  durationMs: number;
}

/** What the loop does next: relist or re-watch, after `delayMs`, and whether this was an error. */
export interface Recovery {
  state: RetryState;
  relist: boolean;
  delayMs: number;
  /** True when the ending counts as an error (logged, counted, affects health). */
  failed: boolean;
}

/** True for 410 Gone: the resourceVersion is too old to resume from. */
export function isGone(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    (error.status === 410 || error.reason === 'Expired' || error.reason === 'Gone')
  );
}

/** Decides what follows an attempt's ending; pure, `random` in [0, 1) jitters the backoff. */
export function decideRecovery(
  state: RetryState,
  ending: AttemptEnding,
  options: WatchRetryOptions = {},
  random: () => number = Math.random,
): Recovery {
  const resetMs = options.backoffResetMs ?? 60_000;
  const healthyPeriod = ending.phase === 'watch' && ending.durationMs >= resetMs;
  const failures = healthyPeriod ? 0 : state.failures;
  if (ending.error === undefined && ending.durationMs >= (options.minWatchMs ?? 1_000)) {
    return { state: { failures: 0 }, relist: false, delayMs: 0, failed: false };
  }
  if (isGone(ending.error) && ending.phase === 'watch') {
    return { state: { failures }, relist: true, delayMs: 0, failed: false };
  }
  // 429: the server answers but asks for a moment ("storage is (re)initializing" after an etcd
  // restart, a priority level's queue full): retry after the first step, whatever came before.
  const busy = ending.error instanceof ApiError && ending.error.status === 429;
  const delayMs = backoffDelayMs(
    busy ? 0 : failures,
    {
      baseDelayMs: options.initialBackoffMs ?? 800,
      maxDelayMs: options.maxBackoffMs ?? 30_000,
      jitter: 1,
    },
    random,
  );
  return {
    state: { failures: busy ? failures : failures + 1 },
    relist: ending.phase === 'list' || isGone(ending.error),
    delayMs,
    failed: true,
  };
}

/** The server-side watch timeout in seconds: uniformly in [min, 2·min), like client-go. */
export function watchTimeoutSeconds(
  minWatchTimeoutMs: number,
  random: () => number = Math.random,
): number {
  return Math.max(1, Math.floor((minWatchTimeoutMs * (1 + random())) / 1000));
}
