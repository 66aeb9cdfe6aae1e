import { describe, expect, it } from 'vitest';
import { IntakeIntegrationStats } from '../../../../operator/api/webhook.ts';
import {
  MAX_TEXT,
  bucketOf,
  clip,
  firstRecentBucket,
  isRecent,
  statsRow,
} from '../../../../operator/intake/inbox/figures.ts';
import {
  bumpRecent,
  emptyCounts,
  keyToken,
} from '../../../../operator/intake/inbox/jetstream-state.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 2, 3, 0, 0); // a whole minute
const integration = { namespace: 'payments', name: 'stripe', uid: 'u1' };

describe('the recent window (15 minutes, minute buckets)', () => {
  it.each([
    ['the same minute', T0, T0, true],
    ['14 minutes later', T0, T0 + 14 * MINUTE, true],
    ['16 minutes later: the bucket ended before the window', T0, T0 + 16 * MINUTE, false],
    ['half a minute into the bucket, 15 minutes on', T0 + MINUTE / 2, T0 + 15 * MINUTE, true],
    ['20 minutes earlier', T0 - 20 * MINUTE, T0, false],
  ])('%s', (_name, at, now, recent) => {
    expect(isRecent(bucketOf(at), now)).toBe(recent);
    expect(bucketOf(at) >= firstRecentBucket(now)).toBe(recent);
  });
});

describe('clip', () => {
  it('keeps short text and cuts long text to the stats bound', () => {
    expect(clip('bad signature')).toBe('bad signature');
    expect(clip('x'.repeat(1000))).toHaveLength(MAX_TEXT);
  });
});

describe('statsRow', () => {
  it('writes times as RFC 3339 and leaves unknown fields out', () => {
    const row = statsRow({
      integration,
      ...{ accepted: 2, duplicate: 1, rejected: 0, ignored: 0, pending: 1, deadLettered: 0 },
      ...{ recentAccepted: 2, recentRejected: 0, lastEventTime: T0, lastEventId: 'evt_1' },
    });
    expect(IntakeIntegrationStats.parse(row)).toEqual(row);
    expect(row).toEqual({
      ...integration,
      ...{ accepted: 2, duplicate: 1, rejected: 0, ignored: 0, pending: 1, deadLettered: 0 },
      ...{ recentAccepted: 2, recentRejected: 0 },
      lastEventTime: '2026-01-02T03:00:00Z',
      lastEventId: 'evt_1',
    });
  });
});

describe('JetStream counters', () => {
  it('bumpRecent counts in the bucket and drops buckets older than the window', () => {
    const doc = emptyCounts(integration);
    bumpRecent(doc, bucketOf(T0 - 30 * MINUTE), 0, T0 - 30 * MINUTE);
    bumpRecent(doc, bucketOf(T0), 0, T0);
    bumpRecent(doc, bucketOf(T0), 1, T0);
    expect(doc.recent).toEqual({ [String(bucketOf(T0))]: [1, 1] });
  });

  it('keyToken maps any id to KV key characters, distinct ids to distinct tokens', () => {
    const ids = ['evt_1', 'a b/c', 'ü.*>', '', 'evt_1 '];
    const tokens = ids.map(keyToken);
    for (const token of tokens) expect(token).toMatch(/^[-_A-Za-z0-9]+$/);
    expect(new Set(tokens).size).toBe(ids.length);
  });
});
