import { describe, expect, it } from 'vitest';
import { readAhead } from '../../../operator/runtime/pool.ts';

/** A source whose items resolve only when the test says so, logging what happens. */
function controlledSource(items: number, failAt?: number) {
  const log: string[] = [];
  const releases: (() => void)[] = [];
  async function* source(): AsyncGenerator<number, void, undefined> {
    try {
      for (let i = 0; i < items; i++) {
        log.push(`fetch ${i}`);
        await new Promise<void>((resolve) => releases.push(resolve));
        if (i === failAt) throw new Error(`page ${i} failed`);
        log.push(`fetched ${i}`);
        yield i;
      }
    } finally {
      log.push('closed');
    }
  }
  const release = async () => {
    for (let tries = 0; releases.length === 0 && tries < 100; tries++) await Promise.resolve();
    releases.shift()?.();
  };
  return { source, log, release };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('readAhead', () => {
  it('fetches item N+1 while the consumer works on item N, in order', async () => {
    const { source, log, release } = controlledSource(3);
    const seen: number[] = [];
    const consuming = (async () => {
      for await (const item of readAhead(source())) {
        log.push(`consume ${item}`);
        await tick();
        seen.push(item);
      }
    })();
    for (let i = 0; i < 3; i++) {
      await release();
      await tick();
    }
    await consuming;
    expect(seen).toEqual([0, 1, 2]);
    // The fetch of 1 starts before 0 is consumed; the fetch of 2 before 1 is.
    expect(log.indexOf('fetch 1')).toBeLessThan(log.indexOf('consume 0'));
    expect(log.indexOf('fetch 2')).toBeLessThan(log.indexOf('consume 1'));
    expect(log).toContain('closed');
  });

  it('surfaces a failed read-ahead only when the consumer asks for that item', async () => {
    const { source, release } = controlledSource(3, 1);
    const consumed: number[] = [];
    const consuming = (async () => {
      for await (const item of readAhead(source())) {
        // Item 1 fails while item 0 is being consumed; item 0 still completes.
        await release();
        await tick();
        consumed.push(item);
      }
    })();
    await release();
    await expect(consuming).rejects.toThrow('page 1 failed');
    expect(consumed).toEqual([0]);
  });

  it('closes the source and swallows a read-ahead in flight when the consumer stops early', async () => {
    const { source, log, release } = controlledSource(5, 1);
    const consuming = (async () => {
      for await (const item of readAhead(source())) {
        if (item === 0) {
          await release(); // item 1's fetch rejects while nobody waits for it
          throw new Error('consumer failed');
        }
      }
    })();
    await release();
    await expect(consuming).rejects.toThrow('consumer failed');
    expect(log).toContain('closed');
  });

  it('ends at once on an empty source', async () => {
    const items: number[] = [];
    for await (const item of readAhead((async function* () {})())) items.push(item);
    expect(items).toEqual([]);
  });
});
