/** A manual {@link Clock} for tests: time moves only when a test advances it. */
import type { Cancel, Clock } from '../../operator/lib/clock.ts';

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

  /**
   * Jumps to `ms` without firing any timer, as a process sees time after SIGSTOP/SIGCONT: the
   * clock moved on, the timers have not run yet. The next {@link advance} fires what is due.
   */
  set(ms: number): void {
    this.#now = Math.max(this.#now, ms);
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
