import { describe, expect, it } from 'vitest';
import { SECRET_POLL_MS } from '../../../../operator/controller/integration/causes.ts';
import { example } from '../../../fixtures/manifests.ts';
import {
  baseSpec,
  DESTINATION_SECRET,
  HOUR,
  KEY,
  MINUTE,
  NAMESPACE,
  plus,
  SECOND,
  simulate,
  SOURCE_SECRET,
  storedIntegration,
  syncJob,
  T,
} from './fixtures.ts';

function integrationWith(overrides: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return storedIntegration({ spec: { ...baseSpec(), ...extra, overrides } });
}

describe('IntegrationReconciler: missing Secrets', () => {
  it('stalls naming the Secret, starts nothing, and looks again', async () => {
    const { cluster, reconcile } = simulate();
    cluster.secrets.delete(SOURCE_SECRET);

    const result = await reconcile();

    expect(cluster.jobNames()).toEqual([]);
    const message = `Secret "${SOURCE_SECRET}" not found in namespace ${NAMESPACE}: create it; runs resume on their own`;
    expect(cluster.condition('Stalled')).toMatchObject({
      status: 'True',
      reason: 'SecretNotFound',
      message,
    });
    expect(cluster.condition('Ready')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(cluster.eventsSince(0)).toContainEqual({
      type: 'Warning',
      reason: 'SecretNotFound',
      message,
    });
    expect(result).toEqual({ requeueAfterMs: SECRET_POLL_MS });
  });

  it('names every missing Secret', async () => {
    const { cluster, reconcile } = simulate();
    cluster.secrets.clear();
    await reconcile();
    expect(cluster.condition('Stalled')?.message).toContain(
      `"${SOURCE_SECRET}", "${DESTINATION_SECRET}"`,
    );
  });

  it('starts the due run once the Secret appears', async () => {
    const { cluster, reconcile, at } = simulate();
    cluster.secrets.delete(SOURCE_SECRET);
    await reconcile();
    await at(plus(T.created, SECRET_POLL_MS));
    cluster.secrets.add(SOURCE_SECRET);

    await reconcile();

    expect(cluster.jobNames()).toEqual([syncJob(T.created)]);
    expect(cluster.condition('Stalled')).toBeUndefined();
    expect(cluster.condition('Reconciling')).toMatchObject({
      status: 'True',
      reason: 'Progressing',
    });
  });

  it('stalls with the kubelet message when the pod cannot read a Secret key', async () => {
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    await at(plus(T.created, 10 * SECOND));
    const kubelet = "couldn't find key apiKey in Secret payments/stripe-api";
    cluster.podWaiting(syncJob(T.created), 'CreateContainerConfigError', kubelet);
    const before = cluster.writes.length;

    await reconcile();

    const message = `run ${syncJob(T.created)} cannot start: ${kubelet}`;
    expect(cluster.condition('Stalled')).toMatchObject({
      status: 'True',
      reason: 'SecretNotFound',
      message,
    });
    expect(cluster.condition('Ready')).toMatchObject({
      status: 'False',
      reason: 'SecretNotFound',
      message,
    });
    expect(cluster.eventsSince(before)).toContainEqual({
      type: 'Warning',
      reason: 'SecretNotFound',
      message,
    });
    expect(cluster.createdSince(before)).toEqual([]);
  });
});

describe('IntegrationReconciler: ReconcilePolicy', () => {
  it('stalls on a missing policy, then resolves policy < overrides once it appears', async () => {
    const spec = {
      ...baseSpec(),
      policyRef: { name: 'standard' },
      overrides: { sync: { interval: '5m' } },
    };
    const { cluster, reconcile } = simulate({ integration: storedIntegration({ spec }) });

    await reconcile();
    expect(cluster.jobNames()).toEqual([]);
    expect(cluster.condition('Stalled')).toMatchObject({
      status: 'True',
      reason: 'PolicyNotFound',
      message: `ReconcilePolicy "standard" not found in namespace ${NAMESPACE}: create it or fix spec.policyRef`,
    });
    expect(cluster.condition('Ready')).toMatchObject({ status: 'False', reason: 'PolicyNotFound' });

    cluster.applyPolicy(example('ReconcilePolicy', 'standard'));
    await reconcile();

    expect(cluster.condition('Stalled')).toBeUndefined();
    expect(cluster.jobNames()).toEqual([syncJob(T.created)]);
    const policy = cluster.status().effectivePolicy;
    expect(policy?.sync).toMatchObject({
      interval: '5m', // the override wins over the policy's 15m
      startingDeadline: '5m', // from the policy
      jitter: '10%',
    });
    expect(policy?.retry.jitter).toBe('Full'); // from the policy
    expect(policy?.history).toEqual({ successfulRuns: 3, failedRuns: 5 });
  });

  it('stalls on a policy that is invalid, naming it', async () => {
    const spec = { ...baseSpec(), policyRef: { name: 'broken' } };
    const { cluster, reconcile } = simulate({ integration: storedIntegration({ spec }) });
    const broken = example('ReconcilePolicy', 'standard');
    (broken.metadata as { name: string }).name = 'broken';
    (broken.spec as { retry: { jitter: string } }).retry.jitter = 'Sometimes';
    cluster.applyPolicy(broken);

    await reconcile();

    expect(cluster.jobNames()).toEqual([]);
    expect(cluster.condition('Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(cluster.condition('Stalled')?.message).toMatch(
      /^ReconcilePolicy "broken" is invalid: spec\.retry\.jitter/,
    );
  });
});

describe('IntegrationReconciler: suspend', () => {
  it('starts nothing while suspended and runs the due sync on resume', async () => {
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    await at(T.firstDone);
    cluster.succeed(syncJob(T.created));
    cluster.edit(KEY, (object) => {
      object.metadata.generation = 2;
      object.spec.suspend = true;
    });
    await reconcile();
    expect(cluster.condition('Suspended')).toMatchObject({
      status: 'True',
      message: 'spec.suspend is true: no new runs start; set it to false to resume',
    });

    await at(plus(T.secondDue, MINUTE));
    await reconcile();
    expect(cluster.jobNames()).toEqual([syncJob(T.created)]);
    expect(cluster.condition('Ready')).toMatchObject({ status: 'True' });

    cluster.edit(KEY, (object) => {
      object.metadata.generation = 3;
      object.spec.suspend = false;
    });
    await reconcile();
    expect(cluster.activeJobNames()).toEqual([syncJob(T.secondDue)]);
    expect(cluster.condition('Suspended')).toMatchObject({ status: 'False' });
  });
});

describe('IntegrationReconciler: Reconciling as kstatus reads it', () => {
  it('is absent while Stalled, so kstatus says Failed rather than InProgress', async () => {
    // The run's pod exists but cannot start: a Job is active, yet a human must act.
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    await at(plus(T.created, 10 * SECOND));
    cluster.podWaiting(syncJob(T.created), 'CreateContainerConfigError', 'no key apiKey');
    await reconcile();
    expect(cluster.activeJobNames()).toEqual([syncJob(T.created)]);
    expect(cluster.condition('Stalled')).toMatchObject({ status: 'True' });
    expect(cluster.condition('Reconciling')).toBeUndefined();
  });

  it('is absent for an Integration created suspended, and appears when it is resumed', async () => {
    const { cluster, reconcile } = simulate({
      integration: storedIntegration({ spec: { ...baseSpec(), suspend: true } }),
    });
    await reconcile();
    expect(cluster.jobNames()).toEqual([]);
    expect(cluster.condition('Suspended')).toMatchObject({ status: 'True' });
    expect(cluster.condition('Reconciling')).toBeUndefined();

    cluster.edit(KEY, (object) => {
      object.metadata.generation = 2;
      object.spec.suspend = false;
    });
    await reconcile();
    expect(cluster.activeJobNames()).toEqual([syncJob(T.created)]);
    expect(cluster.condition('Reconciling')).toMatchObject({ reason: 'Progressing' });
  });

  it('stays while a run that started before suspend still runs', async () => {
    const { cluster, reconcile } = simulate();
    await reconcile();
    cluster.edit(KEY, (object) => {
      object.metadata.generation = 2;
      object.spec.suspend = true;
    });
    await reconcile();
    expect(cluster.activeJobNames()).toEqual([syncJob(T.created)]);
    expect(cluster.condition('Reconciling')).toMatchObject({ reason: 'Progressing' });
  });
});

describe('IntegrationReconciler: concurrencyPolicy', () => {
  it('Forbid: a due run waits for the running one and Reconciling says why', async () => {
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    await at(T.secondDue);
    const before = cluster.writes.length;

    await reconcile();
    await reconcile();

    expect(cluster.createdSince(before)).toEqual([]);
    expect(cluster.activeJobNames()).toEqual([syncJob(T.created)]);
    expect(cluster.condition('Reconciling')).toMatchObject({
      status: 'True',
      reason: 'Progressing',
      message: `a sync is due but ${syncJob(T.created)} is still running (concurrencyPolicy Forbid)`,
    });

    await at(plus(T.secondDue, MINUTE));
    cluster.succeed(syncJob(T.created));
    await reconcile();
    expect(cluster.activeJobNames()).toEqual([syncJob(T.secondDue)]);
  });

  it('Replace: deletes the running Job before creating the due one', async () => {
    const integration = integrationWith({
      sync: { interval: '15m', jitter: '0%', concurrencyPolicy: 'Replace' },
    });
    const { cluster, reconcile, at } = simulate({ integration });
    await reconcile();
    await at(T.secondDue);
    const before = cluster.writes.length;

    await reconcile();

    const jobWrites = cluster
      .writesSince(before)
      .filter((w) => w.op === 'create' || w.op === 'delete');
    expect(jobWrites).toEqual([
      { op: 'delete', name: syncJob(T.created) },
      { op: 'create', name: syncJob(T.secondDue) },
    ]);
    expect(cluster.jobNames()).toEqual([syncJob(T.secondDue)]);
    expect(cluster.status().activeRun?.jobName).toBe(syncJob(T.secondDue));
  });
});

describe('IntegrationReconciler: startingDeadline', () => {
  it('skips runs that are too late, counts them, and says so', async () => {
    const integration = integrationWith({
      sync: { interval: '15m', jitter: '0%', startingDeadline: '5m' },
    });
    const { cluster, reconcile, at } = simulate({ integration });
    await reconcile();
    await at(T.firstDone);
    cluster.succeed(syncJob(T.created));
    await reconcile();
    // The operator is down from 10:01 to 10:36: runs due at 10:15 and 10:30 never start.
    await at(plus(T.thirdDue, 6 * MINUTE));
    const before = cluster.writes.length;

    const result = await reconcile();

    expect(cluster.createdSince(before)).toEqual([]);
    expect(cluster.status()).toMatchObject({
      missedRuns: 2,
      lastScheduledTime: '2026-01-05T10:30:00Z',
      nextSyncTime: '2026-01-05T10:45:00Z',
    });
    expect(cluster.eventsSince(before)).toContainEqual({
      type: 'Warning',
      reason: 'MissedSchedule',
      message:
        '2 due sync run(s) skipped: they could not start before startingDeadline or were superseded',
    });
    expect(result).toEqual({ requeueAfterMs: 9 * MINUTE });

    await reconcile();
    expect(cluster.status().missedRuns).toBe(2);

    await at(plus(T.thirdDue, 15 * MINUTE));
    await reconcile();
    expect(cluster.activeJobNames()).toEqual([syncJob(plus(T.thirdDue, 15 * MINUTE))]);
  });

  it('starts a late run that is still within the deadline', async () => {
    const integration = integrationWith({
      sync: { interval: '15m', jitter: '0%', startingDeadline: '5m' },
    });
    const { cluster, reconcile, at } = simulate({ integration });
    await reconcile();
    await at(T.firstDone);
    cluster.succeed(syncJob(T.created));
    await reconcile();

    await at(plus(T.secondDue, 4 * MINUTE));
    await reconcile();

    expect(cluster.activeJobNames()).toEqual([syncJob(T.secondDue)]);
    expect(cluster.status().missedRuns).toBeUndefined();
  });
});

describe('IntegrationReconciler: freshness', () => {
  it('turns Stale and not Ready when the last success is older than freshness.maxAge', async () => {
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    await at(T.firstDone);
    cluster.succeed(syncJob(T.created));
    await reconcile();
    // The 10:15 run hangs; Forbid keeps every later run waiting.
    await at(T.secondDue);
    await reconcile();
    await at(plus(T.firstDone, HOUR - SECOND));
    const result = await reconcile();
    expect(cluster.condition('Stale')).toMatchObject({ status: 'False' });
    expect(result).toEqual({ requeueAfterMs: SECOND });

    await at(plus(T.firstDone, HOUR));
    await reconcile();

    expect(cluster.condition('Stale')).toMatchObject({
      status: 'True',
      reason: 'MaxAgeExceeded',
      message:
        'the last successful sync was at 2026-01-05T10:01:00Z, more than freshness.maxAge (1h) ago',
      lastTransitionTime: '2026-01-05T11:01:00Z',
    });
    expect(cluster.condition('Ready')).toMatchObject({ status: 'False', reason: 'MaxAgeExceeded' });
  });
});

describe('IntegrationReconciler: objects that passed admission but cannot be run', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'a cron minute of 61',
      { sync: { schedule: '61 * * * *' } },
      /spec\.overrides\.sync\.schedule/,
    ],
    [
      'an unknown time zone',
      { sync: { schedule: '0 * * * *', timeZone: 'Mars/Olympus_Mons' } },
      /spec\.overrides\.sync\.timeZone/,
    ],
  ])('stalls on %s with InvalidSpec naming the field', async (_name, overrides, field) => {
    const { cluster, reconcile } = simulate({ integration: integrationWith(overrides) });

    const result = await reconcile();
    await reconcile();

    expect(result).toEqual({});
    expect(cluster.jobNames()).toEqual([]);
    expect(cluster.condition('Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(cluster.condition('Stalled')?.message).toMatch(field);
    expect(cluster.condition('Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(cluster.status().observedGeneration).toBe(1);
    expect(cluster.eventsSince(0).filter((e) => e.reason === 'InvalidSpec')).toHaveLength(1);
    expect(cluster.writes.filter((w) => w.op === 'status')).toHaveLength(1);
  });

  it('recovers when the spec is fixed', async () => {
    const { cluster, reconcile } = simulate({
      integration: integrationWith({ sync: { schedule: '61 * * * *' } }),
    });
    await reconcile();
    cluster.edit(KEY, (object) => {
      object.metadata.generation = 2;
      object.spec.overrides = { sync: { interval: '15m', jitter: '0%' } };
    });

    await reconcile();

    expect(cluster.condition('Stalled')).toBeUndefined();
    expect(cluster.jobNames()).toEqual([syncJob(T.created)]);
    expect(cluster.status().observedGeneration).toBe(2);
  });

  it('ignores an Integration that is gone or being deleted', async () => {
    const { cluster, reconcile } = simulate();
    expect(await reconcile(`${NAMESPACE}/not-there`)).toEqual({});
    expect(cluster.forgotten).toEqual([`${NAMESPACE}/not-there`]); // its Event aggregation too
    cluster.edit(KEY, (object) => {
      (object.metadata as { deletionTimestamp?: string }).deletionTimestamp =
        '2026-01-05T10:00:00Z';
    });
    await reconcile();
    expect(cluster.writes).toEqual([]);
  });
});
