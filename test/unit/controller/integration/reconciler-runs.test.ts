import { describe, expect, it } from 'vitest';
import { SYNC_REQUESTED_ANNOTATION } from '../../../../operator/api/index.ts';
import { jobName, MAX_LABEL_LENGTH } from '../../../../operator/controller/plan/job-name.ts';
import { JobLabel } from '../../../../operator/controller/plan/job.ts';
import { RUN_NOT_CREATED_POLL_MS } from '../../../../operator/controller/integration/causes.ts';
import { HISTORY_CAP } from '../../../../operator/controller/integration/record.ts';
import {
  type FakeCluster,
  baseSpec,
  failed,
  KEY,
  MINUTE,
  NAMESPACE,
  plus,
  result,
  SECOND,
  simulate,
  STATS,
  storedIntegration,
  syncJob,
  T,
  UID,
} from './fixtures.ts';

describe('IntegrationReconciler: the life of a healthy Integration', () => {
  it('starts the first sync at creation and says so', async () => {
    const { cluster, reconcile } = simulate();

    const result = await reconcile();

    expect(cluster.jobNames()).toEqual([syncJob(T.created)]);
    const status = cluster.status();
    expect(status.activeRun).toEqual({
      jobName: syncJob(T.created),
      kind: 'sync',
      attempt: 1,
      dueTime: '2026-01-05T10:00:00Z',
      startTime: '2026-01-05T10:00:00Z',
    });
    expect(status.observedGeneration).toBe(1);
    expect(cluster.condition('Reconciling')).toMatchObject({
      status: 'True',
      reason: 'Progressing',
      message: `sync attempt 1 started (Job ${syncJob(T.created)})`,
    });
    expect(cluster.condition('Ready')).toMatchObject({ status: 'False', reason: 'Progressing' });
    expect(cluster.condition('Synced')).toMatchObject({
      status: 'Unknown',
      reason: 'AwaitingFirstRun',
    });
    expect(cluster.condition('Stalled')).toBeUndefined();
    expect(cluster.eventsSince(0)).toContainEqual({
      type: 'Normal',
      reason: 'RunStarted',
      message: `sync attempt 1 started as Job ${syncJob(T.created)} (Scheduled)`,
    });
    expect(cluster.eventsSince(0).filter((e) => e.type === 'Warning')).toEqual([]);
    expect(result).toEqual({ requeueAfterMs: 15 * MINUTE });
  });

  it('builds the Job by the run contract: owned, labelled, no Job-level retries', async () => {
    const { cluster, reconcile } = simulate();
    await reconcile();

    const job = cluster.jobs.get(syncJob(T.created));
    expect(job?.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Integration', uid: UID, controller: true }),
    ]);
    expect(job?.metadata?.labels).toMatchObject({
      'tributary.dev/integration': 'stripe-customers',
      'tributary.dev/run-kind': 'sync',
      'app.kubernetes.io/managed-by': 'tributary',
    });
    expect(job?.spec?.backoffLimit).toBe(0);
    expect(job?.spec?.template.spec?.restartPolicy).toBe('Never');
  });

  it('reports a success: Ready, Synced, stats, checkpoint and the next due time', async () => {
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    await at(T.firstDone);
    cluster.succeed(syncJob(T.created));
    const before = cluster.writes.length;

    const result = await reconcile();

    const status = cluster.status();
    expect(cluster.condition('Ready')).toMatchObject({
      status: 'True',
      reason: 'Succeeded',
      lastTransitionTime: '2026-01-05T10:01:00Z',
    });
    expect(cluster.condition('Synced')).toMatchObject({
      status: 'True',
      reason: 'Succeeded',
      message: `sync ${syncJob(T.created)} succeeded: read 120, written 7, unchanged 113, quarantined 0`,
    });
    expect(cluster.condition('Reconciling')).toBeUndefined();
    expect(status.activeRun).toBeUndefined();
    expect(status.lastSuccessfulSyncTime).toBe('2026-01-05T10:01:00Z');
    expect(status.lastSync).toMatchObject({
      jobName: syncJob(T.created),
      outcome: 'Succeeded',
      stats: STATS,
      completionTime: '2026-01-05T10:01:00Z',
    });
    expect(status.checkpoint).toEqual({ cursor: 'cus_120', time: '2026-01-05T10:01:00Z' });
    expect(status.history?.map((run) => run.jobName)).toEqual([syncJob(T.created)]);
    expect(status.nextSyncTime).toBe('2026-01-05T10:15:00Z');
    expect(cluster.createdSince(before)).toEqual([]);
    expect(cluster.eventsSince(before)).toContainEqual(
      expect.objectContaining({ type: 'Normal', reason: 'Succeeded' }),
    );
    expect(result).toEqual({ requeueAfterMs: 14 * MINUTE });
  });

  it('writes nothing and starts nothing when nothing changed', async () => {
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    await at(T.firstDone);
    cluster.succeed(syncJob(T.created));
    await reconcile();
    const settled = cluster.writes.length;
    const resourceVersion = (
      cluster.integration(NAMESPACE, 'stripe-customers') as {
        metadata: { resourceVersion: string };
      }
    ).metadata.resourceVersion;

    await reconcile();
    await at(plus(T.firstDone, 5 * MINUTE));
    await reconcile();

    expect(cluster.writesSince(settled)).toEqual([]);
    expect(
      (
        cluster.integration(NAMESPACE, 'stripe-customers') as {
          metadata: { resourceVersion: string };
        }
      ).metadata.resourceVersion,
    ).toBe(resourceVersion);
  });

  it('writes a running attempt once it is observed, then stays quiet while it runs', async () => {
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    await reconcile();
    const observed = cluster.writes.length;

    await at(plus(T.created, 30 * SECOND));
    await reconcile();
    await reconcile();

    expect(cluster.writesSince(observed)).toEqual([]);
    expect(cluster.condition('Reconciling')?.message).toBe(
      `sync attempt 1 is running (Job ${syncJob(T.created)})`,
    );
  });

  it('keeps lastTransitionTime of Ready while Ready does not change', async () => {
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    await at(T.firstDone);
    cluster.succeed(syncJob(T.created));
    await reconcile();
    const readySince = cluster.condition('Ready')?.lastTransitionTime;

    await at(T.secondDue); // the next run starts: status changes, Ready does not
    await reconcile();
    await at(plus(T.secondDue, 30 * SECOND));
    await reconcile();

    expect(cluster.status().activeRun?.jobName).toBe(syncJob(T.secondDue));
    // A routine run of fresh data: status.activeRun shows it, Reconciling does not (kstatus Current).
    expect(cluster.condition('Reconciling')).toBeUndefined();
    expect(cluster.condition('Ready')).toMatchObject({
      status: 'True',
      lastTransitionTime: readySince,
    });
    expect(readySince).toBe('2026-01-05T10:01:00Z');
  });

  it('starts the next run when it is due, not before', async () => {
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    await at(T.firstDone);
    cluster.succeed(syncJob(T.created));
    await reconcile();

    await at(plus(T.secondDue, -SECOND));
    await reconcile();
    expect(cluster.jobNames()).toEqual([syncJob(T.created)]);

    await at(T.secondDue);
    await reconcile();
    expect(cluster.activeJobNames()).toEqual([syncJob(T.secondDue)]);
    expect(cluster.status()).toMatchObject({
      lastScheduledTime: '2026-01-05T10:15:00Z',
      nextSyncTime: '2026-01-05T10:30:00Z',
    });
  });
});

/**
 * Makes the first run's Job look like another Integration's, unseen by the cache, and forgets
 * the status that recorded it: the next reconcile wants that name again and finds it taken.
 */
function takeJobName(cluster: FakeCluster): void {
  const job = cluster.jobs.get(syncJob(T.created));
  if (job?.metadata?.labels) job.metadata.labels[JobLabel.IntegrationUID] = 'someone-else';
  cluster.uncached.add(syncJob(T.created));
  cluster.edit('payments/stripe-customers', (object) => {
    delete object.status;
  });
}

describe('IntegrationReconciler: crash safety', () => {
  it('does not start a second Job when the status write after a create failed', async () => {
    const { cluster, reconcile } = simulate();
    cluster.failNextStatusWrite = new Error('connection reset by peer');
    await expect(reconcile()).rejects.toThrow('connection reset by peer');
    expect(cluster.jobNames()).toEqual([syncJob(T.created)]);
    expect(cluster.status().activeRun).toBeUndefined();
    // The informer has not seen the new Job yet: create answers AlreadyExists, the run is adopted.
    cluster.uncached.add(syncJob(T.created));
    const attempts = cluster.createAttempts.length;

    await reconcile();

    expect(cluster.createAttempts.slice(attempts)).toEqual([syncJob(T.created)]);
    expect(cluster.jobNames()).toEqual([syncJob(T.created)]);
    expect(cluster.status().activeRun).toMatchObject({ jobName: syncJob(T.created), attempt: 1 });
    expect(cluster.condition('Reconciling')).toMatchObject({
      status: 'True',
      reason: 'Progressing',
    });

    cluster.uncached.clear();
    await reconcile();
    const converged = cluster.writes.length;
    await reconcile();
    expect(cluster.writesSince(converged)).toEqual([]);
    expect(cluster.jobNames()).toEqual([syncJob(T.created)]);
  });

  it('refuses to adopt a Job of the same name that another Integration owns', async () => {
    const { cluster, reconcile } = simulate();
    await reconcile();
    takeJobName(cluster);

    const before = cluster.writes.length;
    const result = await reconcile();

    const message = `Job ${syncJob(T.created)} exists and is not owned by this Integration; delete or rename it`;
    expect(cluster.jobNames()).toEqual([syncJob(T.created)]);
    expect(cluster.condition('Stalled')).toMatchObject({
      status: 'True',
      reason: 'JobNameConflict',
      message,
    });
    expect(cluster.condition('Ready')).toMatchObject({
      status: 'False',
      reason: 'JobNameConflict',
    });
    expect(cluster.condition('Reconciling')).toBeUndefined();
    expect(cluster.status().activeRun).toBeUndefined();
    expect(cluster.eventsSince(before)).toEqual([
      { type: 'Warning', reason: 'JobNameConflict', message },
    ]);
    // Not a hot loop: the same answer writes nothing again, and the key is polled each minute.
    expect(result).toEqual({ requeueAfterMs: RUN_NOT_CREATED_POLL_MS });
    const settled = cluster.writes.length;
    await reconcile();
    expect(cluster.writesSince(settled)).toEqual([]);
  });

  it('starts the run once the conflicting Job is gone', async () => {
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    takeJobName(cluster);
    await reconcile();
    cluster.jobs.delete(syncJob(T.created));
    await at(plus(T.created, RUN_NOT_CREATED_POLL_MS));

    await reconcile();

    expect(cluster.activeJobNames()).toEqual([syncJob(T.created)]);
    expect(cluster.condition('Stalled')).toBeUndefined();
    expect(cluster.condition('Reconciling')).toMatchObject({ reason: 'Progressing' });
  });
});

describe('IntegrationReconciler: history', () => {
  it('prunes the oldest finished Jobs beyond the history limits, never the running one', async () => {
    const spec = baseSpec();
    spec.overrides = {
      ...(spec.overrides as object),
      history: { successfulRuns: 2, failedRuns: 1 },
    };
    const { cluster, reconcile, at } = simulate({ integration: storedIntegration({ spec }) });
    // Due runs every 15m: success, failure, success, failure, success; then one running.
    const dues = [0, 15, 30, 45, 60, 75].map((m) => plus(T.created, m * MINUTE));
    for (const [index, due] of dues.entries()) {
      await at(due);
      // A failure not retried stops runs: a request starts the next one on time.
      cluster.edit(KEY, (object) => {
        object.metadata.annotations = { [SYNC_REQUESTED_ANNOTATION]: `run-${String(index)}` };
      });
      await reconcile();
      if (index === dues.length - 1) break;
      await at(plus(due, MINUTE));
      if (index % 2 === 0) cluster.succeed(syncJob(due));
      else cluster.fail(syncJob(due), failed('Authentication', false));
      await reconcile();
    }

    const [s0, f1, s2, f3, s4, running] = dues.map((due) => syncJob(due));
    expect(cluster.jobNames()).toEqual([s2, f3, s4, running].sort());
    expect(cluster.writes.flatMap((w) => (w.op === 'delete' ? [w.name] : []))).toEqual([f1, s0]);
    expect(cluster.activeJobNames()).toEqual([running]);
    // Status history outlives the Jobs.
    expect(cluster.status().history?.map((run) => run.jobName)).toEqual([s4, f3, s2, f1, s0]);
  });
  it('reports each finished run once, even when more Jobs are kept than status.history holds', async () => {
    const spec = baseSpec();
    spec.overrides = {
      ...(spec.overrides as object),
      history: { successfulRuns: 15, failedRuns: 5 },
    };
    const { cluster, reconcile, at } = simulate({ integration: storedIntegration({ spec }) });
    const dues = Array.from({ length: HISTORY_CAP + 2 }, (_, i) =>
      plus(T.created, i * 15 * MINUTE),
    );
    for (const due of dues) {
      await at(due);
      await reconcile();
      await at(plus(due, MINUTE));
      cluster.succeed(syncJob(due));
      await reconcile();
    }
    const settled = cluster.writes.length;

    await reconcile();
    await reconcile();

    expect(cluster.writesSince(settled)).toEqual([]);
    expect(cluster.jobNames()).toHaveLength(HISTORY_CAP + 2);
    expect(cluster.status().history).toHaveLength(HISTORY_CAP);
    const succeeded = cluster.eventsSince(0).filter((e) => e.message.endsWith(' succeeded'));
    expect(succeeded).toHaveLength(HISTORY_CAP + 2);
  });
});

describe('IntegrationReconciler: what a finished sync reports besides success', () => {
  it('turns Degraded above quarantine.maxRecords and Deprecated on a provider notice', async () => {
    const spec = baseSpec();
    spec.overrides = { ...(spec.overrides as object), quarantine: { maxRecords: 2 } };
    const { cluster, reconcile, at } = simulate({ integration: storedIntegration({ spec }) });
    await reconcile();
    await at(T.firstDone);
    const samples = [{ id: 'cus_1', reason: 'email: required' }];
    cluster.succeed(
      syncJob(T.created),
      result({
        outcome: 'PartiallySucceeded',
        stats: { ...STATS, quarantined: 3 },
        quarantine: { count: 3, samples },
        deprecation: {
          message: 'Stripe API version 2024-06-20 is deprecated',
          sunset: '2026-06-01T00:00:00Z',
        },
        schemaChanges: { added: ['tax_ids'] },
      }),
    );

    await reconcile();

    expect(cluster.condition('Synced')).toMatchObject({
      status: 'True',
      reason: 'PartiallySucceeded',
    });
    expect(cluster.condition('Degraded')).toMatchObject({
      status: 'True',
      reason: 'QuarantineExceeded',
    });
    expect(cluster.condition('Deprecated')).toMatchObject({
      status: 'True',
      message: 'Stripe API version 2024-06-20 is deprecated (sunset 2026-06-01T00:00:00Z)',
    });
    expect(cluster.condition('Ready')).toMatchObject({
      status: 'False',
      reason: 'QuarantineExceeded',
    });
    expect(cluster.status()).toMatchObject({
      lastSuccessfulSyncTime: '2026-01-05T10:01:00Z',
      quarantine: { count: 3, samples },
      schemaChanges: { added: ['tax_ids'] },
    });
  });
});

describe('IntegrationReconciler: long names', () => {
  it('runs an Integration whose name is longer than a label value', async () => {
    const name = 'acme-payments-stripe-customers-into-the-platform-ledger-europe-west1-prod';
    expect(name.length).toBeGreaterThan(MAX_LABEL_LENGTH);
    const { cluster, reconcile, at } = simulate({ integration: storedIntegration({ name }) });
    const key = `${NAMESPACE}/${name}`;

    await reconcile(key);
    const expected = jobName({ integration: name, kind: 'sync', dueTime: T.created, attempt: 1 });
    expect(cluster.jobNames()).toEqual([expected]);
    const job = cluster.jobs.get(expected);
    expect(expected.length).toBeLessThanOrEqual(MAX_LABEL_LENGTH);
    expect(expected).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    for (const value of Object.values(job?.metadata?.labels ?? {})) {
      expect(value.length).toBeLessThanOrEqual(MAX_LABEL_LENGTH);
    }
    expect(job?.metadata?.labels?.[JobLabel.IntegrationUID]).toBe(UID);

    await at(T.firstDone);
    cluster.succeed(expected);
    await reconcile(key);
    expect(cluster.condition('Ready', key)).toMatchObject({ status: 'True', reason: 'Succeeded' });
    expect(cluster.status(key).lastSync?.jobName).toBe(expected);
  });
});

describe('IntegrationReconciler: reads', () => {
  it('looks Secrets up only before starting a run, not on every reconcile of a running one', async () => {
    const { cluster, reconcile } = simulate();
    await reconcile();
    const atStart = cluster.secretLookups;
    expect(atStart).toBeGreaterThan(0);
    await reconcile();
    await reconcile();
    expect(cluster.secretLookups).toBe(atStart);
  });
});
