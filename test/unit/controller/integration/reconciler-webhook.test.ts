/**
 * An Integration with spec.webhook through the reconciler: its sync Jobs carry the intake's
 * stores and the grace; status.webhook holds the intake's figures and the passes' gap checks; the
 * webhook conditions follow, without touching Ready; without spec.webhook there is none of it.
 */
import { describe, expect, it } from 'vitest';
import { parseRunInput } from '../../../../operator/api/run-input.ts';
import {
  baseSpec,
  result,
  simulate,
  STATS,
  storedIntegration,
  syncJob,
  T,
  UID,
} from './fixtures.ts';

const WEBHOOK = {
  scheme: 'stripe',
  secretRefs: [{ name: 'whsec', key: 'secret' }],
  silence: { window: '1h' },
};

function runInputOf(cluster: ReturnType<typeof simulate>['cluster'], job: string) {
  const env = cluster.jobs.get(job)?.spec?.template.spec?.containers[0]?.env ?? [];
  const parsed = parseRunInput(env.find((e) => e.name === 'TRIBUTARY_RUN')?.value);
  if (!parsed.ok) throw new Error('no run input');
  return parsed.input;
}

describe('IntegrationReconciler with spec.webhook', () => {
  it('hands the intake to sync runs and folds its figures and the gap check into status', async () => {
    const sim = simulate({
      integration: storedIntegration({ spec: { ...baseSpec(), webhook: WEBHOOK } }),
    });
    sim.cluster.intakeObservations.set(UID, {
      namespace: 'payments',
      name: 'stripe-customers',
      uid: UID,
      observedTime: T.created.getTime(),
      accepted: 4,
      duplicate: 1,
      rejected: 0,
      ignored: 0,
      pending: 0,
      deadLettered: 0,
      recentAccepted: 4,
      recentRejected: 0,
      lastEventTime: '2026-01-05T09:59:00Z',
      lastEventId: 'evt_9',
    });
    await sim.reconcile();
    const job = syncJob(T.created);
    expect(runInputOf(sim.cluster, job).webhook).toEqual({
      intake: ['http://intake.test:8081'],
      grace: '2m',
    });

    await sim.at(T.firstDone);
    sim.cluster.succeed(
      job,
      result({
        stats: STATS,
        webhook: { changed: 5, missed: 2, missedSamples: ['cus_1', 'cus_2'] },
      }),
    );
    await sim.reconcile();
    const status = sim.cluster.status();
    expect(status.webhook).toMatchObject({
      route: '/hooks/payments/stripe-customers',
      accepted: 4,
      lastEventId: 'evt_9',
      missed: 2,
      missedSamples: ['cus_1', 'cus_2'],
      lastGapCheck: { changed: 5, missed: 2 },
    });
    expect(sim.cluster.condition('EventsMissed')).toMatchObject({
      status: 'True',
      reason: 'ChangesWithoutDelivery',
    });
    expect(sim.cluster.condition('WebhookSilent')).toMatchObject({
      status: 'False',
      reason: 'DeliveriesArriving',
    });
    expect(sim.cluster.condition('WebhookRejecting')).toMatchObject({ status: 'False' });
    expect(sim.cluster.condition('Ready')).toMatchObject({ status: 'True' });
  });

  it('has no webhook status, conditions or run input without spec.webhook', async () => {
    const sim = simulate();
    await sim.reconcile();
    expect(runInputOf(sim.cluster, syncJob(T.created)).webhook).toBeUndefined();
    expect(sim.cluster.status().webhook).toBeUndefined();
    for (const type of ['WebhookSilent', 'EventsMissed', 'WebhookRejecting']) {
      expect(sim.cluster.condition(type)).toBeUndefined();
    }
  });
});
