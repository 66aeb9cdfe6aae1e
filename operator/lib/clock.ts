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
      const handle = setTimeout(fn, Math.max(0, ms));
      if (options.keepAlive !== true) handle.unref();
      return () => {
        clearTimeout(handle);
      };
    },
  };
}

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
