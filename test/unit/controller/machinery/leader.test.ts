import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../support/fake-clock.ts';
import { ApiError } from '../../../../operator/lib/kube/errors.ts';
import {
  canTakeLease,
  LeaderElector,
  type LeaderElectorOptions,
} from '../../../../operator/controller/machinery/leader.ts';
import {
  type LeaseRecord,
  type LeaseStore,
  MicroTime,
  microTimeMs,
  type VersionedLease,
} from '../../../../operator/controller/machinery/lease.ts';
import { ControllerMetrics } from '../../../../operator/controller/machinery/metrics.ts';
import { deferred, silentLogger } from './support.ts';

/** An in-memory Lease with resourceVersion conflicts and injectable outages. */
class FakeLeaseStore implements LeaseStore {
  lease: VersionedLease | undefined;
  failing = false;
  writes = 0;
  reads = 0;
  #rv = 0;
  get(): Promise<VersionedLease | undefined> {
    this.reads++;
    if (this.failing) return Promise.reject(new ApiError(0, 'connection refused'));
    return Promise.resolve(this.lease && structuredClone(this.lease));
  }
  create(record: LeaseRecord): Promise<VersionedLease> {
    if (this.failing) return Promise.reject(new ApiError(0, 'connection refused'));
    if (this.lease !== undefined) return Promise.reject(new ApiError(409, 'exists'));
    return Promise.resolve(this.#write(record));
  }
  update(record: LeaseRecord, resourceVersion: string): Promise<VersionedLease> {
    if (this.failing) return Promise.reject(new ApiError(0, 'connection refused'));
    if (this.lease?.resourceVersion !== resourceVersion)
      return Promise.reject(new ApiError(409, 'conflict'));
    return Promise.resolve(this.#write(record));
  }
  /** Writes as another replica would. */
  set(record: LeaseRecord): void {
    this.#write(record);
  }
  #write(record: LeaseRecord): VersionedLease {
    this.writes++;
    this.lease = { record: { ...record }, resourceVersion: String(++this.#rv) };
    return structuredClone(this.lease);
  }
}

function elector(
  store: LeaseStore,
  clock: FakeClock,
  identity: string,
  extra: Partial<LeaderElectorOptions> = {},
) {
  const log: string[] = [];
  const registry = new Registry();
  const e = new LeaderElector({
    store,
    clock,
    log: silentLogger(),
    identity,
    random: () => 0,
    metrics: new ControllerMetrics({ registry }),
    onStartedLeading: () => {
      log.push('started');
    },
    onStoppedLeading: () => log.push('stopped'),
    ...extra,
  });
  const gauge = async () =>
    (await registry.getSingleMetric('tributary_leader')?.get())?.values[0]?.value;
  /** Whether this replica leads, as the `tributary_leader` gauge tells the world. */
  const leading = async () => (await gauge()) === 1;
  return { e, log, gauge, leading };
}

const other = (nowMs: number): LeaseRecord => ({
  holderIdentity: 'other',
  leaseDurationSeconds: 15,
  acquireTimeMs: nowMs,
  renewTimeMs: nowMs,
  leaseTransitions: 4,
});

describe('canTakeLease', () => {
  it.each([
    { name: 'free lease', holder: '', observedAt: 0, now: 0, expected: true },
    { name: 'our own lease', holder: 'me', observedAt: 0, now: 0, expected: true },
    {
      name: 'held, observed 14.999 s ago',
      holder: 'other',
      observedAt: 0,
      now: 14_999,
      expected: false,
    },
    {
      name: 'held, observed 15 s ago',
      holder: 'other',
      observedAt: 0,
      now: 15_000,
      expected: true,
    },
  ])('$name → $expected', ({ holder, observedAt, now, expected }) => {
    expect(canTakeLease({ ...other(0), holderIdentity: holder }, 'me', observedAt, now)).toBe(
      expected,
    );
  });
});

describe('LeaderElector', () => {
  it('acquires a missing lease, renews it every retry period, and sets the gauge', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    const { e, log, gauge, leading } = elector(store, clock, 'me');
    void e.start();
    await clock.advance(0);
    expect(await leading()).toBe(true);
    expect(log).toEqual(['started']);
    expect(await gauge()).toBe(1);
    expect(store.lease?.record).toEqual({
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTimeMs: 0,
      renewTimeMs: 0,
      leaseTransitions: 0,
    });
    await clock.advance(4_000);
    expect(store.lease?.record).toMatchObject({
      holderIdentity: 'me',
      acquireTimeMs: 0,
      renewTimeMs: 4_000,
    });
    await e.stop();
  });

  it('the leader renews in one write, without a read; a conflict falls back to read and write', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    const { e, leading } = elector(store, clock, 'me');
    void e.start();
    await clock.advance(0);
    const reads = store.reads;
    await clock.advance(2_000 * 3);
    expect([store.reads - reads, store.lease?.record.renewTimeMs]).toEqual([0, 6_000]);
    // Someone else bumps the resourceVersion (the record still names us): re-read, then renew.
    store.set({ ...(store.lease?.record ?? other(0)), holderIdentity: 'me' });
    await clock.advance(2_000);
    expect([store.reads - reads, store.lease?.record.renewTimeMs]).toEqual([1, 8_000]);
    expect(await leading()).toBe(true);
    await e.stop();
  });

  it('waits for a held lease to expire by local observation time, not remote timestamps', async () => {
    const clock = new FakeClock(100_000);
    const store = new FakeLeaseStore();
    // Renewed "long ago" by the remote clock: a skewed clock must not let us take it at once.
    store.set({ ...other(0), renewTimeMs: 0 });
    const { e, leading } = elector(store, clock, 'me');
    void e.start();
    await clock.advance(14_000);
    expect(await leading()).toBe(false);
    await clock.advance(2_000);
    expect(await leading()).toBe(true);
    expect(store.lease?.record).toMatchObject({
      holderIdentity: 'me',
      leaseTransitions: 5,
      acquireTimeMs: 116_000,
    });
    await e.stop();
  });

  it('never takes a lease whose holder keeps renewing', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    store.set(other(0));
    const { e, leading } = elector(store, clock, 'me');
    void e.start();
    for (let t = 0; t < 60_000; t += 5_000) {
      store.set(other(clock.now()));
      await clock.advance(5_000);
      expect(await leading()).toBe(false);
    }
    await e.stop();
  });

  it('steps down when renewal keeps failing past the renew deadline', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    const signal = deferred<AbortSignal>();
    const { e, log, gauge, leading } = elector(store, clock, 'me', {
      onStartedLeading: (s) => {
        signal.resolve(s);
      },
    });
    let ended = false;
    const running = e.start().then(() => (ended = true));
    await clock.advance(0);
    const leaderSignal = await signal.promise;
    store.failing = true;
    await clock.advance(8_000);
    expect(await leading()).toBe(true);
    expect(leaderSignal.aborted).toBe(false);
    await clock.advance(2_000);
    expect(await leading()).toBe(false);
    expect(leaderSignal.aborted).toBe(true);
    expect(log).toEqual(['stopped']);
    expect(await gauge()).toBe(0);
    await running;
    expect(ended).toBe(true);
  });

  it('survives a short renewal outage within the deadline', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    const { e, leading } = elector(store, clock, 'me');
    void e.start();
    await clock.advance(0);
    store.failing = true;
    await clock.advance(6_000);
    store.failing = false;
    await clock.advance(20_000);
    expect(await leading()).toBe(true);
    await e.stop();
  });

  it('re-reads after a write conflict and still acquires', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    store.set({ ...other(0), holderIdentity: '' });
    const racing = new (class extends FakeLeaseStore {})();
    racing.lease = store.lease;
    let conflicts = 1;
    const update = racing.update.bind(racing);
    racing.update = (record, rv) =>
      conflicts-- > 0 ? Promise.reject(new ApiError(409, 'conflict')) : update(record, rv);
    const { e, leading } = elector(racing, clock, 'me');
    void e.start();
    await clock.advance(0);
    expect(await leading()).toBe(false);
    await clock.advance(2_000);
    expect(await leading()).toBe(true);
    await e.stop();
  });

  it('on stop: ends leadership, waits for the leader work, releases, and a standby takes over at once', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    const order: string[] = [];
    const { e: first, leading: firstLeads } = elector(store, clock, 'first', {
      onStartedLeading: async (signal) => {
        await new Promise((r) => {
          signal.addEventListener('abort', r);
        });
        await clock.advance(0);
        order.push(`drained, holder=${store.lease?.record.holderIdentity}`);
      },
      onStoppedLeading: () => order.push('stopped'),
    });
    void first.start();
    await clock.advance(0);
    const { e: second, leading: secondLeads } = elector(store, clock, 'second');
    void second.start();
    await clock.advance(2_000);
    expect([await firstLeads(), await secondLeads()]).toEqual([true, false]);
    await first.stop();
    expect(order).toEqual(['drained, holder=first', 'stopped']);
    expect(store.lease?.record).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    await clock.advance(2_000);
    expect(await secondLeads()).toBe(true);
    expect(store.lease?.record).toMatchObject({ holderIdentity: 'second', leaseTransitions: 1 });
    await second.stop();
  });

  it('stop before winning writes nothing', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    store.set(other(0));
    const { e, log } = elector(store, clock, 'me');
    void e.start();
    await clock.advance(1_000);
    const writes = store.writes;
    await e.stop();
    expect(store.writes).toBe(writes);
    expect(store.lease?.record.holderIdentity).toBe('other');
    expect(log).toEqual([]);
  });
});

describe('Lease time fields', () => {
  it('serialize with the six fractional digits the API server requires, and parse from strings', () => {
    expect(JSON.stringify({ t: new MicroTime(Date.UTC(2025, 0, 1, 0, 0, 0, 123)) })).toBe(
      '{"t":"2025-01-01T00:00:00.123000Z"}',
    );
    expect(microTimeMs('2025-01-01T00:00:00.123456Z')).toBe(Date.UTC(2025, 0, 1, 0, 0, 0, 123));
    expect(microTimeMs(undefined)).toBe(0);
  });
});

describe('LeaderElector.holdsLease (the fence)', () => {
  it('is false before leading, true while renewals are fresh, false once the renew deadline passed unrenewed', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore();
    const { e } = elector(store, clock, 'me');
    expect(e.holdsLease()).toBe(false);
    void e.start();
    await clock.advance(0);
    expect(e.holdsLease()).toBe(true);
    await clock.advance(6_000);
    expect(e.holdsLease()).toBe(true);
    // A pause: the clock jumps past the renew deadline before any timer could renew.
    clock.set(clock.now() + 11_000);
    expect(e.holdsLease()).toBe(false);
    await e.stop();
    expect(e.holdsLease()).toBe(false);
  });
});
