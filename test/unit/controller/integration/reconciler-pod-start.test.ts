/**
 * A run whose pod cannot start is found after a short grace, ended, and reported as a stall
 * naming the cause; it is not left to timeouts.run, and no run starts again until a change.
 */
import { describe, expect, it } from 'vitest';
import { POD_START_GRACE_MS } from '../../../../operator/controller/integration/pod-start.ts';
import { MINUTE, plus, SECOND, simulate, syncJob, T } from './fixtures.ts';

describe('IntegrationReconciler: a run pod that cannot start', () => {
  it('ends an image that cannot be pulled after the grace and stalls with ImagePullFailed', async () => {
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    const job = syncJob(T.created);
    await at(plus(T.created, 10 * SECOND));
    cluster.podWaiting(job, 'ImagePullBackOff', 'Back-off pulling image "tributary:broken"');

    const waiting = await reconcile();
    expect(cluster.activeJobNames()).toEqual([job]);
    expect(cluster.condition('Stalled')).toBeUndefined();
    // The reconciler comes back when the grace ends, without a pod event.
    expect(waiting.requeueAfterMs).toBe(POD_START_GRACE_MS - 10 * SECOND);

    const before = cluster.writes.length;
    await at(plus(T.created, POD_START_GRACE_MS));
    await reconcile();

    expect(cluster.condition('Stalled')).toMatchObject({
      status: 'True',
      reason: 'ImagePullFailed',
      message: expect.stringContaining('cannot pull') as unknown,
    });
    expect(cluster.condition('Ready')).toMatchObject({
      status: 'False',
      reason: 'ImagePullFailed',
    });
    expect(cluster.status().lastSync).toMatchObject({
      outcome: 'Failed',
      reason: 'ImagePullFailed',
    });
    expect(cluster.status().activeRun).toBeUndefined();
    expect(cluster.jobNames()).toEqual([]);
    const warning = cluster.eventsSince(before).find((e) => e.reason === 'ImagePullFailed');
    expect(warning?.type).toBe('Warning');

    // Stalled means stopped: the next due run (15 minutes) starts nothing.
    await at(plus(T.created, 16 * MINUTE));
    await reconcile();
    expect(cluster.createdSince(before)).toEqual([]);
  });

  it('keeps a run whose image pull recovers within the grace', async () => {
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    const job = syncJob(T.created);
    cluster.podWaiting(job, 'ErrImagePull', 'registry timeout');
    await at(plus(T.created, MINUTE));
    await reconcile();
    // The pull succeeds on a later back-off: the container runs.
    for (const pod of cluster.pods.get(job) ?? []) {
      const status = pod.status?.containerStatuses?.[0];
      if (status) status.state = { running: { startedAt: new Date(cluster.clock.now()) } };
    }
    await at(plus(T.created, POD_START_GRACE_MS + SECOND));
    await reconcile();
    expect(cluster.activeJobNames()).toEqual([job]);
    expect(cluster.condition('Stalled')).toBeUndefined();
  });
});
