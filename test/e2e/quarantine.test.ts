/**
 * End to end: quarantine is durable. Records quarantined by the first pass of an incremental
 * source (Shopify, updated_at_min) are still held and listed after a third pass whose cursor
 * moved past them, Degraded stays True meanwhile, and once fixed at the source (without a new
 * updated_at, so no pass lists them again) the next sync retries them by id and releases them.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SYNC_REQUESTED_ANNOTATION } from '../../operator/api/index.ts';
import { installOperator, OperatorProcess } from '../../dev/cluster/operator.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import { startSimulators, type RunningSimulators } from '../../dev/simulators/index.ts';
import { cluster, createNamespace, deleteNamespaces, RESTRICTED } from '../support/cluster.ts';
import { Integrations } from '../support/integrations.ts';

const client = cluster();
const core = client.kubeConfig.makeApiClient(CoreV1Api);
let operator: OperatorProcess;
const running: RunningSimulators[] = [];

beforeAll(async () => {
  await installOperator(client);
  operator = await OperatorProcess.start(client);
  await waitFor('the operator to be ready', async () =>
    (await operator.get('/readyz'))?.status === 200 ? true : undefined,
  );
});

afterEach(async () => {
  await deleteNamespaces(client);
  await Promise.all(running.splice(0).map((sims) => sims.stop()));
});

afterAll(async () => {
  await operator.stop();
});

const NAME = 'orders';

async function create(sims: RunningSimulators): Promise<Integrations> {
  const integrations = new Integrations(
    client,
    await createNamespace(client, 'e2e-quarantine', RESTRICTED),
  );
  const described = sims.describe();
  await core.createNamespacedSecret({
    namespace: integrations.namespace,
    body: {
      metadata: { name: 'source' },
      stringData: { token: described.shopify?.accessToken ?? '' },
    },
  });
  await integrations.createObject('integrations', {
    kind: 'Integration',
    metadata: { name: NAME },
    spec: {
      source: {
        provider: 'shopify',
        baseURL: described.shopify?.url,
        apiVersion: '2024-07',
        resource: 'orders',
        credentialsRef: { name: 'source', key: 'token' },
      },
      destination: { url: `${described.destination?.url ?? ''}/items/{id}`, method: 'PUT' },
      schema: {
        required: ['id', 'email'],
        properties: { id: { type: 'integer' }, email: { type: 'string' } },
      },
      overrides: {
        sync: { interval: '1h' },
        quarantine: { maxRecords: 1 },
        retry: { initialInterval: '1s', maxInterval: '3s' },
        timeouts: { request: '5s' },
        rateLimit: { requestsPerSecond: 1000, burst: 1000 },
      },
    },
  });
  return integrations;
}

/** Waits until a sync other than `before` is recorded and nothing runs; returns the status. */
async function synced(integrations: Integrations, before: string | undefined, request?: string) {
  return waitFor(
    `a sync after ${before ?? 'none'}`,
    async () => {
      const status = (await integrations.get(NAME)).status;
      const done =
        status?.activeRun === undefined &&
        status?.lastSync !== undefined &&
        status.lastSync.jobName !== before &&
        (request === undefined || status.lastHandledSyncRequest === request);
      return done ? status : undefined;
    },
    { timeoutMs: 120_000 },
  );
}

async function syncAgain(integrations: Integrations, request: string) {
  const before = (await integrations.get(NAME)).status?.lastSync?.jobName;
  await integrations.patch(NAME, {
    metadata: { annotations: { [SYNC_REQUESTED_ANNOTATION]: request } },
  });
  return synced(integrations, before, request);
}

const sinceOf = (cursor: string | undefined) =>
  Date.parse((JSON.parse(cursor ?? '{}') as { since?: string }).since ?? '');

describe('durable quarantine', () => {
  it('keeps first-pass quarantined records of an incremental source across passes and releases them once fixed', async () => {
    const sims = await startSimulators({
      seed: 5,
      records: 40,
      shopify: { resources: ['orders'], leakPerSecond: 40 },
      destination: true,
    });
    running.push(sims);
    const shopify = sims.shopify;
    const destination = sims.destination;
    const dataset = shopify?.dataset('orders');
    if (!shopify || !destination || !dataset) throw new Error('simulators missing');
    dataset.setMalformed([3, 7], 'missingEmail');
    const held = dataset.malformed().map((m) => String(m.id));
    const integrations = await create(sims);

    const first = await synced(integrations, undefined);
    expect(first.lastSync?.stats?.quarantined).toBe(2);
    expect(first.quarantine?.count).toBe(2);
    const listed = first.quarantine?.samples ?? [];
    expect(listed.map((s) => s.id).sort()).toEqual([...held].sort());
    for (const s of listed) expect(s.reason).toContain('InvalidRecord');
    const firstSeen = listed.map((s) => s.firstSeen);

    // Two more passes; updated records move the cursor past the quarantined ones.
    const route = 'GET /admin/api/2024-07/orders/:id.json';
    const retries = () => shopify.stats().requests.byRoute[route]?.['200'] ?? 0;
    dataset.update([20]);
    await syncAgain(integrations, 'pass-2');
    const before = retries();
    dataset.update([21]);
    let status = await syncAgain(integrations, 'pass-3');
    expect(status.lastSync?.stats?.read).toBeLessThan(40);
    // Pass 3 no longer lists them (its cursor is past them): it retried both by id.
    expect(retries() - before).toBe(2);
    for (const index of [3, 7])
      expect(sinceOf(status.checkpoint?.cursor)).toBeGreaterThan(dataset.updatedAt(index) * 1000);
    expect(status.quarantine?.count).toBe(2);
    expect(status.quarantine?.samples?.map((s) => s.id).sort()).toEqual([...held].sort());
    expect(status.quarantine?.samples?.map((s) => s.firstSeen)).toEqual(firstSeen);
    expect(status.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'QuarantineExceeded',
    });
    for (const id of held) expect(destination.appliesFor('items', id)).toBe(0);

    // Fixed at the source without a new updated_at: only the retry by id can see it.
    dataset.clearMalformed([3, 7]);
    status = await syncAgain(integrations, 'fixed');
    expect(status.quarantine).toEqual({ count: 0 });
    for (const id of held) expect(destination.appliesFor('items', id)).toBe(1);
    expect(status.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'False',
    });
  });
});
