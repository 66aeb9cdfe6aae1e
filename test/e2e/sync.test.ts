/**
 * End to end: the operator (out of process, its own RBAC) runs the built-in connector in Jobs on
 * the process node against provider and destination simulators with injected faults. After the
 * runs settle, the destination must hold exactly the valid source records, each applied once in
 * effect, and status must say what happened.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installOperator, OperatorProcess } from '../../dev/cluster/operator.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import { Integrations } from '../support/integrations.ts';
import { cluster, createNamespace, deleteNamespaces, RESTRICTED } from '../support/cluster.ts';
import {
  startSimulators,
  type MalformedKind,
  type RunningSimulators,
} from '../../dev/simulators/index.ts';

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

type Provider = 'stripe' | 'shopify' | 'http';
const RESOURCE: Record<Provider, string> = {
  stripe: 'customers',
  shopify: 'orders',
  http: 'items',
};

/** One scenario of the fault matrix. */
interface Scenario {
  provider: Provider;
  records?: number;
  sourceFaults?: unknown[];
  destinationFaults?: unknown[];
  malformed?: { indexes: number[]; kind: MalformedKind };
  addField?: string;
  removeField?: string;
}

interface Run {
  sims: RunningSimulators;
  integrations: Integrations;
  resource: string;
}

/** Starts simulators, creates the Secret and the Integration, applies the faults. */
async function start(scenario: Scenario, name = 'sync'): Promise<Run> {
  const { provider } = scenario;
  const resource = RESOURCE[provider];
  const sims = await startSimulators({
    seed: 11,
    records: scenario.records ?? 250,
    ...(provider === 'stripe' ? { stripe: true } : {}),
    ...(provider === 'shopify' ? { shopify: { resources: [resource], leakPerSecond: 40 } } : {}),
    ...(provider === 'http' ? { generic: { resources: [resource] } } : {}),
    destination: true,
  });
  running.push(sims);
  const source = sims.stripe ?? sims.shopify ?? sims.generic;
  const dataset = source?.dataset(resource);
  if (scenario.malformed)
    dataset?.setMalformed(scenario.malformed.indexes, scenario.malformed.kind);
  if (scenario.addField) dataset?.addField(scenario.addField, 'gold');
  if (scenario.removeField) dataset?.removeField(scenario.removeField);
  source?.addFaults(scenario.sourceFaults ?? []);
  sims.destination?.addFaults(scenario.destinationFaults ?? []);

  // Every run's pod must be admitted at the restricted Pod Security level.
  const integrations = new Integrations(
    client,
    await createNamespace(client, `e2e-${provider}`, RESTRICTED),
  );
  const described = sims.describe();
  const token = described.stripe?.apiKey ?? described.shopify?.accessToken ?? 'generic-token';
  await core.createNamespacedSecret({
    namespace: integrations.namespace,
    body: { metadata: { name: 'source' }, stringData: { token } },
  });
  await integrations.createObject('integrations', {
    kind: 'Integration',
    metadata: { name },
    spec: spec(provider, sims, resource),
  });
  return { sims, integrations, resource };
}

function spec(provider: Provider, sims: RunningSimulators, resource: string) {
  const described = sims.describe();
  const credentialsRef = { name: 'source', key: 'token' };
  const source =
    provider === 'stripe'
      ? {
          provider,
          baseURL: described.stripe?.url,
          apiVersion: '2024-06-20',
          resource,
          credentialsRef,
        }
      : provider === 'shopify'
        ? {
            provider,
            baseURL: described.shopify?.url,
            apiVersion: '2024-07',
            resource,
            credentialsRef,
          }
        : {
            provider,
            baseURL: described.generic?.url,
            credentialsRef,
            http: {
              path: `/v1/${resource}`,
              recordsPath: 'data',
              pagination: { type: 'cursor', cursorPath: 'next_cursor' },
              updatedField: 'updated_at',
              auth: { type: 'bearer' },
            },
          };
  return {
    source,
    destination: { url: `${described.destination?.url ?? ''}/items/{id}`, method: 'PUT' },
    schema: {
      required: ['id', 'email'],
      properties: {
        id: { type: provider === 'shopify' ? 'integer' : 'string' },
        email: { type: 'string' },
        name: { type: 'string' },
        updated_at: { type: 'string', format: 'date-time' },
      },
    },
    overrides: {
      sync: { interval: '1h' },
      retry: { initialInterval: '1s', maxInterval: '3s', maxAttempts: 8 },
      timeouts: { request: '2s' },
      rateLimit: { requestsPerSecond: 1000, burst: 1000 },
    },
  };
}

/** The exactness checks of the fault matrix. */
async function expectExact(run: Run, name = 'sync') {
  const { sims, integrations, resource } = run;
  const source = sims.stripe ?? sims.shopify ?? sims.generic;
  const dataset = source?.dataset(resource);
  const valid = (dataset?.validIds() ?? []).map(String).sort();
  const malformed = (dataset?.malformed() ?? []).map((m) => String(m.id)).sort();
  const destination = sims.destination;
  const stored = (destination?.records('items') ?? []).map((r) => String(r.id)).sort();
  expect(stored).toEqual(valid);
  const stats = destination?.stats().destination;
  expect(stats?.recordsAppliedMoreThanOnce).toBe(0);
  for (const id of valid) expect(destination?.appliesFor('items', id)).toBe(1);

  const status = (await integrations.get(name)).status;
  expect(status?.quarantine?.count).toBe(malformed.length);
  const samples = status?.quarantine?.samples ?? [];
  expect(samples.map((s) => s.id).sort()).toEqual(malformed.slice(0, 10));
  for (const sample of samples) expect(sample.reason).toContain('InvalidRecord');
  const last = status?.lastSync?.stats;
  expect(last?.read).toBe(valid.length + malformed.length);
  expect(last?.quarantined).toBe(malformed.length);
  expect((last?.written ?? 0) + (last?.unchanged ?? 0)).toBe(valid.length);
  return status;
}

const settle = (run: Run, name = 'sync') =>
  run.integrations.waitForCondition(name, 'Ready', 'True', undefined, 120_000);

const page2 = { kind: 'page', page: 2 } as const;
const matrix: [string, Scenario][] = [
  ['no fault (stripe)', { provider: 'stripe' }],
  ['latency (shopify)', { provider: 'shopify', sourceFaults: [{ type: 'latency', ms: 400 }] }],
  [
    'a request that times out (http)',
    { provider: 'http', sourceFaults: [{ type: 'timeout', scope: page2, limit: 1 }] },
  ],
  [
    '429 with Retry-After (stripe)',
    {
      provider: 'stripe',
      sourceFaults: [{ type: 'rateLimit', retryAfterSeconds: 1, scope: page2, limit: 2 }],
    },
  ],
  [
    '5xx (shopify)',
    {
      provider: 'shopify',
      sourceFaults: [{ type: 'serverError', status: 503, scope: page2, limit: 2 }],
    },
  ],
  [
    'connection resets at both ends (http)',
    {
      provider: 'http',
      sourceFaults: [{ type: 'connectionReset', scope: page2, limit: 1 }],
      destinationFaults: [{ type: 'connectionReset', scope: { kind: 'nth', n: [7, 70] } }],
    },
  ],
  [
    'a malformed JSON page (stripe)',
    { provider: 'stripe', sourceFaults: [{ type: 'malformedJson', scope: page2, limit: 1 }] },
  ],
  [
    'malformed records (http)',
    { provider: 'http', malformed: { indexes: [4, 120, 201], kind: 'missingEmail' } },
  ],
  [
    'malformed records of the wrong type (shopify)',
    { provider: 'shopify', malformed: { indexes: [9, 150], kind: 'wrongType' } },
  ],
  [
    'a destination failing halfway (stripe)',
    {
      provider: 'stripe',
      destinationFaults: [
        {
          type: 'serverError',
          status: 500,
          scope: { kind: 'afterWrites', writes: 120 },
          limit: 30,
        },
      ],
    },
  ],
  [
    'everything at once (http)',
    {
      provider: 'http',
      malformed: { indexes: [2, 180], kind: 'badTimestamp' },
      sourceFaults: [
        { type: 'latency', ms: 100 },
        { type: 'rateLimit', retryAfterSeconds: 1, scope: { kind: 'nth', n: [1] } },
        { type: 'serverError', status: 502, scope: { kind: 'page', page: 3 }, limit: 1 },
      ],
      destinationFaults: [
        { type: 'connectionReset', scope: { kind: 'nth', n: [33] } },
        {
          type: 'serverError',
          status: 503,
          scope: { kind: 'afterWrites', writes: 200 },
          limit: 25,
        },
      ],
    },
  ],
];

describe('the fault matrix: after the runs settle, the destination holds exactly the valid records', () => {
  it.each(matrix)('%s', async (_, scenario) => {
    const run = await start(scenario);
    await settle(run);
    await expectExact(run);
  });
});

describe('what status reports', () => {
  it('a 401 stalls with AuthenticationFailed and causes no retry storm', async () => {
    const run = await start({ provider: 'stripe', sourceFaults: [{ type: 'unauthorized' }] });
    const stalled = await run.integrations.waitForCondition(
      'sync',
      'Stalled',
      'True',
      'AuthenticationFailed',
    );
    expect(stalled.message).not.toContain('sk_test');
    await new Promise((resolve) => setTimeout(resolve, 8000));
    expect(run.sims.stripe?.stats().requests.total).toBeLessThanOrEqual(2);
    expect(await run.integrations.jobs('sync')).toHaveLength(1);
  });

  it('deprecation headers become Deprecated=True with the sunset date', async () => {
    const sunset = '2027-03-01T00:00:00Z';
    const run = await start({
      provider: 'stripe',
      sourceFaults: [{ type: 'deprecation', deprecation: '2026-06-01T00:00:00Z', sunset }],
    });
    await settle(run);
    const deprecated = await run.integrations.waitForCondition('sync', 'Deprecated', 'True');
    const status = (await run.integrations.get('sync')).status;
    expect(status?.deprecation?.sunset).toBe(sunset);
    expect(deprecated.message).toContain(sunset);
  });

  it('a field added to or removed from live records is reported in schemaChanges', async () => {
    const run = await start({ provider: 'http', addField: 'loyalty_tier', removeField: 'name' });
    await settle(run);
    const changes = (await run.integrations.get('sync')).status?.schemaChanges;
    expect(changes?.added).toContain('loyalty_tier');
    expect(changes?.removed).toEqual(['name']);
  });
});

describe('resuming', () => {
  it('a run killed midway resumes from its last committed page; rework is at most one page', async () => {
    const run = await start({
      provider: 'stripe',
      records: 600,
      sourceFaults: [{ type: 'latency', ms: 250 }],
      destinationFaults: [{ type: 'latency', ms: 5 }],
    });
    const destination = run.sims.destination;
    await waitFor(
      '250 records written',
      () =>
        Promise.resolve((destination?.stats().destination.applied ?? 0) >= 250 ? true : undefined),
      { timeoutMs: 120_000 },
    );
    // Kill the connector process the way an OOM kill or a node crash would: SIGKILL, no chance
    // to clean up; the pod stays and reports what its termination-message file holds.
    const [pod] = (
      await core.listNamespacedPod({ namespace: run.integrations.namespace })
    ).items.filter((p) => p.status?.phase === 'Running');
    const containerID = pod?.status?.containerStatuses?.[0]?.containerID ?? '';
    expect(containerID).toMatch(/^process:\/\/\d+$/);
    process.kill(Number(containerID.slice('process://'.length)), 'SIGKILL');

    await settle(run);
    await expectExact(run);
    const stats = destination?.stats().destination;
    const rework = (stats?.writesReceived ?? 0) - (stats?.applied ?? 0);
    expect(rework).toBeLessThanOrEqual(100);
    const history = (await run.integrations.get('sync')).status?.history ?? [];
    expect(history.map((r) => r.outcome)).toEqual(['Succeeded', 'Failed']);
  });
});
