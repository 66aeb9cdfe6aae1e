import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulators, type RunningSimulators } from '../../../../dev/simulators/index.ts';
import { decodeCheckpoint } from '../../../../operator/runtime/checkpoint.ts';
import type { ResultBody } from '../../../../operator/runtime/result.ts';
import { runSync } from '../../../../operator/runtime/sync.ts';
import { instantClock, runInput, silentLog } from '../support.ts';
import { sqliteStore, startIntakeStandIn, type SqliteStore } from './intake.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const UID = 'uid-gaps';
const at = (hhmmss: string) => Date.parse(`2025-01-01T${hhmmss}Z`);
const seconds = (hhmmss: string) => at(hhmmss) / 1000;
const item = (index: number) => `item_${String(index).padStart(8, '0')}`;

interface World {
  sims: RunningSimulators;
  /** The intake stores: real SQLite inboxes behind the real `/match`. */
  stores: SqliteStore[];
  /** Runs one pass at `now` (HH:MM:SS) from `checkpoint`; returns the result. */
  pass(now: string, checkpoint: string | undefined): Promise<ResultBody>;
  /** The `updated_since` of every source list request so far. */
  sinces(): (string | null)[];
  /** A delivery applied record `index` at its current version, in intake `n`. */
  deliver(index: number, n?: number): Promise<void>;
}

async function world(intakeCount = 2, extraIntake: string[] = []): Promise<World> {
  const sims = await startSimulators({ seed: 3, records: 20, generic: true, destination: true });
  cleanups.push(() => sims.stop());
  const stores: SqliteStore[] = [];
  const urls: string[] = [];
  for (let n = 0; n < intakeCount; n++) {
    const store = await sqliteStore();
    cleanups.push(() => store.close());
    const intake = await startIntakeStandIn(store.inbox);
    cleanups.push(() => intake.stop());
    stores.push(store);
    urls.push(intake.url);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tributary-gaps-'));
  cleanups.push(() => {
    rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  });
  const described = sims.describe();
  const dataset = () => {
    const set = sims.generic?.dataset('items');
    if (set === undefined) throw new Error('no generic simulator');
    return set;
  };
  return {
    sims,
    stores,
    pass: (now, checkpoint) =>
      runSync({
        input: runInput({
          integration: { namespace: 'payments', name: 'items', uid: UID },
          source: {
            provider: 'http',
            baseURL: described.generic?.url,
            credentialsRef: { name: 'source', key: 'token' },
            http: {
              path: '/v1/items',
              recordsPath: 'data',
              query: { updated_since: '{since}' },
              pagination: { type: 'cursor', cursorPath: 'next_cursor' },
              updatedField: 'updated_at',
              auth: { type: 'bearer' },
            },
          },
          destination: { url: `${described.destination?.url ?? ''}/items/{id}` },
          webhook: { intake: [...urls, ...extraIntake], grace: '2m' },
          ...(checkpoint === undefined ? {} : { checkpoint }),
        }),
        credentials: { source: 'generic-token' },
        resultPath: join(dir, 'result'),
        log: silentLog(),
        clock: instantClock(at(now)),
        random: () => 0,
        pageSize: 2,
      }),
    sinces: () =>
      (sims.generic?.requests() ?? [])
        .filter((r) => r.path === '/v1/items')
        .map((r) => new URLSearchParams(r.query).get('updated_since')),
    async deliver(index, n = 0) {
      const record = dataset().record(index);
      await stores[n]?.apply(UID, String(record.id), String(record.updated_at));
    },
  };
}

const checkpointOf = (result: ResultBody) => {
  const decoded = decodeCheckpoint(result.checkpoint);
  if (!decoded.ok) throw new Error(decoded.problem);
  return decoded.checkpoint;
};

describe('sync pass gap detection (generic source, destination and intake stand-ins)', () => {
  it('the first pass judges nothing and sets the judge mark at start − grace', async () => {
    const w = await world();
    const first = await w.pass('10:00:00', undefined);
    expect(first.stats).toMatchObject({ read: 20, written: 20 });
    expect(first.webhook).toBeUndefined();
    expect(checkpointOf(first).mark).toBe('2025-01-01T09:58:00.000Z');
  });

  it('changes every delivery carried: missed 0', async () => {
    const w = await world();
    const first = await w.pass('10:00:00', undefined);
    w.sims.generic?.dataset('items').update([0, 1, 2], seconds('10:03:00'));
    w.sims.generic?.dataset('items').update([7], seconds('10:04:00'));
    await w.deliver(0, 0);
    await w.deliver(1, 1);
    await w.deliver(2, 0);
    await w.deliver(7, 1);
    const second = await w.pass('10:10:00', first.checkpoint);
    expect(second.outcome).toBe('Succeeded');
    expect(second.webhook).toEqual({ changed: 4, missed: 0 });
  });

  it('changes no delivery carried: missed with the ids, written anyway (backfill)', async () => {
    const w = await world();
    const first = await w.pass('10:00:00', undefined);
    const dataset = w.sims.generic?.dataset('items');
    const before = String(dataset?.record(1).updated_at);
    dataset?.update([0, 1, 2], seconds('10:03:00'));
    dataset?.update([3, 4], seconds('10:05:00'));
    await w.deliver(0, 0);
    await w.stores[1]?.apply(UID, item(1), before); // a delivery of the change before
    await w.deliver(3, 1);
    const writes = w.sims.destination?.stats().destination.writesReceived ?? 0;
    const second = await w.pass('10:10:00', first.checkpoint);
    expect(second.webhook).toEqual({
      changed: 5,
      missed: 3,
      missedSamples: [item(1), item(2), item(4)],
    });
    expect(second.outcome).toBe('Succeeded');
    // Every changed record was written at its new version, delivered or not.
    expect((w.sims.destination?.stats().destination.writesReceived ?? 0) - writes).toBe(
      second.stats?.read,
    );
    for (const index of [0, 1, 2, 3, 4])
      expect(w.sims.destination?.appliesFor('items', item(index))).toBe(2);
  });

  it('a change inside the grace is judged by the next pass, once', async () => {
    const w = await world();
    const first = await w.pass('10:00:00', undefined);
    const dataset = w.sims.generic?.dataset('items');
    dataset?.update([5], seconds('10:03:00'));
    dataset?.update([6], seconds('10:09:30')); // 30 s before the pass: inside the 2 min grace
    const second = await w.pass('10:10:00', first.checkpoint);
    expect(second.webhook).toEqual({ changed: 1, missed: 1, missedSamples: [item(5)] });
    expect(checkpointOf(second).mark).toBe('2025-01-01T10:08:00.000Z');
    // The next pass reads from the judge mark, not the high-water mark (10:09:30).
    const third = await w.pass('10:20:00', second.checkpoint);
    expect(w.sinces().at(-1)).toBe('2025-01-01T10:08:00Z');
    expect(third.webhook).toEqual({ changed: 1, missed: 1, missedSamples: [item(6)] });
    const fourth = await w.pass('10:30:00', third.checkpoint);
    expect(fourth.webhook).toEqual({ changed: 0, missed: 0 });
  });

  it('a pass resumed after a failure keeps its window and carries its counts', async () => {
    const w = await world();
    const first = await w.pass('10:00:00', undefined);
    w.sims.generic?.dataset('items').update([0, 1, 2, 3], seconds('10:03:00'));
    await w.deliver(1, 0);
    // The destination refuses credentials after 2 more writes (20 by the first pass): page 1 is
    // committed, page 2 fails.
    w.sims.destination?.addFaults([
      { type: 'unauthorized', scope: { kind: 'afterWrites', writes: 22 } },
    ]);
    const failed = await w.pass('10:10:00', first.checkpoint);
    expect(failed.outcome).toBe('Failed');
    expect(failed.webhook).toBeUndefined();
    const interim = checkpointOf(failed);
    expect(interim).toMatchObject({ cut: '2025-01-01T10:08:00.000Z', carry: { w: [2, 1] } });
    w.sims.destination?.clearFaults();
    w.sims.generic?.dataset('items').update([9], seconds('10:12:00')); // after this pass's cut
    const resumed = await w.pass('10:20:00', failed.checkpoint);
    expect(resumed.outcome).toBe('Succeeded');
    expect(resumed.webhook).toMatchObject({ changed: 4, missed: 3 });
    expect(resumed.webhook?.missedSamples).toEqual([item(2), item(3)]); // this attempt's
    expect(checkpointOf(resumed).mark).toBe('2025-01-01T10:08:00.000Z');
    const next = await w.pass('10:30:00', resumed.checkpoint);
    expect(next.webhook).toEqual({ changed: 1, missed: 1, missedSamples: [item(9)] });
  });

  it('an intake that cannot be asked: unavailable says which, the pass succeeds', async () => {
    const refused = await startIntakeStandIn();
    await refused.stop();
    const w = await world(1, [refused.url]);
    const first = await w.pass('10:00:00', undefined);
    w.sims.generic?.dataset('items').update([0, 1], seconds('10:03:00'));
    await w.deliver(0, 0);
    const second = await w.pass('10:10:00', first.checkpoint);
    expect(second.outcome).toBe('Succeeded');
    expect(second.stats?.written).toBeGreaterThanOrEqual(2);
    expect(second.webhook).toEqual({
      changed: 2,
      missed: 1,
      missedSamples: [item(1)],
      unavailable: `${refused.url}: connection refused`,
    });
  });
});
