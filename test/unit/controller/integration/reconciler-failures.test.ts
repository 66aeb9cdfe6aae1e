import { describe, expect, it } from 'vitest';
import {
  RESYNC_REQUESTED_ANNOTATION,
  SYNC_REQUESTED_ANNOTATION,
} from '../../../../operator/api/index.ts';
import { SECRET_POLL_MS } from '../../../../operator/controller/integration/causes.ts';
import {
  baseSpec,
  failed,
  KEY,
  MINUTE,
  plus,
  SECOND,
  simulate,
  SOURCE_SECRET,
  storedIntegration,
  SUCCEEDED,
  syncJob,
  T,
  type Ending,
  type Simulation,
} from './fixtures.ts';

/** A simulation whose first run (due at creation) failed at T.firstDone with `ending`. */
async function firstRunEnds(ending: Ending, sim: Simulation = simulate()): Promise<Simulation> {
  await sim.reconcile();
  await sim.at(T.firstDone);
  sim.cluster.finish(syncJob(T.created), ending);
  await sim.reconcile();
  return sim;
}

const serverError: Ending = { kind: 'terminated', exitCode: 75, message: failed('ServerError') };

function withRetry(retry: Record<string, unknown>) {
  const spec = baseSpec();
  spec.overrides = { sync: { interval: '15m', jitter: '0%' }, retry };
  return storedIntegration({ spec });
}

describe('IntegrationReconciler: retryable failures', () => {
  it('schedules attempt 2 within the full-jitter window and draws the delay once', async () => {
    const draws: number[] = [];
    const random = () => {
      const value = [0.9, 0.1, 0.5][draws.length % 3] ?? 0;
      draws.push(value);
      return value;
    };
    const sim = simulate({ integration: withRetry({ jitter: 'Full' }), random });
    const { cluster, reconcile } = await firstRunEnds(serverError, sim);

    const retry = cluster.status().retry;
    expect(retry?.attempt).toBe(1);
    const next = Date.parse(retry?.nextAttemptTime ?? '');
    expect(next).toBeGreaterThanOrEqual(T.firstDone.getTime());
    expect(next).toBeLessThanOrEqual(plus(T.firstDone, 30 * SECOND).getTime());
    expect(retry?.nextAttemptTime).toBe('2026-01-05T10:01:27Z'); // 0.9 × 30s
    expect(cluster.condition('Reconciling')).toMatchObject({
      status: 'True',
      reason: 'RetryScheduled',
      message: 'attempt 2 starts at 2026-01-05T10:01:27Z',
    });
    expect(cluster.condition('Synced')).toMatchObject({ status: 'False', reason: 'SyncFailed' });
    expect(cluster.condition('Ready')).toMatchObject({ status: 'False', reason: 'SyncFailed' });
    expect(cluster.condition('Stalled')).toBeUndefined();

    const settled = cluster.writes.length;
    const result = await reconcile();
    expect(cluster.status().retry).toEqual(retry);
    expect(cluster.writesSince(settled)).toEqual([]);
    expect(draws).toHaveLength(1);
    expect(result).toEqual({ requeueAfterMs: 27 * SECOND });
  });

  it('starts attempt 2 at nextAttemptTime with the same due time', async () => {
    const sim = await firstRunEnds(serverError);
    const { cluster, reconcile, at } = sim;
    const nextAttempt = new Date(cluster.status().retry?.nextAttemptTime ?? '');

    await at(plus(nextAttempt, -SECOND));
    await reconcile();
    expect(cluster.activeJobNames()).toEqual([]);

    await at(nextAttempt);
    const before = cluster.writes.length;
    await reconcile();
    expect(cluster.createdSince(before)).toEqual([syncJob(T.created, 2)]);
    expect(cluster.status().retry).toBeUndefined();
    expect(cluster.status().activeRun).toMatchObject({
      attempt: 2,
      dueTime: '2026-01-05T10:00:00Z',
    });
    expect(cluster.eventsSince(before)).toContainEqual(
      expect.objectContaining({
        reason: 'RunStarted',
        message: `sync attempt 2 started as Job ${syncJob(T.created, 2)} (Retry)`,
      }),
    );
  });

  it('backs off exponentially, then stops until the probe an hour later', async () => {
    const sim = simulate({ integration: withRetry({ jitter: 'None', maxAttempts: 4 }) });
    const { cluster, reconcile, at } = sim;
    await reconcile();
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const job = syncJob(T.created, attempt);
      expect(cluster.activeJobNames()).toEqual([job]);
      await at(plus(new Date(cluster.clock.now()), 10 * SECOND));
      cluster.fail(job);
      await reconcile();
      const retry = cluster.status().retry;
      if (retry !== undefined) {
        delays.push(Date.parse(retry.nextAttemptTime) - cluster.clock.now());
        await at(new Date(retry.nextAttemptTime));
        await reconcile();
      }
    }
    expect(delays).toEqual([30 * SECOND, 60 * SECOND, 120 * SECOND]);

    expect(cluster.condition('Stalled')).toMatchObject({
      status: 'True',
      reason: 'RetriesExhausted',
      message:
        'all 4 attempts failed; the last: ServerError from api.stripe.com; runs are stopped until the spec, the policy or a referenced Secret changes or tributary.dev/sync-requested-at is set; one run probes at 2026-01-05T11:15:00Z',
    });
    expect(cluster.status().nextProbeTime).toBe('2026-01-05T11:15:00Z');
    expect(cluster.status().nextSyncTime).toBe('2026-01-05T11:15:00Z');
    expect(cluster.condition('Ready')).toMatchObject({
      status: 'False',
      reason: 'RetriesExhausted',
    });
    expect(cluster.condition('Reconciling')).toBeUndefined();
    expect(cluster.status().retry).toBeUndefined();

    // Stalled means stopped: the due runs of the next hour start nothing and count no misses.
    const exhausted = cluster.writes.length;
    for (let due = T.secondDue; due.getTime() < Date.parse('2026-01-05T11:15:00Z');) {
      await at(due);
      const result = await reconcile();
      expect(result.requeueAfterMs).toBeLessThanOrEqual(SECRET_POLL_MS);
      due = plus(due, 15 * MINUTE);
    }
    expect(cluster.createdSince(exhausted)).toEqual([]);
    expect(cluster.status().missedRuns).toBeUndefined();

    const probe = new Date('2026-01-05T11:15:00Z');
    await at(probe);
    await reconcile();
    expect(cluster.createdSince(exhausted)).toEqual([syncJob(probe, 1)]);
    const started = cluster.eventsSince(exhausted).find((e) => e.reason === 'RunStarted');
    expect(started?.message).toContain('(Probe)');
    expect(cluster.status().nextProbeTime).toBeUndefined();
    expect(cluster.condition('Stalled')).toBeUndefined();
  });

  it("starts one run within a Secret poll when a held Integration's Secret changes", async () => {
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    await at(T.firstDone);
    cluster.fail(syncJob(T.created), failed('Authentication', false));
    await reconcile();
    expect(cluster.condition('Stalled')).toMatchObject({ reason: 'AuthenticationFailed' });
    const held = cluster.writes.length;
    await at(plus(T.firstDone, SECRET_POLL_MS));
    await reconcile();
    expect(cluster.createdSince(held)).toEqual([]);

    cluster.secretVersions.set(SOURCE_SECRET, '2');
    const fixedAt = plus(T.firstDone, 2 * SECRET_POLL_MS);
    await at(fixedAt);
    await reconcile();
    expect(cluster.createdSince(held)).toEqual([syncJob(fixedAt, 1)]);
    const started = cluster.eventsSince(held).find((e) => e.reason === 'RunStarted');
    expect(started?.message).toContain('(SecretChanged)');
    await reconcile();
    expect(cluster.createdSince(held)).toHaveLength(1);
  });

  it('caps the delay at maxInterval', async () => {
    const sim = simulate({
      integration: withRetry({
        jitter: 'None',
        initialInterval: '1m',
        maxInterval: '90s',
        maxAttempts: 3,
      }),
    });
    const { cluster, reconcile, at } = sim;
    await reconcile();
    cluster.fail(syncJob(T.created, 1));
    await reconcile();
    await at(new Date(cluster.status().retry?.nextAttemptTime ?? ''));
    await reconcile();
    cluster.fail(syncJob(T.created, 2));
    await reconcile();

    expect(cluster.status().retry).toEqual({ attempt: 2, nextAttemptTime: '2026-01-05T10:02:30Z' });
  });

  it('retries a run stopped by timeouts.run as a Timeout', async () => {
    const { cluster } = await firstRunEnds({ kind: 'deadline' });

    expect(cluster.condition('Synced')).toMatchObject({
      status: 'False',
      reason: 'DeadlineExceeded',
      message: 'attempt 1 failed: the run exceeded timeouts.run and was stopped',
    });
    expect(cluster.status().lastSync?.error).toEqual({
      class: 'Timeout',
      message: 'the run exceeded timeouts.run and was stopped',
      retryable: true,
    });
    expect(cluster.status().retry).toEqual({ attempt: 1, nextAttemptTime: '2026-01-05T10:01:30Z' });
    expect(cluster.condition('Stalled')).toBeUndefined();
  });
});

describe('IntegrationReconciler: runs without a valid result', () => {
  it.each<[string, Ending, RegExp]>([
    [
      'no termination message',
      { kind: 'terminated', exitCode: 1 },
      /exit code 1 and wrote no result to its termination message/,
    ],
    [
      'malformed JSON',
      { kind: 'terminated', exitCode: 1, message: '{"version":"tributary.dev/result/v1",' },
      /wrote a termination message that is not a result \(.+\)/,
    ],
    [
      'a result that breaks the contract',
      { kind: 'terminated', exitCode: 0, message: '{"version":"tributary.dev/result/v1"}' },
      /wrote an invalid result \(outcome: .+\)/,
    ],
  ])('counts %s as a failed attempt with reason InvalidResult', async (_name, ending, message) => {
    const { cluster } = await firstRunEnds(ending);

    expect(cluster.status().lastSync).toMatchObject({ outcome: 'Failed', reason: 'InvalidResult' });
    expect(cluster.condition('Synced')).toMatchObject({ status: 'False', reason: 'InvalidResult' });
    expect(cluster.condition('Synced')?.message).toMatch(message);
    expect(cluster.status().retry?.attempt).toBe(1);
    const warning = cluster.eventsSince(0).find((e) => e.reason === 'InvalidResult');
    expect(warning?.type).toBe('Warning');
    expect(warning?.message).toMatch(message);
  });
});

describe('IntegrationReconciler: failures a human must fix', () => {
  it.each<[string, Ending, string, RegExp]>([
    [
      'refused credentials',
      { kind: 'terminated', exitCode: 78, message: failed('Authentication', false) },
      'AuthenticationFailed',
      /Authentication from api\.stripe\.com/,
    ],
    [
      'exit code 78 without a result',
      { kind: 'terminated', exitCode: 78 },
      'ConfigurationError',
      /exit code 78 and wrote no result/,
    ],
    [
      'a configuration error in the result',
      { kind: 'terminated', exitCode: 78, message: failed('Configuration', false) },
      'ConfigurationError',
      /Configuration from api\.stripe\.com/,
    ],
  ])('stalls on %s without a retry', async (_name, ending, reason, message) => {
    const { cluster, reconcile, at } = await firstRunEnds(ending);

    expect(cluster.condition('Stalled')).toMatchObject({ status: 'True', reason });
    expect(cluster.condition('Stalled')?.message).toMatch(message);
    expect(cluster.condition('Ready')).toMatchObject({ status: 'False', reason });
    expect(cluster.condition('Reconciling')).toBeUndefined();
    expect(cluster.status().retry).toBeUndefined();
    expect(cluster.eventsSince(0)).toContainEqual(
      expect.objectContaining({ type: 'Warning', reason }),
    );

    await at(plus(T.secondDue, -SECOND));
    await reconcile();
    expect(cluster.jobNames()).toEqual([syncJob(T.created)]);
  });

  it('starts a new run when the spec changes after a stall', async () => {
    const { cluster, reconcile, at } = await firstRunEnds({
      kind: 'terminated',
      exitCode: 78,
      message: failed('Authentication', false),
    });
    const fixedAt = plus(T.firstDone, 2 * MINUTE);
    await at(fixedAt);
    cluster.edit(KEY, (object) => {
      object.metadata.generation = 2;
      object.spec.source = {
        ...(object.spec.source as object),
        credentialsRef: { name: 'stripe-api', key: 'restrictedKey' },
      };
    });
    const before = cluster.writes.length;

    await reconcile();
    await reconcile();

    expect(cluster.createdSince(before)).toEqual([syncJob(fixedAt, 1)]);
    expect(cluster.status().observedGeneration).toBe(2);
    expect(cluster.condition('Stalled')).toBeUndefined();
    const started = cluster.eventsSince(before).find((e) => e.reason === 'RunStarted');
    expect(started?.message).toBe(
      `sync attempt 1 started as Job ${syncJob(fixedAt, 1)} (SpecChanged)`,
    );

    cluster.succeed(syncJob(fixedAt, 1), SUCCEEDED);
    await reconcile();
    expect(cluster.condition('Ready')).toMatchObject({ status: 'True', reason: 'Succeeded' });
  });

  it('does not start a run for a spec change when nothing failed', async () => {
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    await at(T.firstDone);
    cluster.succeed(syncJob(T.created));
    await reconcile();
    cluster.edit(KEY, (object) => {
      object.metadata.generation = 2;
    });
    const before = cluster.writes.length;

    await reconcile();

    expect(cluster.createdSince(before)).toEqual([]);
    expect(cluster.status().observedGeneration).toBe(2);
  });
});

describe('IntegrationReconciler: the sync-requested-at annotation', () => {
  it('starts exactly one run per new value and echoes it in status', async () => {
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    await at(T.firstDone);
    cluster.succeed(syncJob(T.created));
    await reconcile();
    const requestedAt = plus(T.firstDone, 3 * MINUTE);
    await at(requestedAt);
    cluster.edit(KEY, (object) => {
      object.metadata.annotations = { [SYNC_REQUESTED_ANNOTATION]: '2026-01-05T10:04:00+00:00' };
    });
    const before = cluster.writes.length;

    await reconcile();
    expect(cluster.createdSince(before)).toEqual([syncJob(requestedAt, 1)]);
    expect(cluster.status().lastHandledSyncRequest).toBe('2026-01-05T10:04:00+00:00');
    const started = cluster.eventsSince(before).find((e) => e.reason === 'RunStarted');
    expect(started?.message).toBe(
      `sync attempt 1 started as Job ${syncJob(requestedAt, 1)} (Requested)`,
    );

    await at(plus(requestedAt, MINUTE));
    cluster.succeed(syncJob(requestedAt, 1));
    await reconcile();
    await reconcile();
    expect(cluster.createdSince(before)).toEqual([syncJob(requestedAt, 1)]);

    cluster.edit(KEY, (object) => {
      object.metadata.annotations = { [SYNC_REQUESTED_ANNOTATION]: 'again' };
    });
    await at(plus(requestedAt, 2 * MINUTE));
    await reconcile();
    expect(cluster.createdSince(before)).toEqual([
      syncJob(requestedAt, 1),
      syncJob(plus(requestedAt, 2 * MINUTE), 1),
    ]);
    expect(cluster.status().lastHandledSyncRequest).toBe('again');
  });

  it('waits for the running sync under Forbid, then handles the request', async () => {
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    cluster.edit(KEY, (object) => {
      object.metadata.annotations = { [SYNC_REQUESTED_ANNOTATION]: 'now' };
    });
    await at(plus(T.created, 20 * SECOND));

    await reconcile();
    expect(cluster.activeJobNames()).toEqual([syncJob(T.created)]);
    expect(cluster.status().lastHandledSyncRequest).toBeUndefined();
    expect(cluster.condition('Reconciling')?.message).toBe(
      `a sync is due but ${syncJob(T.created)} is still running (concurrencyPolicy Forbid)`,
    );

    await at(T.firstDone);
    cluster.succeed(syncJob(T.created));
    await reconcile();
    expect(cluster.activeJobNames()).toEqual([syncJob(T.firstDone)]);
    expect(cluster.status().lastHandledSyncRequest).toBe('now');
  });
});

describe('IntegrationReconciler: the resync-requested-at annotation', () => {
  it('runs one full pass from no checkpoint and echoes the value', async () => {
    const { cluster, reconcile, at } = simulate();
    await reconcile();
    await at(T.firstDone);
    cluster.succeed(syncJob(T.created));
    await reconcile();
    expect(cluster.status().checkpoint?.cursor).toBe('cus_120');
    const requestedAt = plus(T.firstDone, MINUTE);
    await at(requestedAt);
    cluster.edit(KEY, (object) => {
      object.metadata.annotations = { [RESYNC_REQUESTED_ANNOTATION]: 'full' };
    });
    const before = cluster.writes.length;

    await reconcile();
    await reconcile();

    expect(cluster.createdSince(before)).toEqual([syncJob(requestedAt, 1)]);
    expect(cluster.status().lastHandledResyncRequest).toBe('full');
    const env = cluster.jobs.get(syncJob(requestedAt, 1))?.spec?.template.spec?.containers[0]?.env;
    const run = JSON.parse(env?.find((e) => e.name === 'TRIBUTARY_RUN')?.value ?? '{}') as {
      checkpoint?: string;
    };
    expect(run.checkpoint).toBeUndefined();
    const started = cluster.eventsSince(before).find((e) => e.reason === 'RunStarted');
    expect(started?.message).toContain('(Resync)');

    // The pass after it resumes from a checkpoint again.
    await at(plus(requestedAt, MINUTE));
    cluster.succeed(syncJob(requestedAt, 1));
    await reconcile();
    const next = plus(T.created, 15 * MINUTE);
    await at(next);
    await reconcile();
    const nextEnv = cluster.jobs.get(syncJob(next, 1))?.spec?.template.spec?.containers[0]?.env;
    const nextRun = JSON.parse(nextEnv?.find((e) => e.name === 'TRIBUTARY_RUN')?.value ?? '{}') as {
      checkpoint?: string;
    };
    expect(nextRun.checkpoint).toBe('cus_120');
  });
});
