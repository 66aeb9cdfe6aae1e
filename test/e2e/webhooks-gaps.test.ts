/**
 * End to end, a webhook that stops firing: the operator (as its ServiceAccount) polls the intake's
 * figures and hands the intake to sync runs; each pass compares the changes it read with what the
 * deliveries applied. Changes delivered count nothing; once the sender stops while the source keeps
 * changing, the next pass reports EventsMissed with the right count and ids and writes them
 * (backfill), and WebhookSilent turns True within the silence window. A quiet source raises
 * neither condition.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SYNC_REQUESTED_ANNOTATION,
  WEBHOOK_REDRIVE_ANNOTATION,
  type IntegrationStatus,
} from '../../operator/api/index.ts';
import { IntakeProcess } from '../../dev/cluster/intake.ts';
import { installOperator, OperatorProcess } from '../../dev/cluster/operator.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import {
  startSimulators,
  WebhookSender,
  type RunningSimulators,
} from '../../dev/simulators/index.ts';
import { cluster, createNamespace, deleteNamespaces, RESTRICTED } from '../support/cluster.ts';
import { Integrations } from '../support/integrations.ts';

const client = cluster();
const core = client.kubeConfig.makeApiClient(CoreV1Api);
const SECRET = 'whsec_Z2FwLWRldGVjdGlvbi1zaWduaW5nLXNlY3JldA==';
let intake: IntakeProcess;
let operator: OperatorProcess;
let sims: RunningSimulators;
let integrations: Integrations;

beforeAll(async () => {
  await installOperator(client);
  intake = await IntakeProcess.start(client);
  operator = await OperatorProcess.start(client, {
    env: { INTAKE_URL: intake.statsURL, WEBHOOK_GRACE: '2s' },
  });
  await waitFor('the operator to be ready', async () =>
    (await operator.get('/readyz'))?.status === 200 ? true : undefined,
  );
  sims = await startSimulators({
    seed: 21,
    records: 12,
    generic: { resources: ['items', 'quiet'] },
    destination: true,
  });
  integrations = new Integrations(
    client,
    await createNamespace(client, 'e2e-hooks-gaps', RESTRICTED),
  );
  await core.createNamespacedSecret({
    namespace: integrations.namespace,
    body: { metadata: { name: 'hooks' }, stringData: { token: 'generic-token', whsec: SECRET } },
  });
  for (const [name, resource] of [
    ['changing', 'items'],
    ['quiet', 'quiet'],
  ] as const) {
    await integrations.createObject('integrations', {
      kind: 'Integration',
      metadata: { name },
      spec: spec(resource),
    });
  }
});

afterAll(async () => {
  await operator.stop();
  await intake.stop();
  await sims.stop();
  await deleteNamespaces(client);
});

function spec(resource: string) {
  const described = sims.describe();
  return {
    source: {
      provider: 'http',
      baseURL: described.generic?.url,
      credentialsRef: { name: 'hooks', key: 'token' },
      http: {
        path: `/v1/${resource}`,
        recordsPath: 'data',
        pagination: { type: 'cursor', cursorPath: 'next_cursor' },
        auth: { type: 'bearer' },
        updatedField: 'updated_at',
        query: { updated_since: '{since}' },
      },
    },
    destination: { url: `${described.destination?.url ?? ''}/${resource}/{id}` },
    webhook: {
      scheme: 'standard',
      secretRefs: [{ name: 'hooks', key: 'whsec' }],
      mode: 'payload',
      silence: { window: '1m' },
    },
    overrides: {
      sync: { interval: '1h' },
      volume: { mode: 'Off' },
      retry: { initialInterval: '1s', maxInterval: '3s' },
      rateLimit: { requestsPerSecond: 1000, burst: 1000 },
    },
  };
}

/** Requests a sync and waits for it to be recorded; returns the status after it. */
async function syncNow(name: string): Promise<IntegrationStatus> {
  const before = (await integrations.get(name)).status?.lastSync?.jobName;
  const value = new Date().toISOString();
  await integrations.patch(name, {
    metadata: { annotations: { [SYNC_REQUESTED_ANNOTATION]: value } },
  });
  return waitFor(
    `a new sync of ${name}`,
    async () => {
      const status = (await integrations.get(name)).status;
      const done = status?.lastSync !== undefined && status.lastSync.jobName !== before;
      return done && status.lastHandledSyncRequest === value ? status : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}

const items = () => {
  const dataset = sims.generic?.dataset('items');
  if (dataset === undefined) throw new Error('no dataset');
  return dataset;
};
const applies = (id: string | number) => sims.destination?.appliesFor('items', String(id)) ?? 0;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('gap detection', () => {
  it('counts nothing for delivered changes, then the missed ones with their ids once the sender stops, and turns WebhookSilent', async () => {
    await integrations.waitForCondition('changing', 'Ready', 'True', undefined, 120_000);
    await integrations.waitForCondition('quiet', 'Ready', 'True', undefined, 120_000);
    const sender = new WebhookSender({
      scheme: 'standard',
      url: intake.hookURL(integrations.namespace, 'changing'),
      secrets: [SECRET],
      maxAttempts: 1,
    });

    // Delivered: three changes, each sent as a webhook and applied before the next pass.
    items().update([1, 2, 3], nowSeconds());
    for (const i of [1, 2, 3]) {
      expect(
        (await sender.send({ type: 'item.updated', object: items().record(i) })).attempts.at(-1)
          ?.status,
      ).toBe(202);
    }
    await waitFor('the deliveries applied', () =>
      Promise.resolve([1, 2, 3].every((i) => applies(items().idAt(i)) === 2) ? true : undefined),
    );
    await sleep(3000);
    const delivered = await syncNow('changing');
    expect(delivered.webhook?.lastGapCheck).toMatchObject({ changed: 3, missed: 0 });
    await integrations.waitForCondition('changing', 'EventsMissed', 'False', 'NoMissedEvents');
    // The pass read and wrote them again: replays, one effect per (record, version).
    expect([1, 2, 3].map((i) => applies(items().idAt(i)))).toEqual([2, 2, 2]);

    // A webhook racing a poll of the same change: one write at the destination.
    items().update([8], nowSeconds());
    const [raced] = await Promise.all([
      sender.send({ type: 'item.updated', object: items().record(8) }),
      syncNow('changing'),
    ]);
    expect(raced.attempts.at(-1)?.status).toBe(202);
    await waitFor('the raced change applied', () =>
      Promise.resolve(applies(items().idAt(8)) >= 2 ? true : undefined),
    );
    expect(applies(items().idAt(8))).toBe(2);

    // The sender stops; four more changes.
    sender.setFaults({ stop: true });
    const missedIndexes = [4, 5, 6, 7];
    items().update(missedIndexes, nowSeconds());
    for (const i of missedIndexes)
      await sender.send({ type: 'item.updated', object: items().record(i) });
    expect(sender.stats().suppressed).toBe(4);
    await sleep(3000);
    const missed = await syncNow('changing');
    const ids = missedIndexes.map((i) => String(items().idAt(i))).sort();
    // Judged now: the four, and the raced change (inside the grace at the pass before), delivered.
    expect(missed.webhook?.lastGapCheck).toMatchObject({ changed: 5, missed: 4 });
    expect([...(missed.webhook?.missedSamples ?? [])].sort()).toEqual(ids);
    expect(missed.webhook?.missed).toBe(4);
    const condition = await integrations.waitForCondition(
      'changing',
      'EventsMissed',
      'True',
      'ChangesWithoutDelivery',
    );
    expect(condition.message).toContain('4 of 5');
    expect(applies(items().idAt(8))).toBe(2);
    // The pass wrote them: the destination is complete at the new versions.
    expect(missedIndexes.map((i) => applies(items().idAt(i)))).toEqual([2, 2, 2, 2]);

    // No delivery for the silence window (1m) while a pass found changes: WebhookSilent.
    const silent = await integrations.waitForCondition(
      'changing',
      'WebhookSilent',
      'True',
      'NoDeliveries',
      150_000,
    );
    expect(silent.message).toMatch(/found source changes/);
    sender.close();

    // The quiet source: its passes found nothing, nothing was delivered: neither condition.
    await syncNow('quiet');
    expect((await integrations.condition('quiet', 'WebhookSilent'))?.status).toBe('False');
    expect((await integrations.condition('quiet', 'EventsMissed'))?.status).toBe('False');
  });

  it('dead-letters a delivery the destination refuses; the redrive annotation applies it once fixed, echoed in status', async () => {
    const destination = sims.destination;
    if (destination === undefined) throw new Error('no destination');
    const sender = new WebhookSender({
      scheme: 'standard',
      url: intake.hookURL(integrations.namespace, 'changing'),
      secrets: [SECRET],
      maxAttempts: 1,
    });
    const id = String(items().idAt(10));
    destination.rejectIds([id], { status: 422, reason: 'ledger is read-only for this record' });
    items().update([10], nowSeconds());
    expect(
      (await sender.send({ type: 'item.updated', object: items().record(10) })).attempts.at(-1)
        ?.status,
    ).toBe(202);
    const dead = await waitFor(
      'the dead letter in status',
      async () => {
        const webhook = (await integrations.get('changing')).status?.webhook;
        return webhook !== undefined && webhook.deadLettered >= 1 ? webhook : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(dead.deadLettered).toBe(1);
    destination.clearRejections([id]);
    const request = new Date().toISOString();
    await integrations.patch('changing', {
      metadata: { annotations: { [WEBHOOK_REDRIVE_ANNOTATION]: request } },
    });
    const redriven = await waitFor(
      'the redrive handled',
      async () => {
        const webhook = (await integrations.get('changing')).status?.webhook;
        return webhook?.lastHandledRedriveRequest === request && webhook.deadLettered === 0
          ? webhook
          : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(redriven.pending).toBe(0);
    expect(applies(id)).toBe(2);
    sender.close();
  });

  it('Stripe: the events log counts the events no delivery carried; a disabled endpoint turns WebhookSilent', async () => {
    const stripe = await startSimulators({ seed: 22, records: 8, stripe: true });
    const sim = stripe.stripe;
    const destination = sims.destination;
    if (sim === undefined || destination === undefined) throw new Error('simulators missing');
    try {
      const endpoint = `https://hooks.example.test/hooks/${integrations.namespace}/stripe`;
      sim.setWebhookEndpoints([{ url: endpoint, status: 'enabled' }]);
      await core.createNamespacedSecret({
        namespace: integrations.namespace,
        body: {
          metadata: { name: 'stripe' },
          stringData: { key: stripe.describe().stripe?.apiKey ?? '' },
        },
      });
      await integrations.createObject('integrations', {
        kind: 'Integration',
        metadata: { name: 'stripe' },
        spec: {
          source: {
            provider: 'stripe',
            baseURL: sim.url,
            apiVersion: '2024-06-20',
            resource: 'customers',
            credentialsRef: { name: 'stripe', key: 'key' },
          },
          destination: { url: `${destination.url}/stripe-customers/{id}` },
          webhook: {
            scheme: 'stripe',
            secretRefs: [{ name: 'hooks', key: 'whsec' }],
            silence: { window: '1m' },
          },
          overrides: {
            sync: { interval: '1h' },
            volume: { mode: 'Off' },
            rateLimit: { requestsPerSecond: 1000, burst: 1000 },
          },
        },
      });
      await integrations.waitForCondition('stripe', 'Ready', 'True', undefined, 120_000);
      const customers = sim.dataset('customers');
      customers.update([1, 2, 3], nowSeconds());
      const events = customers.changes().slice(-3);
      const sender = new WebhookSender({
        scheme: 'stripe',
        url: intake.hookURL(integrations.namespace, 'stripe'),
        secrets: [SECRET],
        maxAttempts: 1,
      });
      for (const change of events.slice(0, 2)) {
        const id = `evt_customer_${String(change.seq).padStart(8, '0')}`;
        const sent = await sender.send({
          type: 'customer.updated',
          object: customers.record(change.index),
          id,
        });
        expect(sent.attempts.at(-1)?.status).toBe(202);
      }
      sender.close();
      await sleep(3000);
      const status = await syncNow('stripe');
      const missedEvent = `evt_customer_${String(events[2]?.seq ?? 0).padStart(8, '0')}`;
      expect(status.webhook?.lastGapCheck).toMatchObject({ changed: 3, missed: 1 });
      expect(status.webhook?.missedSamples).toEqual([missedEvent]);
      await integrations.waitForCondition(
        'stripe',
        'EventsMissed',
        'True',
        'ChangesWithoutDelivery',
      );

      sim.setWebhookEndpoints([{ url: endpoint, status: 'disabled' }]);
      const disabled = await syncNow('stripe');
      expect(disabled.webhook?.endpointDisabled).toBe(true);
      const silent = await integrations.waitForCondition(
        'stripe',
        'WebhookSilent',
        'True',
        'EndpointDisabled',
      );
      expect(silent.message).toMatch(/Stripe/);
    } finally {
      await stripe.stop();
    }
  });
});
