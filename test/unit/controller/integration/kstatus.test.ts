import { describe, expect, it } from 'vitest';
import type { Condition } from '../../../../operator/api/index.ts';
import { JobLabel } from '../../../../operator/controller/plan/job.ts';
import {
  baseSpec,
  failed,
  KEY,
  plus,
  SECOND,
  simulate,
  SOURCE_SECRET,
  storedIntegration,
  syncJob,
  T,
  type Simulation,
} from './fixtures.ts';

/** Asserts the kstatus rules on the stored conditions. */
function expectKstatus(conditions: readonly Condition[] = []): void {
  const get = (type: string) => conditions.find((c) => c.type === type);
  const stalled = get('Stalled');
  const reconciling = get('Reconciling');
  for (const abnormal of [stalled, reconciling]) {
    if (abnormal !== undefined) expect(abnormal.status).toBe('True');
  }
  if (stalled !== undefined) expect(reconciling).toBeUndefined();
  if (get('Ready')?.status === 'True') {
    expect(stalled).toBeUndefined();
    expect(reconciling).toBeUndefined();
  }
}

/** A drift schedule admission accepts but cron-parser cannot compute (Lord Howe's 30-min DST). */
const unplannableDrift = () =>
  storedIntegration({
    createdAt: new Date('2026-04-03T15:00:00Z'),
    spec: {
      ...baseSpec(),
      destination: {
        url: 'http://ledger.payments.svc/customers/{id}',
        list: { url: 'http://ledger.payments.svc/customers' },
      },
      overrides: {
        sync: { interval: '15m', jitter: '0%' },
        drift: { schedule: '0 2 * * *', timeZone: 'Australia/Lord_Howe' },
      },
    },
  });

interface Scenario {
  name: string;
  reason: string | undefined;
  run: () => Promise<Simulation>;
}

const scenarios: Scenario[] = [
  {
    name: 'running the first sync',
    reason: 'Progressing',
    run: async () => {
      const s = simulate();
      await s.reconcile();
      return s;
    },
  },
  {
    name: 'a spec made invalid while a run was in progress',
    reason: 'InvalidSpec',
    run: async () => {
      const s = simulate();
      await s.reconcile();
      s.cluster.edit(KEY, (object) => {
        object.metadata.generation = 2;
        object.spec.overrides = { sync: { schedule: '61 * * * *' } };
      });
      await s.reconcile();
      return s;
    },
  },
  {
    name: 'a drift trigger that cannot be planned',
    reason: 'InvalidSpec',
    run: async () => {
      const s = simulate({
        integration: unplannableDrift(),
        start: new Date('2026-04-04T16:00:00Z'),
      });
      await s.reconcile();
      return s;
    },
  },
  {
    name: 'a missing Secret',
    reason: 'SecretNotFound',
    run: async () => {
      const s = simulate();
      s.cluster.secrets.delete(SOURCE_SECRET);
      await s.reconcile();
      return s;
    },
  },
  {
    name: 'a missing policy',
    reason: 'PolicyNotFound',
    run: async () => {
      const spec = { ...baseSpec(), policyRef: { name: 'standard' } };
      const s = simulate({ integration: storedIntegration({ spec }) });
      await s.reconcile();
      return s;
    },
  },
  {
    name: 'a retry scheduled',
    reason: 'SyncFailed',
    run: async () => {
      const s = simulate();
      await s.reconcile();
      await s.at(T.firstDone);
      s.cluster.fail(syncJob(T.created));
      await s.reconcile();
      return s;
    },
  },
  {
    name: 'a failure that is not retried',
    reason: 'AuthenticationFailed',
    run: async () => {
      const s = simulate();
      await s.reconcile();
      await s.at(T.firstDone);
      s.cluster.fail(syncJob(T.created), failed('Authentication', false));
      await s.reconcile();
      return s;
    },
  },
  {
    name: 'a Job-name conflict',
    reason: 'JobNameConflict',
    run: async () => {
      const s = simulate();
      await s.reconcile();
      const job = s.cluster.jobs.get(syncJob(T.created));
      if (job?.metadata?.labels) job.metadata.labels[JobLabel.IntegrationUID] = 'someone-else';
      s.cluster.uncached.add(syncJob(T.created));
      s.cluster.edit(KEY, (object) => {
        delete object.status;
      });
      await s.reconcile();
      return s;
    },
  },
  {
    name: 'suspended after a success',
    reason: 'Succeeded',
    run: async () => {
      const s = simulate();
      await s.reconcile();
      await s.at(T.firstDone);
      s.cluster.succeed(syncJob(T.created));
      s.cluster.edit(KEY, (object) => {
        object.metadata.generation = 2;
        object.spec.suspend = true;
      });
      await s.reconcile();
      await s.at(plus(T.secondDue, SECOND));
      await s.reconcile();
      return s;
    },
  },
];

describe('kstatus invariants through the reconciler', () => {
  it.each(scenarios)('$name', async ({ run, reason }) => {
    const { cluster } = await run();
    expectKstatus(cluster.status().conditions);
    expect(cluster.condition('Ready')?.reason).toBe(reason);
  });
});

describe('IntegrationReconciler: a drift trigger that cannot be planned', () => {
  it('stalls with InvalidSpec naming drift, instead of never checking drift', async () => {
    const { cluster, reconcile } = simulate({
      integration: unplannableDrift(),
      start: new Date('2026-04-04T16:00:00Z'),
    });

    await reconcile();

    expect(cluster.condition('Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(cluster.condition('Stalled')?.message).toMatch(
      /^drift: schedule "0 2 \* \* \*" in Australia\/Lord_Howe: fire times cannot be computed/,
    );
    expect(cluster.condition('Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(cluster.jobNames()).toEqual([]);
    expect(cluster.eventsSince(0)).toContainEqual(
      expect.objectContaining({ type: 'Warning', reason: 'InvalidSpec' }),
    );
  });
});
