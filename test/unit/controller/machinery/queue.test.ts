import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../support/fake-clock.ts';
import {
  WorkQueue,
  type WorkQueueOptions,
} from '../../../../operator/controller/machinery/queue.ts';
import { backoffDelayMs, TokenBucket } from '../../../../operator/lib/ratelimit.ts';

/** A queue on a fake clock; `depth` is the last depth it reported (what its gauge shows). */
function newQueue(overrides: Partial<WorkQueueOptions> = {}) {
  const clock = new FakeClock(0);
  let depth = 0;
  const queue = new WorkQueue({
    name: 'test',
    clock,
    random: () => 0,
    ...overrides,
    onDepth: (value) => {
      depth = value;
      overrides.onDepth?.(value);
    },
  });
  return { clock, queue, depth: () => depth };
}

/** Takes every ready key (marking each done) without waiting. */
async function drain(queue: WorkQueue, depth: () => number): Promise<string[]> {
  const keys: string[] = [];
  while (depth() > 0) {
    const key = await queue.get();
    if (key === undefined) break;
    keys.push(key);
    queue.done(key);
  }
  return keys;
}

describe('WorkQueue add/get/done', () => {
  it('dedupes a key that is already queued', async () => {
    const { queue, depth } = newQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(depth()).toBe(2);
    expect(await drain(queue, depth)).toEqual(['ns/a', 'ns/b']);
  });

  it('queues a key added while in flight only after done, and only once', async () => {
    const { queue, depth } = newQueue();
    queue.add('ns/a');
    const key = await queue.get();
    expect(depth()).toBe(0);
    queue.add('ns/a');
    queue.add('ns/a');
    // Counted in the depth at once, as client-go does: it waits for the in-flight reconcile.
    expect(depth()).toBe(1);
    const next = queue.get();
    queue.done(key ?? '');
    expect(await next).toBe('ns/a');
    expect(depth()).toBe(0);
  });

  it('hands a key to a waiting get() as soon as it is added', async () => {
    const { queue, depth } = newQueue();
    const pending = queue.get();
    queue.add('ns/a');
    expect(await pending).toBe('ns/a');
    expect(depth()).toBe(0);
  });

  it('reports how long a key waited and the depth', async () => {
    const waits: [string, number][] = [];
    const depths: number[] = [];
    const { clock, queue } = newQueue({
      onDequeue: (k, ms) => waits.push([k, ms]),
      onDepth: (d) => depths.push(d),
    });
    queue.add('ns/a');
    queue.add('ns/b');
    await clock.advance(250);
    await queue.get();
    expect(waits).toEqual([['ns/a', 250]]);
    expect(depths).toEqual([1, 2, 1]);
  });

  it('reports each add that queued a key, and how long each key was in flight', async () => {
    const adds: string[] = [];
    const worked: [string, number][] = [];
    const { clock, queue } = newQueue({
      onAdd: (k) => adds.push(k),
      onDone: (k, ms) => worked.push([k, ms]),
    });
    queue.add('ns/a');
    queue.add('ns/a'); // deduped: not an add
    queue.add('ns/b');
    const a = (await queue.get()) ?? '';
    await clock.advance(100);
    const b = (await queue.get()) ?? '';
    await clock.advance(400);
    queue.done(b);
    queue.done(a);
    queue.done(a); // not in flight any more: nothing
    expect(adds).toEqual(['ns/a', 'ns/b']);
    expect(worked).toEqual([
      ['ns/b', 400],
      ['ns/a', 500],
    ]);
  });

  it('tells the work in flight: the sum over keys and the longest', async () => {
    const { clock, queue } = newQueue();
    expect(queue.unfinishedWork()).toEqual({ totalMs: 0, longestMs: 0 });
    queue.add('ns/a');
    queue.add('ns/b');
    const a = (await queue.get()) ?? '';
    await clock.advance(2000);
    await queue.get();
    await clock.advance(1000);
    expect(queue.unfinishedWork()).toEqual({ totalMs: 4000, longestMs: 3000 });
    queue.done(a);
    expect(queue.unfinishedWork()).toEqual({ totalMs: 1000, longestMs: 1000 });
  });
});

describe('WorkQueue.addAfter', () => {
  it('makes keys ready in due order', async () => {
    const { clock, queue, depth } = newQueue();
    queue.addAfter('ns/a', 30);
    queue.addAfter('ns/b', 10);
    queue.addAfter('ns/c', 20);
    await clock.advance(29);
    expect(depth()).toBe(2);
    await clock.advance(1);
    expect(await drain(queue, depth)).toEqual(['ns/b', 'ns/c', 'ns/a']);
  });

  it.each([
    { name: 'a sooner second timer replaces the first', first: 100, second: 50, readyAt: 50 },
    { name: 'a later second timer is ignored', first: 50, second: 100, readyAt: 50 },
  ])('$name', async ({ first, second, readyAt }) => {
    const { clock, queue, depth } = newQueue();
    queue.addAfter('ns/a', first);
    queue.addAfter('ns/a', second);
    await clock.advance(readyAt - 1);
    expect(depth()).toBe(0);
    await clock.advance(1);
    expect(await drain(queue, depth)).toEqual(['ns/a']);
    await clock.advance(200);
    expect(depth()).toBe(0);
  });

  it('cancelAfter drops the timer of a key: it never becomes ready and nothing is held', async () => {
    const { clock, queue, depth } = newQueue();
    queue.addAfter('ns/gone', 30 * 86_400_000);
    queue.addAfter('ns/kept', 20);
    queue.cancelAfter('ns/gone');
    queue.cancelAfter('ns/never-added');
    expect(queue.delayedCount).toBe(1);
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(31 * 86_400_000);
    expect(await drain(queue, depth)).toEqual(['ns/kept']);
    expect(queue.delayedCount).toBe(0);
  });

  it('adds at once for a non-positive delay', () => {
    const { queue, depth } = newQueue();
    queue.addAfter('ns/a', 0);
    expect(depth()).toBe(1);
  });

  it('reports every delayed add as a retry, as client-go counts them', () => {
    const retries: string[] = [];
    const { queue } = newQueue({ onRetry: (k) => retries.push(k) });
    queue.addAfter('ns/a', 1000);
    queue.addAfter('ns/a', 2000); // a later timer is ignored, but it was asked for
    queue.addAfter('ns/b', 0);
    queue.add('ns/c');
    queue.shutDown();
    queue.addAfter('ns/d', 10);
    expect(retries).toEqual(['ns/a', 'ns/a', 'ns/b']);
  });
});

describe('backoffDelayMs', () => {
  it.each([
    { failures: 0, random: 0, expected: 5 },
    { failures: 1, random: 0, expected: 10 },
    { failures: 10, random: 0, expected: 5 * 1024 },
    { failures: 30, random: 0, expected: 300_000 },
    { failures: 5000, random: 0, expected: 300_000 },
    { failures: 3, random: 0.5, expected: 40 * 1.05 },
    { failures: 30, random: 0.999, expected: 300_000 },
  ])('failure #$failures with random $random → $expected ms', ({ failures, random, expected }) => {
    expect(backoffDelayMs(failures, {}, () => random)).toBeCloseTo(expected, 6);
  });

  it('stays within [d, 1.1·d] under real jitter and never exceeds the cap', () => {
    for (let failures = 0; failures < 40; failures++) {
      const base = Math.min(300_000, 5 * 2 ** failures);
      for (let i = 0; i < 50; i++) {
        const delay = backoffDelayMs(failures);
        expect(delay).toBeGreaterThanOrEqual(base);
        expect(delay).toBeLessThanOrEqual(Math.min(300_000, base * 1.1));
      }
    }
  });
});

describe('TokenBucket', () => {
  it('grants the burst, then paces at qps, and refills while idle', () => {
    const bucket = new TokenBucket({ qps: 1, burst: 2 });
    expect([bucket.reserve(0), bucket.reserve(0), bucket.reserve(0), bucket.reserve(0)]).toEqual([
      0, 0, 1000, 2000,
    ]);
    // Debt of two tokens is repaid at t=2s; by t=5s three tokens refilled, capped at burst 2.
    expect(bucket.reserve(5000)).toBe(0);
    expect(bucket.reserve(5000)).toBe(0);
    expect(bucket.reserve(5000)).toBe(1000);
  });
});

describe('WorkQueue.addRateLimited', () => {
  it('backs off exponentially per key and forget resets it', async () => {
    const { clock, queue, depth } = newQueue();
    const readyAfter = async (): Promise<number> => {
      const start = clock.now();
      queue.addRateLimited('ns/a');
      while (depth() === 0) await clock.advance(1);
      await drain(queue, depth);
      return clock.now() - start;
    };
    expect([
      await readyAfter(),
      await readyAfter(),
      await readyAfter(),
      await readyAfter(),
    ]).toEqual([5, 10, 20, 40]);
    expect(queue.numRequeues('ns/a')).toBe(4);
    queue.forget('ns/a');
    expect(queue.numRequeues('ns/a')).toBe(0);
    expect(await readyAfter()).toBe(5);
  });

  it('delays by the overall rate limit when it is longer than the item backoff', async () => {
    const retries: string[] = [];
    const { clock, queue, depth } = newQueue({ qps: 1, burst: 1, onRetry: (k) => retries.push(k) });
    queue.addRateLimited('ns/a');
    queue.addRateLimited('ns/b');
    await clock.advance(5);
    expect(await drain(queue, depth)).toEqual(['ns/a']);
    await clock.advance(994);
    expect(depth()).toBe(0);
    await clock.advance(1);
    expect(await drain(queue, depth)).toEqual(['ns/b']);
    expect(retries).toEqual(['ns/a', 'ns/b']);
  });
});

describe('WorkQueue.retryNow', () => {
  it('queues at once the keys waiting out a backoff; a requested requeue keeps its timer', async () => {
    const { clock, queue, depth } = newQueue({ baseDelayMs: 60_000 });
    queue.addRateLimited('ns/failed');
    queue.addAfter('ns/scheduled', 30_000);
    queue.add('ns/ready');
    expect(await drain(queue, depth)).toEqual(['ns/ready']);
    expect(queue.retryNow()).toBe(1);
    expect(await drain(queue, depth)).toEqual(['ns/failed']);
    expect(queue.delayedCount).toBe(1);
    expect(queue.numRequeues('ns/failed')).toBe(0); // its backoff starts over
    await clock.advance(30_000);
    expect(await drain(queue, depth)).toEqual(['ns/scheduled']);
    await clock.advance(60_000);
    expect(depth()).toBe(0); // the old backoff timer is gone
    expect(queue.retryNow()).toBe(0);
  });
});

describe('WorkQueue shutdown', () => {
  it('releases waiting and future get() with undefined and ignores adds', async () => {
    const { clock, queue, depth } = newQueue();
    const waiting = queue.get();
    queue.addAfter('ns/later', 10);
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    queue.add('ns/a');
    await clock.advance(10);
    expect(depth()).toBe(0);
    expect(await queue.get()).toBeUndefined();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('shutDownWithDrain resolves only after in-flight keys are done', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    const key = await queue.get();
    let drained = false;
    const drainDone = queue.shutDownWithDrain().then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);
    queue.done(key ?? '');
    await drainDone;
    expect(drained).toBe(true);
  });
});
