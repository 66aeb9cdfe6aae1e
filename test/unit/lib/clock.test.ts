import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, sleep, systemClock } from '../../../operator/lib/clock.ts';
import { FakeClock } from '../../support/fake-clock.ts';

describe('FakeClock', () => {
  it('fires due timers in time order, then scheduling order, with now() at each due time', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push('late'), 31);
    await clock.advance(30);
    expect(fired).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.now()).toBe(30);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('does not fire cancelled timers', async () => {
    const clock = new FakeClock(0);
    let fired = false;
    const cancel = clock.setTimeout(() => (fired = true), 5);
    cancel();
    await clock.advance(10);
    expect(fired).toBe(false);
  });

  it('sleep resolves at the deadline or on abort', async () => {
    const clock = new FakeClock(0);
    let done = false;
    void sleep(clock, 100).then(() => (done = true));
    await clock.advance(99);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(done).toBe(true);
    const abort = new AbortController();
    let aborted = false;
    void sleep(clock, 1_000, abort.signal).then(() => (aborted = true));
    abort.abort();
    await clock.advance(0);
    expect(aborted).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits out a delay beyond setTimeout’s 32-bit limit (24.8 days) instead of firing at once', () => {
    vi.useFakeTimers();
    const delays: number[] = [];
    const native = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation((fn: () => void, ms?: number) => {
      delays.push(ms ?? 0);
      return native(fn, ms);
    });
    const day = 86_400_000;
    let fired = 0;
    systemClock().setTimeout(() => fired++, 60 * day);
    vi.advanceTimersByTime(1000);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(60 * day - 1001);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(1);
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_TIMER_MS);
  });

  it('cancels a long timer in any of its stretches', () => {
    vi.useFakeTimers();
    let fired = 0;
    const cancel = systemClock().setTimeout(() => fired++, MAX_TIMER_MS * 2);
    vi.advanceTimersByTime(MAX_TIMER_MS + 5);
    cancel();
    vi.advanceTimersByTime(MAX_TIMER_MS * 2);
    expect(fired).toBe(0);
  });
});
