import { describe, expect, it } from 'vitest';
import { baseSpec, plus, SECOND, simulate, storedIntegration, syncJob, T } from './fixtures.ts';

const nightly = () => {
  const spec = baseSpec();
  spec.overrides = { sync: { schedule: '30 2 * * *', timeZone: 'Europe/Paris', jitter: '0%' } };
  return storedIntegration({ spec });
};

describe('IntegrationReconciler: cron schedules', () => {
  it('syncs a new Integration at once, then waits for the next fire time in its time zone', async () => {
    const { cluster, reconcile, at } = simulate({ integration: nightly() });

    await reconcile();
    expect(cluster.jobNames()).toEqual([syncJob(T.created)]);
    // 02:30 in Paris on 6 January 2026 is 01:30 UTC (CET, UTC+1).
    expect(cluster.status().nextSyncTime).toBe('2026-01-06T01:30:00Z');

    await at(plus(T.created, 5 * SECOND));
    await reconcile();
    expect(cluster.jobNames()).toHaveLength(1);
  });
});
