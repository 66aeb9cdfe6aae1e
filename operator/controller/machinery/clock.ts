/**
 * Time as an injected dependency: every timer in the machinery goes through a {@link Clock}, so
 * tests drive time with {@link FakeClock} instead of sleeping.
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

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/** A manual clock for tests: time moves only through {@link FakeClock.advance}. */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: FakeTimer[] = [];

  /** Starts at `startMs` (ms epoch; default 2025-01-01T00:00:00Z). */
  constructor(startMs = Date.UTC(2025, 0, 1)) {
    this.#now = startMs;
  }

  /** The current fake time in ms epoch. */
  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at now + `ms`; timers due at the same instant fire in scheduling order. */
  setTimeout(fn: () => void, ms: number): Cancel {
    const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Number of timers not yet fired or cancelled. */
  pendingTimers(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward by `ms`, firing due timers in time order with `now()` set to each timer's
   * due time; lets pending promise callbacks run between timers.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.#nextDue(target);
      if (next === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = next.at;
      next.fn();
      await flushMicrotasks();
    }
    this.#now = target;
    await flushMicrotasks();
  }

  #nextDue(target: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.#timers) {
      if (t.at > target) continue;
      if (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

/** Lets every pending promise callback run: waits one turn of the event loop (no timers). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
