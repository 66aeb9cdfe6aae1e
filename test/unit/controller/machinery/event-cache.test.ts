import { describe, expect, it } from 'vitest';
import {
  COMBINED_PREFIX,
  EventCache,
  type EventIdentity,
  eventKey,
  Lru,
  similarKey,
} from '../../../../operator/controller/machinery/event-cache.ts';

const T0 = Date.UTC(2026, 0, 5, 10);
const MINUTE = 60_000;

const event: EventIdentity = {
  involvedObject: {
    apiVersion: 'tributary.dev/v1alpha1',
    kind: 'Integration',
    namespace: 'payments',
    name: 'stripe',
    uid: 'u-1',
  },
  type: 'Warning',
  reason: 'SyncFailed',
  message: 'upstream 503',
  component: 'tributary-operator',
  reportingController: 'tributary.dev/operator',
  reportingInstance: 'pod-a',
};

/** A name source that counts, so tests see which occurrence named a new Event. */
function names(): () => string {
  let n = 0;
  return () => `stripe.${++n}`;
}

describe('EventCache: repeats', () => {
  it('counts 20 repeats of one Event on the first one, keeping its first time', () => {
    const cache = new EventCache();
    const name = names();
    const seen = Array.from({ length: 20 }, (_, i) => cache.correlate(event, T0 + i * 1000, name));
    expect(seen[0]).toEqual({
      name: 'stripe.1',
      count: 1,
      firstTimestamp: T0,
      message: 'upstream 503',
      repeat: false,
    });
    expect(seen.map((s) => s.count)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(seen.map((s) => s.name))).toEqual(new Set(['stripe.1']));
    expect(seen.slice(1).every((s) => s.repeat && s.firstTimestamp === T0)).toBe(true);
  });

  it.each<[string, Partial<EventIdentity>]>([
    ['message', { message: 'upstream 504' }],
    ['type', { type: 'Normal' }],
    ['reason', { reason: 'RetriesExhausted' }],
    ['source component', { component: 'other' }],
    ['reporting instance', { reportingInstance: 'pod-b' }],
    [
      'involved object uid (a re-created Integration)',
      {
        involvedObject: { ...event.involvedObject, uid: 'u-2' },
      },
    ],
  ])('treats a different %s as a different Event', (_, change) => {
    const cache = new EventCache();
    const name = names();
    cache.correlate(event, T0, name);
    const other = cache.correlate({ ...event, ...change }, T0 + 1000, name);
    expect(other).toMatchObject({ name: 'stripe.2', count: 1, repeat: false });
    expect(eventKey({ ...event, ...change })).not.toBe(eventKey(event));
  });
});

describe('EventCache: similar Events (same reason, different messages)', () => {
  const nth = (i: number): EventIdentity => ({ ...event, message: `attempt ${i} failed` });

  it('combines the 10th different message within 10 minutes into one counted Event', () => {
    const cache = new EventCache();
    const name = names();
    const first = Array.from({ length: 9 }, (_, i) => cache.correlate(nth(i), T0 + i, name));
    expect(first.map((s) => s.name)).toEqual(first.map((_, i) => `stripe.${i + 1}`));
    const tenth = cache.correlate(nth(9), T0 + 10, name);
    expect(tenth).toEqual({
      name: 'stripe.10',
      count: 1,
      firstTimestamp: T0 + 10,
      message: `${COMBINED_PREFIX}attempt 9 failed`,
      repeat: false,
    });
    const eleventh = cache.correlate(nth(10), T0 + 11, name);
    expect(eleventh).toMatchObject({
      name: 'stripe.10',
      count: 2,
      message: `${COMBINED_PREFIX}attempt 10 failed`,
      repeat: true,
    });
  });

  it('starts afresh when no similar Event came for 10 minutes', () => {
    const cache = new EventCache();
    const name = names();
    for (let i = 0; i < 9; i++) cache.correlate(nth(i), T0, name);
    const later = cache.correlate(nth(9), T0 + 10 * MINUTE + 1, name);
    expect(later.message).toBe('attempt 9 failed');
  });

  it('groups by everything but the message', () => {
    expect(similarKey(nth(1))).toBe(similarKey(nth(2)));
    expect(similarKey({ ...event, reason: 'Other' })).not.toBe(similarKey(event));
  });
});

describe('EventCache: bounded memory', () => {
  it('forgets the least recently used Event beyond its size: its repeat is a new Event', () => {
    const cache = new EventCache({ size: 2 });
    const name = names();
    const a = { ...event, message: 'a' };
    cache.correlate(a, T0, name);
    cache.correlate({ ...event, message: 'b' }, T0, name);
    cache.correlate({ ...event, message: 'c' }, T0, name);
    expect(cache.correlate(a, T0, name)).toMatchObject({ name: 'stripe.4', count: 1 });
  });

  it('forgets a deleted object: its next Event is new; other objects keep their counts', () => {
    const cache = new EventCache();
    const name = names();
    const other = { ...event, involvedObject: { ...event.involvedObject, name: 'stripe-eu' } };
    const policy = {
      ...event,
      involvedObject: { ...event.involvedObject, kind: 'ReconcilePolicy' },
    };
    cache.correlate(event, T0, name);
    cache.correlate(other, T0, name);
    cache.correlate(policy, T0, name);
    cache.forgetObject('Integration', 'payments', 'stripe');
    expect(cache.correlate(event, T0, name)).toMatchObject({ name: 'stripe.4', count: 1 });
    expect(cache.correlate(other, T0, name)).toMatchObject({ name: 'stripe.2', count: 2 });
    expect(cache.correlate(policy, T0, name)).toMatchObject({ name: 'stripe.3', count: 2 });
  });

  it('Lru: a read makes an entry the most recently used', () => {
    const lru = new Lru<number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3);
    expect([lru.get('a'), lru.get('b'), lru.get('c'), lru.size]).toEqual([1, undefined, 3, 2]);
  });
});
