import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_REQUESTED_ANNOTATION } from '../../operator/api/index.ts';
import { JobAnnotation } from '../../operator/controller/plan/job.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import { Integrations } from '../support/integrations.ts';
import { installOperator, OperatorProcess } from '../../dev/cluster/operator.ts';
import { cluster, createNamespace, deleteNamespaces } from '../support/cluster.ts';

const client = cluster();
const core = client.kubeConfig.makeApiClient(CoreV1Api);
let operator: OperatorProcess;

/** Fast retries so retry behaviour is observable in seconds. */
const FAST_RETRY = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maxInterval: '8s',
  jitter: 'Full',
};

beforeAll(async () => {
  await installOperator(client);
  operator = await OperatorProcess.start(client);
  await waitFor('the operator to be ready', async () =>
    (await operator.get('/readyz'))?.status === 200 ? true : undefined,
  );
});

afterEach(async () => {
  await deleteNamespaces(client);
});

afterAll(async () => {
  await operator.stop();
});

async function fresh(prefix: string): Promise<Integrations> {
  return new Integrations(client, await createNamespace(client, prefix));
}

describe('the operator, with its own least-privilege RBAC', () => {
  it('reports a run Job refused by a ResourceQuota: Stalled/JobRejected, a Warning Event, a counted refusal', async () => {
    const integrations = await fresh('quota');
    await core.createNamespacedResourceQuota({
      namespace: integrations.namespace,
      body: { metadata: { name: 'no-jobs' }, spec: { hard: { 'count/jobs.batch': '0' } } },
    });
    const createdAt = Date.now();
    await integrations.create('orders', { read: 1 });

    const stalled = await integrations.waitForCondition('orders', 'Stalled', 'True', 'JobRejected');
    // Its first run is due at creation: the refusal is in status within one reconcile.
    expect(Date.now() - createdAt).toBeLessThan(30_000);
    expect(stalled.message).toContain('quota: no-jobs');
    expect(await integrations.condition('orders', 'Ready')).toMatchObject({
      status: 'False',
      reason: 'JobRejected',
    });
    expect(await integrations.condition('orders', 'Reconciling')).toBeUndefined();
    expect(await integrations.jobs('orders')).toEqual([]);
    const events = await core.listNamespacedEvent({ namespace: integrations.namespace });
    const rejected = events.items.filter((event) => event.reason === 'JobRejected');
    expect(rejected.map((event) => event.type)).toEqual(['Warning']);
    const metrics = (await operator.get('/metrics'))?.body ?? '';
    expect(metrics).toMatch(
      new RegExp(
        `^tributary_api_refusals_total\\{namespace="${integrations.namespace}",name="orders",reason="JobRejected"\\} [1-9]`,
        'm',
      ),
    );
    expect(metrics).toMatch(
      new RegExp(
        `^tributary_integration_condition\\{namespace="${integrations.namespace}",name="orders",type="Ready",status="False"\\} 1$`,
        'm',
      ),
    );

    // Raising the quota recovers without a restart: the refused run is tried again every minute.
    await core.replaceNamespacedResourceQuota({
      name: 'no-jobs',
      namespace: integrations.namespace,
      body: { metadata: { name: 'no-jobs' }, spec: { hard: { 'count/jobs.batch': '5' } } },
    });
    await integrations.waitForCondition('orders', 'Ready', 'True', 'Succeeded', 120_000);
    expect(await integrations.condition('orders', 'Stalled')).toBeUndefined();
    expect(await integrations.jobs('orders')).toHaveLength(1);
  }, 180_000);

  it('runs the first sync at creation, then on the interval, and reports Ready', async () => {
    const integrations = await fresh('first');
    await integrations.create(
      'orders',
      { read: 7 },
      { overrides: { sync: { interval: '12s', jitter: '0%' } } },
    );
    const ready = await integrations.waitForCondition('orders', 'Ready', 'True', 'Succeeded');
    expect(ready.message).toContain('read 7');
    const first = await integrations.get('orders');
    expect(first.status?.lastSync?.stats?.read).toBe(7);
    expect(first.status?.effectivePolicy?.sync.interval).toBe('12s');
    expect(first.status?.observedGeneration).toBe(first.metadata.generation);

    await waitFor(
      'a second run',
      async () => ((await integrations.jobs('orders')).length >= 2 ? true : undefined),
      {
        timeoutMs: 60_000,
      },
    );
    const dueTimes = (await integrations.jobs('orders')).map((job) =>
      Date.parse(job.metadata?.annotations?.[JobAnnotation.DueTime] ?? ''),
    );
    expect((dueTimes[1] ?? 0) - (dueTimes[0] ?? 0)).toBe(12_000);
  });

  it('retries a failing connector with growing delays, then becomes Ready', async () => {
    const integrations = await fresh('retry');
    const attempts = [
      { outcome: 'Failed', class: 'ServerError' },
      { outcome: 'Failed', class: 'Timeout' },
      { outcome: 'Succeeded' },
    ];
    await integrations.create(
      'flaky',
      { attempts },
      {
        overrides: {
          sync: { interval: '1h' },
          retry: { ...FAST_RETRY, jitter: 'None', maxAttempts: 5 },
        },
      },
    );
    const retrying = await integrations.waitForCondition(
      'flaky',
      'Reconciling',
      'True',
      'RetryScheduled',
    );
    expect(retrying.message).toContain('attempt 2 starts at');
    await integrations.waitForCondition('flaky', 'Ready', 'True', 'Succeeded');

    const jobs = await integrations.jobs('flaky');
    expect(jobs.map((job) => job.metadata?.annotations?.[JobAnnotation.Attempt])).toEqual([
      '1',
      '2',
      '3',
    ]);
    const due = new Set(jobs.map((job) => job.metadata?.annotations?.[JobAnnotation.DueTime]));
    expect(due.size).toBe(1);
    // Delays (None jitter): 2s after attempt 1, 4s after attempt 2.
    const created = jobs.map((job) => new Date(job.metadata?.creationTimestamp ?? 0).getTime());
    const gaps = [(created[1] ?? 0) - (created[0] ?? 0), (created[2] ?? 0) - (created[1] ?? 0)];
    expect(gaps[1]).toBeGreaterThan(gaps[0] ?? 0);
    const status = (await integrations.get('flaky')).status;
    expect(status?.retry).toBeUndefined();
    expect(status?.history?.map((run) => run.outcome)).toEqual(['Succeeded', 'Failed', 'Failed']);
  });

  it('stalls a non-retryable failure at once and does not retry it', async () => {
    const integrations = await fresh('auth');
    await integrations.create(
      'denied',
      { attempts: [{ outcome: 'Failed', class: 'Authentication', message: 'API key revoked' }] },
      { overrides: { sync: { interval: '1h' }, retry: FAST_RETRY } },
    );
    const stalled = await integrations.waitForCondition(
      'denied',
      'Stalled',
      'True',
      'AuthenticationFailed',
    );
    expect(stalled.message).toContain('API key revoked');
    const ready = await integrations.condition('denied', 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'AuthenticationFailed' });
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(await integrations.jobs('denied')).toHaveLength(1);
  });

  it('stalls with RetriesExhausted when every attempt fails', async () => {
    const integrations = await fresh('exhaust');
    await integrations.create(
      'broken',
      { attempts: [{ outcome: 'Failed', class: 'ServerError', message: 'upstream 503' }] },
      { overrides: { sync: { interval: '1h' }, retry: { ...FAST_RETRY, maxAttempts: 3 } } },
    );
    const stalled = await integrations.waitForCondition(
      'broken',
      'Stalled',
      'True',
      'RetriesExhausted',
    );
    expect(stalled.message).toContain('all 3 attempts failed');
    expect(await integrations.jobs('broken')).toHaveLength(3);
    expect((await integrations.get('broken')).status?.retry).toBeUndefined();
  });

  it('reports a missing Secret by name and recovers on its own when it is created', async () => {
    const integrations = await fresh('secret');
    await integrations.create(
      'needs-secret',
      {},
      {
        source: {
          provider: 'http',
          baseURL: 'https://api.example.com',
          credentialsRef: { name: 'api-token', key: 'token' },
          http: { path: '/items', auth: { type: 'bearer' } },
        },
        destination: { url: 'http://platform.example/items/{id}' },
      },
    );
    const stalled = await integrations.waitForCondition(
      'needs-secret',
      'Stalled',
      'True',
      'SecretNotFound',
    );
    expect(stalled.message).toContain('"api-token"');
    expect(await integrations.jobs('needs-secret')).toHaveLength(0);
    const before = (await integrations.get('needs-secret')).metadata.generation;

    await core.createNamespacedSecret({
      namespace: integrations.namespace,
      body: { metadata: { name: 'api-token' }, stringData: { token: 'not-a-real-token' } },
    });
    await integrations.waitForCondition('needs-secret', 'Ready', 'True', 'Succeeded', 60_000);
    expect((await integrations.get('needs-secret')).metadata.generation).toBe(before);
    const events = await core.listNamespacedEvent({ namespace: integrations.namespace });
    const seen = events.items
      .filter((event) => event.involvedObject.name === 'needs-secret')
      .map((event) => `${event.type}/${event.reason}`);
    expect(seen).toEqual(
      expect.arrayContaining(['Warning/SecretNotFound', 'Normal/Resolved', 'Normal/Succeeded']),
    );
    expect(JSON.stringify(events.items)).not.toContain('not-a-real-token');
  });

  it('starts nothing while suspended, and runs a requested sync exactly once', async () => {
    const integrations = await fresh('suspend');
    await integrations.create(
      'paused',
      {},
      { suspend: true, overrides: { sync: { interval: '10s' } } },
    );
    await integrations.waitForCondition('paused', 'Suspended', 'True');
    await integrations.patch('paused', {
      metadata: { annotations: { [SYNC_REQUESTED_ANNOTATION]: 'one' } },
    });
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    expect(await integrations.jobs('paused')).toHaveLength(0);

    await integrations.patch('paused', {
      spec: { suspend: false, overrides: { sync: { interval: '1h' } } },
    });
    await integrations.waitForCondition('paused', 'Ready', 'True');
    const afterResume = (await integrations.jobs('paused')).length;
    await integrations.patch('paused', {
      metadata: { annotations: { [SYNC_REQUESTED_ANNOTATION]: 'two' } },
    });
    await waitFor('the request to be handled', async () =>
      (await integrations.get('paused')).status?.lastHandledSyncRequest === 'two'
        ? true
        : undefined,
    );
    await integrations.waitForCondition('paused', 'Ready', 'True');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await integrations.jobs('paused')).toHaveLength(afterResume + 1);
  });

  it('works with an Integration name of 63 characters or more', async () => {
    const integrations = await fresh('long');
    const name = `a-very-long-integration-name-${'x'.repeat(60)}`;
    await integrations.create(name, {}, { overrides: { sync: { interval: '1h' } } });
    await integrations.waitForCondition(name, 'Ready', 'True', 'Succeeded');
    const [job] = await integrations.jobs(name);
    expect(job?.metadata?.name?.length).toBeLessThanOrEqual(63);
  });

  it('answers kubectl wait --for=condition=Ready', async () => {
    const integrations = await fresh('wait');
    await integrations.create('waited', {}, { overrides: { sync: { interval: '1h' } } });
    const result = await client.kubectl([
      'wait',
      '--for=condition=Ready',
      '--timeout=60s',
      '-n',
      integrations.namespace,
      'integration/waited',
    ]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('condition met');
  });
});
