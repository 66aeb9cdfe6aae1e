/**
 * Requests the API server refuses (a ResourceQuota, an admission policy, RBAC) end in status, an
 * Event and a metric within the reconcile that met them; outages and timeouts are retried.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  RUN_NOT_CREATED_POLL_MS,
  SECRET_POLL_MS,
} from '../../../../operator/controller/integration/causes.ts';
import { IntegrationMetrics } from '../../../../operator/controller/integration/metrics.ts';
import { ApiError } from '../../../../operator/lib/kube/errors.ts';
import { plus, simulate, syncJob, T } from './fixtures.ts';

const QUOTA = new ApiError(
  403,
  'jobs.batch "stripe-customers-s-1767607200-1" is forbidden: exceeded quota: jobs, requested: count/jobs.batch=1, used: count/jobs.batch=0, limited: count/jobs.batch=0',
  'Forbidden',
);
const RBAC = new ApiError(
  403,
  'secrets "stripe-api" is forbidden: User "system:serviceaccount:tributary-system:tributary" cannot get resource "secrets" in the namespace "payments"',
  'Forbidden',
);

async function refusals(registry: Registry, reason: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric('tributary_api_refusals_total')?.get();
  return metric?.values.find((v) => v.labels.reason === reason)?.value;
}

describe('IntegrationReconciler: a run Job the API server refuses', () => {
  it('stalls with JobRejected, quoting the answer, with a Warning Event and a counted refusal', async () => {
    const registry = new Registry();
    const { cluster, reconcile } = simulate({ metrics: new IntegrationMetrics(registry) });
    cluster.refuseCreates = QUOTA;

    const result = await reconcile();

    const job = syncJob(T.created);
    expect(cluster.condition('Stalled')).toMatchObject({ status: 'True', reason: 'JobRejected' });
    expect(cluster.condition('Stalled')?.message).toContain(
      `Job ${job} was refused by the API server (HTTP 403): `,
    );
    expect(cluster.condition('Stalled')?.message).toContain('exceeded quota: jobs');
    expect(cluster.condition('Ready')).toMatchObject({ status: 'False', reason: 'JobRejected' });
    expect(cluster.condition('Reconciling')).toBeUndefined();
    expect(cluster.status().activeRun).toBeUndefined();
    expect(cluster.eventsSince(0)).toContainEqual(
      expect.objectContaining({ type: 'Warning', reason: 'JobRejected' }),
    );
    expect(await refusals(registry, 'JobRejected')).toBe(1);
    expect(result).toEqual({ requeueAfterMs: RUN_NOT_CREATED_POLL_MS });
  });

  it('starts the run once the API server accepts it again', async () => {
    const { cluster, reconcile, at } = simulate();
    cluster.refuseCreates = QUOTA;
    await reconcile();
    cluster.refuseCreates = undefined;
    await at(plus(T.created, RUN_NOT_CREATED_POLL_MS));

    await reconcile();

    expect(cluster.activeJobNames()).toEqual([syncJob(T.created)]);
    expect(cluster.condition('Stalled')).toBeUndefined();
    expect(cluster.condition('Reconciling')).toMatchObject({ reason: 'Progressing' });
  });

  it.each([
    ['a server error', new ApiError(503, 'etcdserver: leader changed')],
    ['throttling', new ApiError(429, 'too many requests')],
    [
      'no answer',
      new ApiError(0, 'POST /apis/batch/v1/namespaces/payments/jobs: no answer within 30000 ms'),
    ],
  ])('retries %s with backoff instead of stalling', async (_what, error) => {
    const { cluster, reconcile } = simulate();
    cluster.refuseCreates = error;

    await expect(reconcile()).rejects.toBe(error);
    expect(cluster.condition('Stalled')).toBeUndefined();
  });
});

describe('IntegrationReconciler: a Secret lookup the API server refuses', () => {
  it('stalls with SecretLookupFailed naming the Secret and the missing permission', async () => {
    const registry = new Registry();
    const { cluster, reconcile } = simulate({ metrics: new IntegrationMetrics(registry) });
    cluster.refuseSecretLookups = RBAC;

    const result = await reconcile();

    expect(cluster.condition('Stalled')).toMatchObject({
      status: 'True',
      reason: 'SecretLookupFailed',
    });
    expect(cluster.condition('Stalled')?.message).toContain(
      'could not check Secret "stripe-api" in namespace payments',
    );
    expect(cluster.condition('Stalled')?.message).toContain('"get" on Secrets');
    expect(cluster.createAttempts).toEqual([]);
    expect(cluster.eventsSince(0)).toContainEqual(
      expect.objectContaining({ type: 'Warning', reason: 'SecretLookupFailed' }),
    );
    expect(await refusals(registry, 'SecretLookupFailed')).toBe(1);
    expect(result).toEqual({ requeueAfterMs: SECRET_POLL_MS });
  });

  it('looks again while stalled on it, and runs once the lookup is allowed', async () => {
    const { cluster, reconcile, at } = simulate();
    cluster.refuseSecretLookups = RBAC;
    await reconcile();
    cluster.refuseSecretLookups = undefined;
    await at(plus(T.created, SECRET_POLL_MS));

    await reconcile();

    expect(cluster.activeJobNames()).toEqual([syncJob(T.created)]);
    expect(cluster.condition('Stalled')).toBeUndefined();
  });
});
