import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../support/fake-clock.ts';
import { RateLimiter, type Reservation, TokenBucket } from '../../../operator/lib/ratelimit.ts';

/** One step on a bucket: take a token at `at` ms, or cancel the reservation of step `cancel`. */
type Step = { at: number; take: true } | { at: number; cancel: number };

/** The wait of every take in `steps`, in order (cancels yield nothing). */
function waits(options: { qps: number; burst: number }, steps: Step[]): number[] {
  const bucket = new TokenBucket(options);
  const taken: Reservation[] = [];
  const result: number[] = [];
  for (const step of steps) {
    if ('take' in step) {
      const reservation = bucket.take(step.at);
      taken.push(reservation);
      result.push(Math.round(reservation.waitMs));
    } else {
      const reservation = taken[step.cancel];
      if (reservation === undefined) throw new Error(`no take #${step.cancel}`);
      bucket.cancel(reservation, step.at);
      taken.push(reservation); // keeps the step numbering
    }
  }
  return result;
}

const take = (at: number): Step => ({ at, take: true });

describe('TokenBucket (client-go flowcontrol semantics)', () => {
  it.each<{ name: string; qps: number; burst: number; steps: Step[]; expected: number[] }>([
    {
      name: 'starts full: the burst at once, then one token per 1/qps',
      qps: 2,
      burst: 3,
      steps: [take(0), take(0), take(0), take(0), take(0)],
      expected: [0, 0, 0, 500, 1000],
    },
    {
      name: 'refills while idle, never above the burst',
      qps: 1,
      burst: 2,
      steps: [take(0), take(0), take(10_000), take(10_000), take(10_000)],
      expected: [0, 0, 0, 0, 1000],
    },
    {
      name: 'a fractional rate: one token every 2 s; waits queue up in debt',
      qps: 0.5,
      burst: 1,
      steps: [take(0), take(0), take(1000)],
      expected: [0, 2000, 3000],
    },
    {
      name: 'a part token refilled shortens the wait',
      qps: 10,
      burst: 1,
      steps: [take(0), take(50)],
      expected: [0, 50],
    },
    {
      name: 'an abandoned last wait gives its token back: the next caller takes its place',
      qps: 1,
      burst: 1,
      steps: [take(0), take(0), { at: 500, cancel: 1 }, take(500)],
      expected: [0, 1000, 500],
    },
    {
      name: 'an abandoned wait with callers behind it gives nothing back: they keep their places',
      qps: 1,
      burst: 1,
      steps: [take(0), take(0), take(0), { at: 100, cancel: 1 }, take(100)],
      expected: [0, 1000, 2000, 2900],
    },
    {
      name: 'a wait whose time came was used: cancelling it gives nothing back',
      qps: 1,
      burst: 1,
      steps: [take(0), take(0), { at: 1000, cancel: 1 }, take(1000)],
      expected: [0, 1000, 1000],
    },
    {
      name: 'a token given back after idling is capped at the burst',
      qps: 1,
      burst: 2,
      steps: [
        take(0),
        take(0),
        take(0),
        { at: 900, cancel: 2 },
        take(60_000),
        take(60_000),
        take(60_000),
      ],
      expected: [0, 0, 1000, 0, 0, 1000],
    },
  ])('$name', ({ qps, burst, steps, expected }) => {
    expect(waits({ qps, burst }, steps)).toEqual(expected);
  });
});

/** Starts `count` waits on `limiter`; each records the fake time it resolved or rejected at. */
function startWaits(limiter: RateLimiter, clock: FakeClock, signals: (AbortSignal | undefined)[]) {
  const ended: (number | string)[] = signals.map(() => 'pending');
  const done = signals.map((signal, index) =>
    limiter.wait(signal).then(
      () => (ended[index] = clock.now()),
      (error: unknown) => (ended[index] = `aborted: ${(error as Error).message}`),
    ),
  );
  return { ended, done };
}

describe('RateLimiter', () => {
  it('lets the burst through at once and the rest at qps, first come first served', async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({ qps: 10, burst: 2, clock });
    const { ended } = startWaits(limiter, clock, [undefined, undefined, undefined, undefined]);
    await clock.advance(1000);
    expect(ended).toEqual([0, 0, 100, 200]);
  });

  it('resolves to the milliseconds waited', async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({ qps: 4, burst: 1, clock });
    expect(await limiter.wait()).toBe(0);
    const second = limiter.wait();
    await clock.advance(250);
    expect(await second).toBe(250);
  });

  it("ends a wait when the caller's signal aborts, and the token goes to the next caller", async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({ qps: 1, burst: 1, clock });
    const abort = new AbortController();
    const { ended } = startWaits(limiter, clock, [undefined, abort.signal]);
    await clock.advance(300);
    abort.abort(new Error('reconcile cancelled'));
    await clock.advance(0);
    expect(ended).toEqual([0, 'aborted: reconcile cancelled']);
    expect(clock.pendingTimers()).toBe(0);
    const next = startWaits(limiter, clock, [undefined]);
    await clock.advance(1000);
    expect(next.ended).toEqual([1000]); // the abandoned slot, not one behind it
  });

  it('refuses at once, taking no token, when the signal has already aborted', async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({ qps: 1, burst: 1, clock });
    const { ended } = startWaits(limiter, clock, [AbortSignal.abort(new Error('gone'))]);
    await clock.advance(0);
    expect(ended).toEqual(['aborted: gone']);
    expect(await limiter.wait()).toBe(0);
  });
});
