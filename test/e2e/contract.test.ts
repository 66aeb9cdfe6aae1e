/**
 * End to end: what the operator makes of the destination's and the source's side of the record
 * contract. A destination 409 is a replay (unchanged) only with `Idempotent-Replayed: true`; a
 * unique-constraint 409 is quarantined as `Conflict`, never counted unchanged. A nested field
 * removed from live records turns SchemaChanged=True naming its dotted path.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  RESYNC_REQUESTED_ANNOTATION,
  SYNC_REQUESTED_ANNOTATION,
  VOLUME_ACKNOWLEDGED_ANNOTATION,
} from '../../operator/api/index.ts';
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

/** Every top-level field of the generic simulator's records, contracted. */
const TOP_LEVEL = {
  id: { type: 'string' },
  email: { type: 'string' },
  name: { type: 'string' },
  created: { type: 'integer' },
  updated_at: { type: 'string', format: 'date-time' },
  version: { type: 'integer' },
  balance: { type: 'integer' },
  currency: { type: 'string' },
  active: { type: 'boolean' },
} as const;

/** Simulators: a generic source of `records` items and a destination. */
async function simulators(records: number) {
  const sims = await startSimulators({ seed: 3, records, generic: true, destination: true });
  running.push(sims);
  const destination = sims.destination;
  const dataset = sims.generic?.dataset('items');
  if (!destination || !dataset) throw new Error('simulators missing');
  return { sims, destination, dataset };
}

/**
 * Creates the Integration `ledger`. By default it re-reads every record each pass; `incremental`
 * reads from the updated_at checkpoint instead (its quiet passes read nothing, so without the
 * volume guard).
 */
async function create(
  sims: RunningSimulators,
  properties: Record<string, unknown>,
  incremental = false,
) {
  const integrations = new Integrations(
    client,
    await createNamespace(client, 'e2e-contract', RESTRICTED),
  );
  await core.createNamespacedSecret({
    namespace: integrations.namespace,
    body: { metadata: { name: 'source' }, stringData: { token: 'generic-token' } },
  });
  const described = sims.describe();
  await integrations.createObject('integrations', {
    kind: 'Integration',
    metadata: { name: 'ledger' },
    spec: {
      // Without updatedField every pass reads every record: a second pass replays every key.
      source: {
        provider: 'http',
        baseURL: described.generic?.url,
        credentialsRef: { name: 'source', key: 'token' },
        http: {
          path: '/v1/items',
          recordsPath: 'data',
          pagination: { type: 'cursor', cursorPath: 'next_cursor' },
          auth: { type: 'bearer' },
          ...(incremental
            ? { updatedField: 'updated_at', query: { updated_since: '{since}' } }
            : {}),
        },
      },
      destination: { url: `${described.destination?.url ?? ''}/items/{id}`, method: 'PUT' },
      schema: { required: ['id', 'email'], properties },
      overrides: {
        sync: { interval: '1h' },
        retry: { initialInterval: '1s', maxInterval: '3s' },
        timeouts: { request: '5s' },
        rateLimit: { requestsPerSecond: 1000, burst: 1000 },
        ...(incremental ? { volume: { mode: 'Off' } } : {}),
      },
    },
  });
  return integrations;
}

/** Waits for the first sync to be recorded; returns the status. */
async function firstSync(integrations: Integrations) {
  await integrations.waitForCondition('ledger', 'Ready', 'True', undefined, 120_000);
  return (await integrations.get('ledger')).status;
}

/** Requests a sync and waits until status records it finished; returns the status. */
async function syncAgain(integrations: Integrations, request: string) {
  const before = (await integrations.get('ledger')).status?.lastSync?.jobName;
  await integrations.patch('ledger', {
    metadata: { annotations: { [SYNC_REQUESTED_ANNOTATION]: request } },
  });
  return waitFor(
    `sync ${request}`,
    async () => {
      const status = (await integrations.get('ledger')).status;
      const done =
        status?.lastHandledSyncRequest === request &&
        status.activeRun === undefined &&
        status.lastSync !== undefined &&
        status.lastSync.jobName !== before;
      return done ? status : undefined;
    },
    { timeoutMs: 120_000 },
  );
}

describe('replay versus conflict at the destination', () => {
  it('a unique-constraint 409 is quarantined as Conflict, never counted unchanged; replays are unchanged', async () => {
    const records = 40;
    const { sims, destination, dataset } = await simulators(records);
    // Another record already holds record 7's email; the destination enforces unique emails.
    const clashing = String(dataset.idAt(7));
    destination.insert('items', 'holder-1', { email: dataset.record(7).email });
    destination.setUniqueConstraint({ field: 'email' });
    const integrations = await create(sims, TOP_LEVEL);

    const first = await firstSync(integrations);
    expect(first?.lastSync?.stats).toEqual({
      read: records,
      written: records - 1,
      unchanged: 0,
      quarantined: 1,
      failed: 0,
    });
    expect(first?.quarantine?.count).toBe(1);
    expect(first?.quarantine?.samples?.map((s) => s.id)).toEqual([clashing]);
    expect(first?.quarantine?.samples?.[0]?.reason).toMatch(
      /^Conflict: destination answered 409: .*unique_violation/,
    );
    expect(destination.get('items', clashing)).toBeUndefined();
    expect(destination.get('items', 'holder-1')?.email).toBe(dataset.record(7).email);

    // The second pass replays every applied key (409 + Idempotent-Replayed: true): unchanged.
    // The conflicting record was never applied: it conflicts again and stays quarantined.
    const second = await syncAgain(integrations, 'replay-1');
    expect(second.lastSync?.stats).toEqual({
      read: records,
      written: 0,
      unchanged: records - 1,
      quarantined: 1,
      failed: 0,
    });
    expect(second.quarantine?.samples?.[0]).toMatchObject({ id: clashing });
    expect(second.quarantine?.samples?.[0]?.reason).toMatch(/^Conflict: /);
    const stats = destination.stats().destination;
    expect(stats).toMatchObject({ conflicts: 2, duplicates: records - 1 });
    expect(stats.recordsAppliedMoreThanOnce).toBe(0);
    await integrations.waitForCondition('ledger', 'Synced', 'True', 'PartiallySucceeded');
  });
});

describe('nested schema changes', () => {
  it('a removed nested field turns SchemaChanged=True naming its dotted path', async () => {
    const { sims, dataset } = await simulators(30);
    dataset.addField('billing', { address: { city: 'Oslo', zip: '0150' } });
    const integrations = await create(sims, {
      ...TOP_LEVEL,
      'billing.address.city': { type: 'string' },
      'billing.address.zip': { type: 'string' },
    });
    const first = await firstSync(integrations);
    expect(first?.schemaChanges).toBeUndefined();
    const matched = await integrations.waitForCondition(
      'ledger',
      'SchemaChanged',
      'False',
      'NoSchemaChanges',
    );
    expect(matched.message).toContain('saw no field added');

    dataset.addField('billing', { address: { zip: '0150' } });
    const changed = await syncAgain(integrations, 'city-removed');
    expect(changed.schemaChanges).toEqual({ removed: ['billing.address.city'] });
    const condition = await integrations.waitForCondition(
      'ledger',
      'SchemaChanged',
      'True',
      'SchemaChangesDetected',
    );
    expect(condition.message).toContain('removed billing.address.city');
    // Schema changes do not make the Integration unready.
    expect((await integrations.condition('ledger', 'Ready'))?.status).toBe('True');
    const series = (change: string) =>
      `tributary_schema_changes{namespace="${integrations.namespace}",name="ledger",change="${change}"}`;
    // The gauges are set right after the status write the condition was read from.
    const metrics = await waitFor('the schema change gauges', async () => {
      const body = (await operator.get('/metrics'))?.body ?? '';
      return body.includes(`${series('removed')} 1`) ? body : undefined;
    });
    expect(metrics).toContain(`${series('added')} 0`);
  });
});

describe('the volume guard', () => {
  it('a source that starts answering empty pages gives VolumeAnomaly in one pass; an acknowledgement clears it', async () => {
    const { sims } = await simulators(30);
    const integrations = await create(sims, TOP_LEVEL);
    await firstSync(integrations);
    const steady = await syncAgain(integrations, 'steady');
    expect(steady.lastSync?.stats?.read).toBe(30);
    await integrations.waitForCondition('ledger', 'VolumeAnomaly', 'False', 'VolumeInRange');

    sims.generic?.addFaults([{ type: 'emptyList', path: '/v1/items' }]);
    const empty = await syncAgain(integrations, 'empty');
    expect(empty.lastSync).toMatchObject({ outcome: 'Succeeded', stats: { read: 0 } });
    const anomaly = await integrations.waitForCondition(
      'ledger',
      'VolumeAnomaly',
      'True',
      'VolumeOutOfRange',
    );
    expect(anomaly.message).toContain('read 0 records; the 2 passes before it read a median of 30');
    expect(await integrations.condition('ledger', 'Ready')).toMatchObject({
      status: 'False',
      reason: 'VolumeOutOfRange',
    });
    // Nothing else is wrong: the pass succeeded, the data is fresh.
    expect(await integrations.condition('ledger', 'Synced')).toMatchObject({ status: 'True' });

    await integrations.patch('ledger', {
      metadata: { annotations: { [VOLUME_ACKNOWLEDGED_ANNOTATION]: 'expected-empty' } },
    });
    await integrations.waitForCondition('ledger', 'VolumeAnomaly', 'False', 'VolumeAcknowledged');
    await integrations.waitForCondition('ledger', 'Ready', 'True');
  });
});

describe('a resync', () => {
  it('runs one full pass of an incremental source from no checkpoint, with zero duplicate effects', async () => {
    const { sims, destination, dataset } = await simulators(20);
    const integrations = await create(sims, TOP_LEVEL, true);
    const first = await firstSync(integrations);
    expect(first?.lastSync?.stats?.read).toBe(20);
    expect(first?.checkpoint?.cursor).toBeDefined();

    // Incremental passes read from the checkpoint: after 5 updates, only those (the cursor is
    // inclusive, so the pass after the updates still re-reads the boundary once).
    dataset.update([0, 1, 2, 3, 4]);
    await syncAgain(integrations, 'incremental-1');
    const incremental = await syncAgain(integrations, 'incremental-2');
    expect(incremental.lastSync?.stats?.read).toBe(5);

    const before = destination.stats().destination;
    await integrations.patch('ledger', {
      metadata: { annotations: { [RESYNC_REQUESTED_ANNOTATION]: 'full-1' } },
    });
    const full = await waitFor(
      'the resync pass',
      async () => {
        const status = (await integrations.get('ledger')).status;
        const done =
          status?.lastHandledResyncRequest === 'full-1' &&
          status.activeRun === undefined &&
          status.lastSync?.jobName !== incremental.lastSync?.jobName;
        return done ? status : undefined;
      },
      { timeoutMs: 120_000 },
    );
    // The whole source again; every record is already applied: zero new effects.
    expect(full.lastSync?.stats).toMatchObject({ read: 20, written: 0, unchanged: 20 });
    const after = destination.stats().destination;
    expect(after.applied).toBe(before.applied);
    expect(after.duplicates - before.duplicates).toBe(20);
    expect(after.keyReusedWithDifferentBody).toBe(0);
    expect(destination.records('items')).toHaveLength(20);
  });
});
