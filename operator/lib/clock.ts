/**
 * Time as an injected dependency: every timer in the machinery goes through a {@link Clock}, so
 * tests drive time with a fake clock (test/support/fake-clock.ts) instead of sleeping.
 */

/** Cancels a pending timer; calling it after the timer fired, or twice, does nothing. */
export type Cancel = () => void;

/** A source of wall-clock time and timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds (negative means 0); returns a canceller. */
  setTimeout(fn: () => void, ms: number): Cancel;
}

/**
 * The real clock: `Date.now()` and `setTimeout`. By default timers are unref'd, so a long-lived
 * process (the operator) exits once its servers close even with requeue timers pending; a
 * short-lived run passes `keepAlive: true`, or a retry's wait would let the process exit early.
 */
export function systemClock(options: { keepAlive?: boolean } = {}): Clock {
  return {
    now: () => Date.now(),
    setTimeout(fn, ms) {
      let handle: NodeJS.Timeout;
      // Node fires a delay beyond MAX_TIMER_MS after 1 ms (TimeoutOverflowWarning): wait it out
      // in stretches, or a run due in a month would be reconciled in a hot loop.
      const arm = (remaining: number) => {
        const stretch = Math.min(Math.max(0, remaining), MAX_TIMER_MS);
        handle = setTimeout(() => {
          if (remaining > MAX_TIMER_MS) arm(remaining - MAX_TIMER_MS);
          else fn();
        }, stretch);
        if (options.keepAlive !== true) handle.unref();
      };
      arm(ms);
      return () => {
        clearTimeout(handle);
      };
    },
  };
}

/** The longest delay Node's setTimeout takes (2^31 − 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Sleeps `ms` on `clock`; resolves early (without throwing) when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const onAbort = () => {
      cancel();
      resolve();
    };
    const cancel = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
