/**
 * End to end: drift checks run by the operator as Jobs compare the generic-API simulator with the
 * destination simulator after a sync, detect deleted, altered and extra records exactly, never
 * write in Report mode, and repair (without deleting) in Repair mode.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_CHECK_REQUESTED_ANNOTATION } from '../../operator/api/index.ts';
import { installOperator, OperatorProcess } from '../../dev/cluster/operator.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import { Integrations } from '../support/integrations.ts';
import { cluster, createNamespace, deleteNamespaces, RESTRICTED } from '../support/cluster.ts';
import { startSimulators, type RunningSimulators } from '../../dev/simulators/index.ts';

const client = cluster();
const core = client.kubeConfig.makeApiClient(CoreV1Api);
let operator: OperatorProcess;
let sims: RunningSimulators;
let integrations: Integrations;

beforeAll(async () => {
  await installOperator(client);
  operator = await OperatorProcess.start(client);
  sims = await startSimulators({ seed: 5, records: 150, generic: true, destination: true });
  integrations = new Integrations(client, await createNamespace(client, 'drift', RESTRICTED));
  await core.createNamespacedSecret({
    namespace: integrations.namespace,
    body: { metadata: { name: 'source' }, stringData: { token: 'generic-token' } },
  });
  const described = sims.describe();
  const destination = described.destination?.url ?? '';
  await integrations.createObject('integrations', {
    kind: 'Integration',
    metadata: { name: 'ledger' },
    spec: {
      source: {
        provider: 'http',
        baseURL: described.generic?.url,
        credentialsRef: { name: 'source', key: 'token' },
        http: {
          path: '/v1/items',
          recordsPath: 'data',
          pagination: { type: 'cursor', cursorPath: 'next_cursor' },
          auth: { type: 'bearer' },
        },
      },
      destination: {
        url: `${destination}/items/{id}`,
        list: {
          url: `${destination}/items`,
          recordsPath: 'items',
          pagination: { type: 'cursor', cursorPath: 'next_cursor', cursorParam: 'cursor' },
        },
      },
      schema: {
        required: ['id', 'email'],
        properties: { id: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' } },
      },
      overrides: { sync: { interval: '1h' }, drift: { interval: '24h', mode: 'Report' } },
    },
  });
  await integrations.waitForCondition('ledger', 'Ready', 'True', undefined, 120_000);
});

afterAll(async () => {
  await operator.stop();
  await deleteNamespaces(client);
  await sims.stop();
});

/** Requests a drift check and waits for its outcome in status. */
async function driftCheck(request: string) {
  await integrations.patch('ledger', {
    metadata: { annotations: { [DRIFT_CHECK_REQUESTED_ANNOTATION]: request } },
  });
  await waitFor(
    `drift check ${request}`,
    async () => {
      const status = (await integrations.get('ledger')).status;
      const done =
        status?.lastHandledDriftCheckRequest === request &&
        status.activeRun === undefined &&
        status.history?.[0]?.kind === 'drift-check';
      return done ? status : undefined;
    },
    { timeoutMs: 120_000 },
  );
  return (await integrations.get('ledger')).status;
}

const destination = () => {
  if (!sims.destination) throw new Error('no destination simulator');
  return sims.destination;
};

describe('drift checks', () => {
  const ids = () =>
    destination()
      .records('items')
      .map((r) => String(r.id))
      .sort();
  let deleted: string[];
  let altered: string[];
  const extra = ['zz-extra-1', 'zz-extra-2', 'zz-extra-3', 'zz-extra-4'];

  it('detects deleted, altered and extra destination records exactly, without writing', async () => {
    const stored = ids();
    deleted = stored.slice(10, 13);
    altered = stored.slice(40, 42);
    for (const id of deleted) destination().remove('items', id);
    for (const id of altered) destination().alter('items', id, { email: 'changed@example.com' });
    for (const id of extra)
      destination().insert('items', id, { id, email: 'x@example.com', name: 'x' });
    const writesBefore = destination().stats().destination.writesReceived;

    const status = await driftCheck('1');
    expect(status?.drift).toMatchObject({ missing: 3, unexpected: 4, mismatched: 2, total: 9 });
    expect([...(status?.drift?.samples?.missing ?? [])].sort()).toEqual(deleted);
    expect([...(status?.drift?.samples?.mismatched ?? [])].sort()).toEqual(altered);
    expect([...(status?.drift?.samples?.unexpected ?? [])].sort()).toEqual(extra);
    expect(destination().stats().destination.writesReceived).toBe(writesBefore);
    await integrations.waitForCondition('ledger', 'Drifted', 'True', 'DriftDetected');
    expect(await integrations.condition('ledger', 'Ready')).toMatchObject({
      status: 'False',
      reason: 'DriftDetected',
    });
  });

  it('honours the tolerance', async () => {
    await integrations.patch('ledger', {
      spec: {
        overrides: {
          sync: { interval: '1h' },
          drift: { interval: '24h', tolerance: { records: 9 } },
        },
      },
    });
    await integrations.waitForCondition('ledger', 'Drifted', 'False', 'InSync');
    await integrations.waitForCondition('ledger', 'Ready', 'True');
  });

  it('repairs missing and altered records in Repair mode, never deleting extra ones', async () => {
    await integrations.patch('ledger', {
      spec: {
        overrides: {
          sync: { interval: '1h' },
          drift: { interval: '24h', mode: 'Repair', tolerance: { records: 0 } },
        },
      },
    });
    const repaired = await driftCheck('2');
    expect(repaired?.drift).toMatchObject({
      missing: 3,
      unexpected: 4,
      mismatched: 2,
      repaired: 5,
    });
    for (const id of [...deleted, ...altered]) {
      expect(destination().get('items', id)?.email).not.toBe('changed@example.com');
      expect(destination().get('items', id)).toBeDefined();
    }
    for (const id of extra) expect(destination().get('items', id)).toBeDefined();

    // A human removes the extra records; the next check is clean and Drifted clears.
    for (const id of extra) destination().remove('items', id);
    const clean = await driftCheck('3');
    expect(clean?.drift).toMatchObject({ missing: 0, unexpected: 0, mismatched: 0, total: 0 });
    await integrations.waitForCondition('ledger', 'Drifted', 'False', 'InSync');
    await integrations.waitForCondition('ledger', 'Ready', 'True');
  });
});
