/**
 * End to end, the scale-out engine: two intake replicas sharing one NATS JetStream stream on a real
 * nats-server. The same delivery sent to both at once is stored once (the store dedupes across
 * replicas) and written once; with the NATS server stopped every delivery is answered 503 — never
 * a 2xx — and /readyz says so; once it is back, the sender's retry is stored and applied.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IntakeStats } from '../../operator/api/index.ts';
import { IntakeProcess } from '../../dev/cluster/intake.ts';
import { installOperator } from '../../dev/cluster/operator.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import { startNatsServer, type NatsServer } from '../../dev/nats/server.ts';
import {
  startSimulators,
  WebhookSender,
  type RunningSimulators,
} from '../../dev/simulators/index.ts';
import { cluster, createNamespace, deleteNamespaces, RESTRICTED } from '../support/cluster.ts';
import { Integrations } from '../support/integrations.ts';

const client = cluster();
const core = client.kubeConfig.makeApiClient(CoreV1Api);
const SECRET = 'whsec_c2NhbGUtb3V0LXNpZ25pbmctc2VjcmV0';
let nats: NatsServer;
let replicas: IntakeProcess[] = [];
let sims: RunningSimulators;
let namespace: string;

beforeAll(async () => {
  await installOperator(client);
  nats = await startNatsServer();
  const options = { store: 'jetstream', natsURL: nats.url, natsStream: 'E2E_HOOKS' } as const;
  replicas = [
    await IntakeProcess.start(client, options),
    await IntakeProcess.start(client, options),
  ];
  sims = await startSimulators({ seed: 9, records: 10, stripe: true, destination: true });
  const described = sims.describe();
  const integrations = new Integrations(
    client,
    await createNamespace(client, 'e2e-hooks-js', RESTRICTED),
  );
  namespace = integrations.namespace;
  await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: 'hooks' },
      stringData: { token: described.stripe?.apiKey ?? '', whsec: SECRET },
    },
  });
  await integrations.createObject('integrations', {
    kind: 'Integration',
    metadata: { name: 'hooks' },
    spec: {
      suspend: true,
      source: {
        provider: 'stripe',
        baseURL: described.stripe?.url,
        apiVersion: '2024-06-20',
        resource: 'customers',
        credentialsRef: { name: 'hooks', key: 'token' },
      },
      destination: { url: `${described.destination?.url ?? ''}/customers/{id}` },
      webhook: { scheme: 'stripe', secretRefs: [{ name: 'hooks', key: 'whsec' }] },
    },
  });
});

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop()));
  await sims.stop();
  await nats.stop({ removeStore: true });
  await deleteNamespaces(client);
});

const record = (i: number) => sims.stripe?.dataset('customers').record(i) ?? { id: '' };
const applies = (id: string | number) => sims.destination?.appliesFor('customers', String(id)) ?? 0;

function sender(options: { maxAttempts: number; timeScale: number }) {
  const url = replicas[0]?.hookURL(namespace, 'hooks') ?? '';
  return new WebhookSender({ scheme: 'stripe', url, secrets: [SECRET], ...options });
}

async function stats(replica: IntakeProcess) {
  const body = JSON.parse((await replica.get('/stats'))?.body ?? '{}') as IntakeStats;
  return { store: body.store, row: body.integrations.find((r) => r.namespace === namespace) };
}

describe('the JetStream inbox', () => {
  it('one store for both replicas: a delivery sent three times to each at once is stored and written once', async () => {
    const send = sender({ maxAttempts: 1, timeScale: 1 });
    const urls = replicas.map((replica) => replica.hookURL(namespace, 'hooks'));
    send.setFaults({ duplicate: { times: 3, concurrent: true, urls } });
    const delivery = await send.send({
      type: 'customer.updated',
      object: record(1),
      id: 'evt_js_dup',
    });
    const statuses = delivery.attempts.map((a) => a.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    await waitFor('the record written', () =>
      Promise.resolve(applies(record(1).id) === 1 ? true : undefined),
    );
    const [a, b] = [
      await stats(replicas[0] as IntakeProcess),
      await stats(replicas[1] as IntakeProcess),
    ];
    expect(a.store).toBe(b.store);
    expect(a.row).toMatchObject({ accepted: 1, duplicate: 5 });
    send.close();
  });

  it('the NATS server stopped: 503 and not ready; back: the retry is stored and applied', async () => {
    await nats.stop();
    try {
      const down = sender({ maxAttempts: 2, timeScale: 1 / 3600 });
      const refused = await down.send({
        type: 'customer.updated',
        object: record(2),
        id: 'evt_js_down',
      });
      const statuses = refused.attempts.map((a) => a.status);
      expect(statuses.every((s) => s === 503)).toBe(true);
      await waitFor('/readyz to report the store', async () =>
        (await replicas[0]?.get('/readyz'))?.status === 503 ? true : undefined,
      );
      expect(replicas.every((replica) => replica.running)).toBe(true);
      down.close();
    } finally {
      await nats.restart();
    }
    await waitFor('/readyz to recover', async () =>
      (await replicas[0]?.get('/readyz'))?.status === 200 ? true : undefined,
    );
    const retry = sender({ maxAttempts: 6, timeScale: 1 / 60 });
    const delivery = await retry.send({
      type: 'customer.updated',
      object: record(2),
      id: 'evt_js_down',
    });
    expect(delivery.attempts.at(-1)?.status).toBe(202);
    await waitFor('the record written', () =>
      Promise.resolve(applies(record(2).id) === 1 ? true : undefined),
    );
    retry.close();
  });
});
