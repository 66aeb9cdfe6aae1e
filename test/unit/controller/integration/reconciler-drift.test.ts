/**
 * Drift checks are explicit: none without something to compare with or with drift.mode Off, a
 * failed check is retried by the retry policy and then reported as DriftCheckFailed, and a sync
 * never runs beside a check.
 */
import { describe, expect, it } from 'vitest';
import {
  baseSpec,
  failed,
  MINUTE,
  NAME,
  plus,
  result,
  SECOND,
  simulate,
  storedIntegration,
  syncJob,
  T,
} from './fixtures.ts';

const HOUR = 60 * MINUTE;

function driftJob(due: Date, attempt = 1): string {
  return `${NAME}-d-${String(Math.floor(due.getTime() / 1000))}-${String(attempt)}`;
}

/** An Integration syncing every 15 minutes and checking drift every hour. */
function checked(list = true, mode: 'Report' | 'Off' = 'Report') {
  const spec = baseSpec();
  if (list && spec.destination) {
    spec.destination = {
      ...spec.destination,
      list: { url: 'http://ledger.payments.svc/customers' },
    };
  }
  spec.overrides = { ...(spec.overrides as object), drift: { interval: '1h', mode } };
  return storedIntegration({ spec });
}

/** Runs syncs to success until `until`, reconciling at every due time. */
async function syncUntil(sim: ReturnType<typeof simulate>, until: Date): Promise<void> {
  for (let due = T.created; due.getTime() < until.getTime(); due = plus(due, 15 * MINUTE)) {
    await sim.at(due);
    await sim.reconcile();
    await sim.at(plus(due, MINUTE));
    if (sim.cluster.jobs.has(syncJob(due))) sim.cluster.succeed(syncJob(due));
    await sim.reconcile();
  }
}

/**
 * Syncs for an hour, until the first check is due with a sync: the sync starts first, the check
 * waits for it and starts when it ends.
 */
async function firstCheckRunning() {
  const sim = simulate({ integration: checked() });
  const due = plus(T.created, HOUR);
  await syncUntil(sim, due);
  await sim.at(due);
  await sim.reconcile();
  expect(sim.cluster.activeJobNames()).toEqual([syncJob(due)]);
  sim.cluster.succeed(syncJob(due));
  await sim.at(plus(due, 10 * SECOND));
  await sim.reconcile();
  expect(sim.cluster.activeJobNames()).toEqual([driftJob(due)]);
  return { sim, due };
}

describe('IntegrationReconciler: drift checks', () => {
  it('runs none without spec.destination.list, and Drifted says how to enable them', async () => {
    const sim = simulate({ integration: checked(false) });
    await syncUntil(sim, plus(T.created, 3 * HOUR));
    expect(sim.cluster.createAttempts.filter((name) => name.includes('-d-'))).toEqual([]);
    expect(sim.cluster.condition('Drifted')).toMatchObject({
      status: 'Unknown',
      reason: 'DriftCheckNotConfigured',
    });
    expect(sim.cluster.status().nextDriftCheckTime).toBeUndefined();
    expect(sim.cluster.condition('Ready')).toMatchObject({ status: 'True' });
  });

  it('runs none with drift.mode Off', async () => {
    const sim = simulate({ integration: checked(true, 'Off') });
    await syncUntil(sim, plus(T.created, 3 * HOUR));
    expect(sim.cluster.createAttempts.filter((name) => name.includes('-d-'))).toEqual([]);
    expect(sim.cluster.condition('Drifted')).toMatchObject({ reason: 'DriftCheckDisabled' });
  });

  it('retries a failed check by the retry policy, then reports DriftCheckFailed', async () => {
    const { sim, due } = await firstCheckRunning();
    const { cluster, reconcile, at } = sim;

    await at(plus(due, 20 * SECOND));
    cluster.fail(driftJob(due), failed('ServerError', true));
    await reconcile();
    expect(cluster.condition('Drifted')).toMatchObject({
      status: 'Unknown',
      reason: 'DriftCheckFailed',
    });
    expect(cluster.status().lastDriftCheck).toMatchObject({ kind: 'drift-check', attempt: 1 });
    const retryAt = cluster.status().nextDriftCheckTime ?? '';
    expect(Date.parse(retryAt)).toBeLessThan(plus(due, 15 * MINUTE).getTime());

    await at(new Date(retryAt));
    await reconcile();
    expect(cluster.activeJobNames()).toEqual([driftJob(due, 2)]);
    // Failed checks never count against the sync history or Synced.
    expect(cluster.condition('Synced')).toMatchObject({ status: 'True' });
    expect(cluster.condition('Stalled')).toBeUndefined();
  });

  it('holds a due sync while a check runs, and starts it when the check ends', async () => {
    const { sim, due } = await firstCheckRunning();
    const { cluster, reconcile, at } = sim;

    const nextSync = plus(due, 15 * MINUTE);
    await at(nextSync);
    await reconcile();
    expect(cluster.activeJobNames()).toEqual([driftJob(due)]);

    await at(plus(nextSync, 30 * SECOND));
    cluster.succeed(
      driftJob(due),
      result({ outcome: 'Succeeded', drift: { missing: 0, unexpected: 0, mismatched: 0 } }),
    );
    await reconcile();
    expect(cluster.activeJobNames()).toEqual([syncJob(nextSync)]);
  });
});
