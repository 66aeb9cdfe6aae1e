/**
 * The held quarantine through the reconciler: kept across passes whatever the cursor does, the
 * held ids handed to the next sync, released ids dropped, Degraded until the held count is back
 * within quarantine.maxRecords, and the acknowledgement annotation.
 */
import { describe, expect, it } from 'vitest';
import {
  QUARANTINE_ACKNOWLEDGED_ANNOTATION,
  type RunInput,
} from '../../../../operator/api/index.ts';
import {
  baseSpec,
  KEY,
  MINUTE,
  plus,
  result,
  simulate,
  STATS,
  storedIntegration,
  syncJob,
  T,
} from './fixtures.ts';

const bad = (id: string) => ({ id, reason: 'InvalidRecord: email: is required' });

describe('IntegrationReconciler: the held quarantine', () => {
  it('holds records across passes, retries them by id and releases them; Degraded follows the held count', async () => {
    const spec = baseSpec();
    spec.overrides = { ...(spec.overrides as object), quarantine: { maxRecords: 2 } };
    const { cluster, reconcile, at } = simulate({ integration: storedIntegration({ spec }) });
    const runInputOf = (job: string) =>
      JSON.parse(
        cluster.jobs
          .get(job)
          ?.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'TRIBUTARY_RUN')
          ?.value ?? '{}',
      ) as RunInput;
    await reconcile();
    expect(runInputOf(syncJob(T.created)).quarantine).toBeUndefined();
    await at(T.firstDone);
    const samples = [bad('a'), bad('b'), bad('c')];
    cluster.succeed(
      syncJob(T.created),
      result({
        outcome: 'PartiallySucceeded',
        stats: { ...STATS, quarantined: 3 },
        checkpoint: 'c1',
        quarantine: { count: 3, new: 3, samples, full: true },
      }),
    );
    await reconcile();
    const firstSeen = '2026-01-05T10:01:00Z';
    expect(cluster.status().quarantine).toEqual({
      count: 3,
      samples: samples.map((s) => ({ ...s, firstSeen })),
    });
    expect(cluster.condition('Degraded')).toMatchObject({ status: 'True' });

    // The second pass: the cursor moved past them, it quarantines nothing new.
    await at(T.secondDue);
    await reconcile();
    expect(runInputOf(syncJob(T.secondDue)).quarantine).toEqual({ ids: ['a', 'b', 'c'] });
    await at(plus(T.secondDue, MINUTE));
    cluster.succeed(
      syncJob(T.secondDue),
      result({
        outcome: 'Succeeded',
        stats: STATS,
        checkpoint: 'c2',
        quarantine: { count: 0, new: 0, full: false },
      }),
    );
    await reconcile();
    expect(cluster.status().quarantine?.count).toBe(3);
    expect(cluster.condition('Degraded')).toMatchObject({
      status: 'True',
      reason: 'QuarantineExceeded',
    });

    // The third pass releases two of them: back within the limit.
    await at(T.thirdDue);
    await reconcile();
    await at(plus(T.thirdDue, MINUTE));
    cluster.succeed(
      syncJob(T.thirdDue),
      result({
        outcome: 'Succeeded',
        stats: STATS,
        checkpoint: 'c3',
        quarantine: { count: 0, new: 0, released: ['a', 'c'], releasedCount: 2, full: false },
      }),
    );
    await reconcile();
    expect(cluster.status().quarantine).toEqual({
      count: 1,
      samples: [{ ...bad('b'), firstSeen }],
    });
    expect(cluster.condition('Degraded')).toMatchObject({ status: 'False' });

    // A human acknowledges the rest.
    cluster.edit(KEY, (object) => {
      object.metadata.annotations = { [QUARANTINE_ACKNOWLEDGED_ANNOTATION]: 'ok' };
    });
    await reconcile();
    expect(cluster.status()).toMatchObject({
      quarantine: { count: 0 },
      lastHandledQuarantineAcknowledgement: 'ok',
    });
  });
});
