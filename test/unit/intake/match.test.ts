import { describe, expect, it } from 'vitest';
import { MAX_MATCH_RECORDS, matchRoute } from '../../../operator/intake/match.ts';
import { appliedInbox, sqliteStore, startIntakeStandIn } from '../runtime/gaps/intake.ts';

const body = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('matchRoute (POST /match)', () => {
  it.each([
    ['an applied version equal to the one read', '2025-01-01T10:00:00Z', true],
    ['a newer applied version', '2025-01-01T11:00:00Z', true],
    [
      'an older applied version (the delivery carried an earlier change)',
      '2025-01-01T09:00:00Z',
      false,
    ],
    ['the same content hash', 'sha256:aa', true],
    ['another content hash', 'sha256:bb', false],
  ] as const)('%s → matched %s', async (_name, applied, matched) => {
    const inbox = appliedInbox();
    inbox.apply('uid-1', 'r1', applied);
    const read = applied.startsWith('sha256:') ? 'sha256:aa' : '2025-01-01T10:00:00Z';
    const [status, text, type] = await matchRoute(
      inbox,
      body({ uid: 'uid-1', records: [{ id: 'r1', version: read }] }),
    );
    expect([status, type]).toEqual([200, 'application/json']);
    expect(JSON.parse(text)).toEqual({ matched: matched ? ['r1'] : [] });
  });

  it('matches only within the Integration (uid) and leaves records no delivery applied', async () => {
    const inbox = appliedInbox();
    inbox.apply('uid-1', 'a', '5');
    inbox.apply('uid-2', 'b', '5');
    const records = ['a', 'b', 'c'].map((id) => ({ id, version: '5' }));
    const [status, text] = await matchRoute(inbox, body({ uid: 'uid-1', records }));
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({ matched: ['a'] });
  });

  it('answers every one of 500 records', async () => {
    const inbox = appliedInbox();
    const records = Array.from({ length: MAX_MATCH_RECORDS }, (_, i) => ({
      id: `r${i}`,
      version: '2',
    }));
    for (const { id } of records.filter((_, i) => i % 3 === 0)) inbox.apply('u', id, '2');
    const [, text] = await matchRoute(inbox, body({ uid: 'u', records }));
    expect((JSON.parse(text) as { matched: string[] }).matched).toHaveLength(167);
    expect(inbox.lookups).toBe(MAX_MATCH_RECORDS);
  });

  it.each([
    ['not JSON', Buffer.from('{nope')],
    ['no body', undefined],
    ['no uid', body({ records: [] })],
    ['an empty uid', body({ uid: '', records: [] })],
    ['a record without a version', body({ uid: 'u', records: [{ id: 'a' }] })],
    ['a numeric id', body({ uid: 'u', records: [{ id: 1, version: '1' }] })],
    ['an unknown field', body({ uid: 'u', records: [], extra: true })],
    [
      'more than 500 delivery ids',
      body({ uid: 'u', deliveries: Array.from({ length: 501 }, (_, i) => `evt_${i}`) }),
    ],
    ['a numeric delivery id', body({ uid: 'u', deliveries: [1] })],
    [
      'more than 500 records',
      body({
        uid: 'u',
        records: Array.from({ length: 501 }, (_, i) => ({ id: `r${i}`, version: '1' })),
      }),
    ],
  ])('400 for %s, without asking the store', async (_name, raw) => {
    const inbox = appliedInbox();
    const [status, text] = await matchRoute(inbox, raw);
    expect(status).toBe(400);
    expect((JSON.parse(text) as { error: string }).error).toMatch(/^bad match request/);
    expect(inbox.lookups).toBe(0);
  });

  it('503 while the store is unavailable', async () => {
    const inbox = appliedInbox();
    inbox.down = true;
    const [status] = await matchRoute(
      inbox,
      body({ uid: 'u', records: [{ id: 'a', version: '1' }] }),
    );
    expect(status).toBe(503);
  });
});

describe('POST /match over the real SQLite inbox', () => {
  it('matches what workers completed with an applied version not older than the one read', async () => {
    const store = await sqliteStore();
    const intake = await startIntakeStandIn(store.inbox);
    try {
      await store.apply('uid-1', 'a', '2025-01-01T10:00:00Z');
      await store.apply('uid-1', 'b', '2025-01-01T10:05:00Z');
      await store.apply('uid-1', 'c', '2025-01-01T09:00:00Z');
      await store.apply('uid-2', 'd', '2025-01-01T10:00:00Z');
      const records = ['a', 'b', 'c', 'd', 'e'].map((id) => ({
        id,
        version: '2025-01-01T10:00:00Z',
      }));
      const res = await fetch(`${intake.url}/match`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ uid: 'uid-1', records }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ matched: ['a', 'b'] });
      expect((await fetch(`${intake.url}/match`)).status).toBe(405);
    } finally {
      await intake.stop();
      await store.close();
    }
  });

  it('answers which delivery ids the store holds for the uid (stored), records optional', async () => {
    const store = await sqliteStore();
    try {
      await store.store('uid-1', 'evt_a');
      await store.store('uid-1', 'evt_b');
      await store.store('uid-2', 'evt_c');
      await store.apply('uid-1', 'a', '1');
      const deliveries = ['evt_a', 'evt_b', 'evt_c', 'evt_d'];
      const [status, text] = await matchRoute(store.inbox, body({ uid: 'uid-1', deliveries }));
      expect(status).toBe(200);
      expect(JSON.parse(text)).toEqual({ matched: [], stored: ['evt_a', 'evt_b'] });
      const both = await matchRoute(
        store.inbox,
        body({ uid: 'uid-1', records: [{ id: 'a', version: '1' }], deliveries: [] }),
      );
      expect(JSON.parse(both[1])).toEqual({ matched: ['a'], stored: [] });
    } finally {
      await store.close();
    }
  });

  it('answers 503 when the store cannot be read (the database closed)', async () => {
    const store = await sqliteStore();
    await store.apply('uid-1', 'a', '1');
    await store.inbox.close();
    const [status] = await matchRoute(
      store.inbox,
      body({ uid: 'uid-1', records: [{ id: 'a', version: '1' }] }),
    );
    expect(status).toBe(503);
    await store.close();
  });
});
