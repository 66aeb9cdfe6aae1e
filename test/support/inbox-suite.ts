/**
 * The conformance suite of the durable inbox port (operator/api/inbox.ts): the same cases run
 * against every engine (test/integration/inbox.test.ts: a fresh SQLite file, a fresh JetStream
 * stream on a real nats-server). Time is real: leases and retry delays are short and the cases
 * poll until a delivery comes back, bounded, never asserting how long anything took.
 */
import { describe, expect, it } from 'vitest';
import type { ClaimedDelivery, Inbox, InboxDelivery } from '../../operator/api/inbox.ts';
import { InboxUnavailableError } from '../../operator/api/inbox.ts';
import { IntakeIntegrationStats } from '../../operator/api/webhook.ts';
import { rfc3339 } from '../../operator/lib/time.ts';

/** One store of an engine, fresh for one test. */
export interface InboxStore {
  /** A new connection to this store (a second intake replica, or the same one after a restart). */
  open(): Promise<Inbox>;
  /**
   * Makes the store unavailable to `inbox` (or to a new read-only handle) and returns the handle
   * that must now fail, with a way back.
   */
  breakStore(inbox: Inbox): Promise<{ broken: Inbox; restore(): Promise<void> }>;
  /** Restarts the server, keeping its file store (engines with a server). */
  restartServer?(): Promise<void>;
}

/** An engine under test. */
export interface InboxEngine {
  name: 'sqlite' | 'jetstream';
  /** A fresh, empty store. */
  fresh(): Promise<InboxStore>;
}

const POLL_MS = 100;
const WAIT_MS = 20_000;
const LEASE_MS = 60_000;

const integration = { namespace: 'payments', name: 'stripe-customers', uid: 'uid-1' };
const other = { namespace: 'shop', name: 'orders', uid: 'uid-2' };

function delivery(id: string, receivedAt: number, over: Partial<InboxDelivery> = {}) {
  const body = JSON.stringify({ id, type: 'customer.updated', data: { object: { id: 'cus_1' } } });
  const base = { integration, id, scheme: 'stripe', eventType: 'customer.updated' } as const;
  return { ...base, receivedAt, body, ...over } satisfies InboxDelivery;
}

/** The delivery, which the case claimed before (fails the case when it did not). */
function the(claimed: ClaimedDelivery | undefined): ClaimedDelivery {
  if (claimed === undefined) throw new Error('nothing was claimed');
  return claimed;
}

/** Claims until at least `count` deliveries came back (bounded), returning what was claimed. */
async function claimUntil(inbox: Inbox, count: number, leaseMs = LEASE_MS) {
  const deadline = Date.now() + WAIT_MS;
  const claimed: ClaimedDelivery[] = [];
  while (claimed.length < count) {
    if (Date.now() > deadline) throw new Error(`claimed ${claimed.length} of ${count}`);
    claimed.push(...(await inbox.claim(count - claimed.length, Date.now(), leaseMs)));
    if (claimed.length < count) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return claimed;
}

async function rowOf(inbox: Inbox, uid = integration.uid, now = Date.now()) {
  const rows = await inbox.stats(now);
  for (const row of rows) IntakeIntegrationStats.parse(row);
  return rows.find((row) => row.uid === uid);
}

async function withStore(engine: InboxEngine, test: (store: InboxStore, inbox: Inbox) => unknown) {
  const store = await engine.fresh();
  const inbox = await store.open();
  try {
    await test(store, inbox);
  } finally {
    await inbox.close();
  }
}

/** Registers the conformance cases for `engine`. */
export function inboxConformance(engine: InboxEngine): void {
  describe(`inbox conformance: ${engine.name}`, () => {
    storingCases(engine);
    claimingCases(engine);
    figureCases(engine);
    durabilityCases(engine);
  });
}

function storingCases(engine: InboxEngine): void {
  it('stores a delivery once: the same (uid, id) again is a duplicate, another uid is not', () =>
    withStore(engine, async (_store, inbox) => {
      const now = Date.now();
      expect(inbox.engine).toBe(engine.name);
      expect(await inbox.put(delivery('evt_1', now))).toBe('stored');
      expect(await inbox.put(delivery('evt_1', now + 1))).toBe('duplicate');
      expect(await inbox.put(delivery('evt_1', now, { integration: other }))).toBe('stored');
      const row = await rowOf(inbox);
      expect(row).toMatchObject({ accepted: 1, duplicate: 1, pending: 1, lastEventId: 'evt_1' });
      expect(row?.lastEventTime).toBe(rfc3339(new Date(now)));
    }));

  it('20 concurrent puts of one delivery over two connections: one stored, 19 duplicates', () =>
    withStore(engine, async (store, inbox) => {
      const second = await store.open();
      try {
        expect(second.store).toBe(inbox.store);
        const now = Date.now();
        const puts = Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? inbox : second).put(delivery('evt_race', now)),
        );
        const outcomes = await Promise.all(puts);
        expect(outcomes.filter((outcome) => outcome === 'stored')).toHaveLength(1);
        expect(outcomes.filter((outcome) => outcome === 'duplicate')).toHaveLength(19);
        const claimed = await claimUntil(inbox, 1);
        expect(claimed.map((d) => d.id)).toEqual(['evt_race']);
        expect(await inbox.claim(10, Date.now(), LEASE_MS)).toEqual([]);
        expect(await rowOf(second)).toMatchObject({ accepted: 1, duplicate: 19, pending: 1 });
      } finally {
        await second.close();
      }
    }));

  it('a done delivery stays a duplicate (its id is kept) and its body is not handed out again', () =>
    withStore(engine, async (_store, inbox) => {
      await inbox.put(delivery('evt_done', Date.now()));
      const [claimed] = await claimUntil(inbox, 1);
      await inbox.complete(the(claimed), undefined);
      expect(await inbox.put(delivery('evt_done', Date.now()))).toBe('duplicate');
      expect(await inbox.claim(10, Date.now(), LEASE_MS)).toEqual([]);
      expect(await rowOf(inbox)).toMatchObject({ accepted: 1, duplicate: 1, pending: 0 });
    }));
}

function claimingCases(engine: InboxEngine): void {
  it('claims oldest first, at most max, with the delivery as stored and 0 attempts', () =>
    withStore(engine, async (_store, inbox) => {
      const start = Date.now() - 3000;
      for (const [i, id] of ['evt_a', 'evt_b', 'evt_c'].entries()) {
        await inbox.put(delivery(id, start + i * 1000));
      }
      const first = await claimUntil(inbox, 2);
      expect(first.map((d) => d.id)).toEqual(['evt_a', 'evt_b']);
      expect(first[0]).toMatchObject({ ...delivery('evt_a', start), attempts: 0 });
      const rest = await claimUntil(inbox, 1);
      expect(rest.map((d) => d.id)).toEqual(['evt_c']);
      expect(await inbox.claim(10, Date.now(), LEASE_MS)).toEqual([]);
    }));

  it('an expired lease is claimable again, with one attempt counted', () =>
    withStore(engine, async (_store, inbox) => {
      await inbox.put(delivery('evt_lease', Date.now()));
      const [first] = await claimUntil(inbox, 1, 3000);
      expect(first?.attempts).toBe(0);
      expect(await inbox.claim(10, Date.now(), 3000)).toEqual([]);
      const [again] = await claimUntil(inbox, 1, 3000);
      expect(again).toMatchObject({ id: 'evt_lease', attempts: 1 });
      await inbox.complete(the(again), undefined);
      expect(await rowOf(inbox)).toMatchObject({ pending: 0 });
    }));

  it('retry makes it pending again from retryAt, not before', () =>
    withStore(engine, async (_store, inbox) => {
      await inbox.put(delivery('evt_retry', Date.now()));
      const [first] = await claimUntil(inbox, 1);
      await inbox.retry(the(first), Date.now() + 2500, 'destination answered 503');
      expect(await inbox.claim(10, Date.now(), LEASE_MS)).toEqual([]);
      expect(await rowOf(inbox)).toMatchObject({ pending: 1 });
      const [again] = await claimUntil(inbox, 1);
      expect(again).toMatchObject({ id: 'evt_retry', attempts: 1 });
    }));

  it('dead letters are kept aside and re-driven once per request value', () =>
    withStore(engine, async (_store, inbox) => {
      const stored = delivery('evt_dead', Date.now());
      await inbox.put(stored);
      await inbox.deadLetter(the((await claimUntil(inbox, 1))[0]), 'rejected by the destination');
      expect(await rowOf(inbox)).toMatchObject({ pending: 0, deadLettered: 1 });
      expect(await inbox.claim(10, Date.now(), LEASE_MS)).toEqual([]);
      expect(await inbox.redrive(integration, '2026-01-01T00:00:00Z')).toBe(1);
      expect(await inbox.redrive(integration, '2026-01-01T00:00:00Z')).toBe(0);
      const [back] = await claimUntil(inbox, 1);
      expect(back).toMatchObject({ id: 'evt_dead', body: stored.body, attempts: 0 });
      expect(await rowOf(inbox)).toMatchObject({
        deadLettered: 0,
        lastHandledRedriveRequest: '2026-01-01T00:00:00Z',
      });
      await inbox.deadLetter(the(back), 'rejected again');
      expect(await inbox.redrive(integration, '2026-01-01T00:00:00Z')).toBe(0);
      expect(await rowOf(inbox)).toMatchObject({ deadLettered: 1 });
      expect(await inbox.redrive(integration, '2026-01-02T00:00:00Z')).toBe(1);
      expect(await inbox.redrive(other, '2026-01-02T00:00:00Z')).toBe(0);
    }));

  it('keeps the applied version per (uid, record id) as complete gives it', () =>
    withStore(engine, async (_store, inbox) => {
      expect(await inbox.appliedVersion(integration.uid, 'cus_1')).toBeUndefined();
      await inbox.put(delivery('evt_v1', Date.now()));
      await inbox.put(delivery('evt_v2', Date.now() + 1));
      const [v1, v2] = await claimUntil(inbox, 2);
      await inbox.complete(the(v1), { recordId: 'cus_1', version: '1700000001' });
      expect(await inbox.appliedVersion(integration.uid, 'cus_1')).toBe('1700000001');
      await inbox.complete(the(v2), { recordId: 'cus_1', version: '1700000002' });
      expect(await inbox.appliedVersion(integration.uid, 'cus_1')).toBe('1700000002');
      expect(await inbox.appliedVersion(other.uid, 'cus_1')).toBeUndefined();
      expect(await inbox.appliedVersion(integration.uid, 'cus_2')).toBeUndefined();
    }));

  it('says whether a (uid, delivery id) is stored: pending, done and dead-lettered alike', () =>
    withStore(engine, async (_store, inbox) => {
      expect(await inbox.hasDelivery(integration.uid, 'evt_has')).toBe(false);
      await inbox.put(delivery('evt_has', Date.now()));
      await inbox.put(delivery('evt_dead_has', Date.now() + 1));
      expect(await inbox.hasDelivery(integration.uid, 'evt_has')).toBe(true);
      const [done, dead] = await claimUntil(inbox, 2);
      await inbox.complete(the(done), undefined);
      await inbox.deadLetter(the(dead), 'cannot apply');
      expect(await inbox.hasDelivery(integration.uid, 'evt_has')).toBe(true);
      expect(await inbox.hasDelivery(integration.uid, 'evt_dead_has')).toBe(true);
      expect(await inbox.hasDelivery(other.uid, 'evt_has')).toBe(false);
      expect(await inbox.hasDelivery(integration.uid, 'evt_other')).toBe(false);
    }));
}

function figureCases(engine: InboxEngine): void {
  it('counts rejected and ignored deliveries, the recent window and the oldest pending', () =>
    withStore(engine, async (_store, inbox) => {
      const now = Date.now();
      const old = now - 20 * 60_000;
      await inbox.put(delivery('evt_old', old));
      await inbox.put(delivery('evt_new', now));
      await inbox.count(integration, 'rejected', 'signature mismatch', old);
      await inbox.count(integration, 'rejected', 'timestamp outside the tolerance', now);
      await inbox.count(integration, 'ignored', 'charge.succeeded', now);
      await inbox.count(other, 'ignored', 'orders/create', now);
      const row = await rowOf(inbox, integration.uid, now);
      expect(row).toEqual({
        ...integration,
        accepted: 2,
        duplicate: 0,
        rejected: 2,
        ignored: 1,
        pending: 2,
        deadLettered: 0,
        recentAccepted: 1,
        recentRejected: 1,
        lastEventTime: rfc3339(new Date(now)),
        lastEventId: 'evt_new',
        oldestPendingTime: rfc3339(new Date(old)),
        lastRejection: 'timestamp outside the tolerance',
      });
      expect(await rowOf(inbox, other.uid, now)).toMatchObject({ ignored: 1, accepted: 0 });
      expect((await rowOf(inbox, integration.uid, now + 20 * 60_000))?.recentAccepted).toBe(0);
    }));
}

function durabilityCases(engine: InboxEngine): void {
  it('keeps everything across close and reopen: store, counts, pending, dedupe', () =>
    withStore(engine, async (store, inbox) => {
      await inbox.put(delivery('evt_kept', Date.now()));
      await inbox.put(delivery('evt_applied', Date.now() + 1));
      const [, applied] = await claimUntil(inbox, 2, 3000);
      await inbox.complete(the(applied), { recordId: 'cus_1', version: 'v9' });
      await inbox.count(integration, 'rejected', 'bad signature', Date.now());
      const before = await rowOf(inbox);
      await inbox.close();
      const reopened = await store.open();
      try {
        expect(reopened.store).toBe(inbox.store);
        expect(await rowOf(reopened)).toEqual(before);
        expect(await reopened.put(delivery('evt_applied', Date.now()))).toBe('duplicate');
        expect(await reopened.appliedVersion(integration.uid, 'cus_1')).toBe('v9');
        expect((await claimUntil(reopened, 1, 3000)).map((d) => d.id)).toEqual(['evt_kept']);
      } finally {
        await reopened.close();
      }
    }));

  it('after close every method throws InboxUnavailableError', () =>
    withStore(engine, async (store) => {
      const inbox = await store.open();
      await inbox.close();
      await expect(inbox.put(delivery('evt_closed', Date.now()))).rejects.toThrow(
        InboxUnavailableError,
      );
      await expect(inbox.claim(1, Date.now(), LEASE_MS)).rejects.toThrow(InboxUnavailableError);
      await expect(inbox.stats(Date.now())).rejects.toThrow(InboxUnavailableError);
      expect(await inbox.healthy()).toBe(false);
    }));

  it('an unavailable store refuses to store (InboxUnavailableError, never a resolved put)', () =>
    withStore(engine, async (store, inbox) => {
      expect(await inbox.healthy()).toBe(true);
      await inbox.put(delivery('evt_before', Date.now()));
      const outage = await store.breakStore(inbox);
      const broken = outage.broken;
      try {
        const put = broken.put(delivery('evt_during', Date.now()));
        await expect(put).rejects.toThrow(InboxUnavailableError);
        await expect(put).rejects.toThrow(/unavailable while storing a delivery/);
        await expect(broken.count(integration, 'rejected', 'x', Date.now())).rejects.toThrow(
          InboxUnavailableError,
        );
        await expect(broken.redrive(integration, 'r')).rejects.toThrow(InboxUnavailableError);
        expect(await broken.healthy()).toBe(false);
      } finally {
        await outage.restore();
      }
      const healthy = await waitHealthy(inbox);
      expect(healthy).toBe(true);
      expect(await inbox.put(delivery('evt_during', Date.now()))).toBe('stored');
      expect((await rowOf(inbox))?.accepted).toBe(2);
    }));

  if (engine.name === 'jetstream') {
    it('survives a server restart with file storage: the open connection reconnects', () =>
      withStore(engine, async (store, inbox) => {
        await inbox.put(delivery('evt_restart', Date.now()));
        await store.restartServer?.();
        expect(await waitHealthy(inbox)).toBe(true);
        expect(await inbox.put(delivery('evt_restart', Date.now()))).toBe('duplicate');
        expect((await claimUntil(inbox, 1)).map((d) => d.id)).toEqual(['evt_restart']);
      }));
  }
}

async function waitHealthy(inbox: Inbox): Promise<boolean> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    if (await inbox.healthy()) return true;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return false;
}
