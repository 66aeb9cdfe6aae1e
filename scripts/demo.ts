/**
 * `npm run demo`: a local control plane (built from source), the operator running as its own
 * ServiceAccount, Stripe-, Shopify- and generic-API simulators and a destination, and four
 * Integrations syncing through real Jobs, shown as a live `kubectl get integrations` view. One of
 * them is webhook-driven (scripts/demo-webhook.ts): a webhook intake runs as its ServiceAccount
 * and a simulated sender posts changes that reach the destination before the next sync.
 *
 * In a terminal it runs until Ctrl-C, then cleans everything up. Without a terminal (CI) or with
 * `--once` it waits until every Integration has synced, posts three webhook changes and waits
 * for them at the destination and in status.webhook, prints the view and exits (non-zero if an
 * Integration did not become Ready, or the changes did not arrive, in time).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { IntegrationStatus } from '../operator/api/index.ts';
import { startCluster, type Cluster } from '../dev/cluster/cluster.ts';
import { defaultImages } from '../dev/cluster/images.ts';
import { installOperator, OperatorProcess } from '../dev/cluster/operator.ts';
import { startSimulators, type RunningSimulators } from '../dev/simulators/index.ts';
import { DemoWebhooks, webhookIntegration, webhookSecret } from './demo-webhook.ts';

const NAMESPACE = 'demo';
const { values } = parseArgs({
  options: { once: { type: 'boolean' }, records: { type: 'string' }, timeout: { type: 'string' } },
});
const once = values.once === true || !process.stdout.isTTY || process.env.CI === 'true';
const records = Number(values.records ?? 120);
const timeoutMs = Number(values.timeout ?? 300) * 1000;

const resources: { stop(): Promise<void> }[] = [];
let stopping = false;

async function cleanUp(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.log('\nstopping the operator, the simulators and the cluster...');
    for (const resource of resources.reverse()) await resource.stop().catch(() => undefined);
  }
  process.exit(code);
}
process.on('SIGINT', () => void cleanUp(0));
process.on('SIGTERM', () => void cleanUp(0));

function step(message: string): void {
  console.log(`\u001b[1m==>\u001b[0m ${message}`);
}

async function main(): Promise<void> {
  step(
    'starting a local control plane (etcd, kube-apiserver, kube-controller-manager, process node)',
  );
  const cluster = await startCluster({ images: defaultImages() });
  resources.push(cluster);
  step(`cluster ready at ${cluster.info.server} (kubeconfig: ${cluster.info.kubeconfigPath})`);

  step(`starting simulators with ${records} records each`);
  const simulators = await startSimulators({
    seed: 7,
    records,
    stripe: true,
    shopify: { resources: ['orders'], leakPerSecond: 20 },
    generic: { resources: ['shipments', DemoWebhooks.resource] },
    destination: true,
  });
  resources.push(simulators);
  addRealisticFaults(simulators);

  step(
    'installing CRDs and the RBAC; starting the webhook intake and the operator as their ServiceAccounts',
  );
  await installOperator(cluster);
  const webhooks = await DemoWebhooks.start(cluster, simulators, NAMESPACE);
  resources.push(webhooks);
  const operator = await OperatorProcess.start(cluster, {
    identity: 'demo-operator',
    env: { INTAKE_URL: webhooks.intake.statsURL },
  });
  resources.push(operator);

  step(`applying four Integrations in namespace ${NAMESPACE}`);
  await applyIntegrations(cluster, simulators);

  if (once) await finishOnce(cluster, simulators, webhooks, operator);
  for (let tick = 0; ; tick += 1) {
    // A webhook change every 6 s once the Integrations exist.
    if (tick % 3 === 2) await webhooks.post(1);
    process.stdout.write('\u001b[2J\u001b[H');
    console.log(await view(cluster, simulators, webhooks));
    console.log('\nCtrl-C stops everything and cleans up.');
    await sleep(2000);
  }
}

/** `--once`: Ready for every Integration, then three webhook changes delivered; the exit code says. */
async function finishOnce(
  cluster: Cluster,
  simulators: RunningSimulators,
  webhooks: DemoWebhooks,
  operator: OperatorProcess,
): Promise<never> {
  const deadline = Date.now() + timeoutMs;
  const ready = await waitUntilSynced(cluster, timeoutMs);
  let delivered = false;
  if (ready) {
    step('posting three webhook changes');
    await webhooks.post(3);
    delivered = await webhooks.waitDelivered(cluster, NAMESPACE, deadline);
  }
  console.log(await view(cluster, simulators, webhooks));
  console.log(ready ? 'every Integration synced and is Ready' : 'timed out waiting for Ready');
  if (ready)
    console.log(
      delivered
        ? 'the webhook changes reached the destination and status.webhook counts them'
        : 'timed out waiting for the webhook changes',
    );
  console.log(await failedAttempts(cluster));
  console.log(`operator log: ${operator.logPath}`);
  console.log(`intake log: ${webhooks.intake.dir}/intake.log`);
  return cleanUp(ready && delivered ? 0 : 1);
}

/** The shape of what a platform team sees: rate limits and a few malformed records. */
function addRealisticFaults(simulators: RunningSimulators): void {
  simulators.shopify?.addFaults([
    { type: 'rateLimit', retryAfterSeconds: 1, scope: { kind: 'nth', n: [2] } },
  ]);
  simulators.stripe?.addFaults([
    { type: 'serverError', status: 503, scope: { kind: 'nth', n: [3] } },
  ]);
  // Two shipments arrive without an email: they are quarantined with a reason, the rest syncs.
  simulators.generic?.dataset('shipments').setMalformed([3, 17], 'missingEmail');
}

async function applyIntegrations(cluster: Cluster, simulators: RunningSimulators): Promise<void> {
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  const sims = simulators.describe();
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  const secrets: Record<string, Record<string, string>> = {
    'stripe-api': { apiKey: sims.stripe?.apiKey ?? '' },
    'shopify-acme': { accessToken: sims.shopify?.accessToken ?? '' },
    'carrier-api': { token: 'generic-token' },
    ...webhookSecret,
  };
  for (const [name, stringData] of Object.entries(secrets)) {
    await core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: { metadata: { name }, stringData },
    });
  }
  const destination = sims.destination?.url ?? '';
  const overrides = {
    sync: { interval: '1m' },
    retry: { initialInterval: '2s', maxInterval: '20s' },
  };
  const integrations = [
    {
      name: 'stripe-customers',
      source: {
        provider: 'stripe',
        baseURL: sims.stripe?.url,
        apiVersion: '2024-06-20',
        resource: 'customers',
        credentialsRef: { name: 'stripe-api', key: 'apiKey' },
      },
      destination: { url: `${destination}/customers/{id}`, method: 'PUT' },
      schema: {
        required: ['id', 'email'],
        properties: { id: { type: 'string' }, email: { type: 'string' } },
      },
    },
    {
      name: 'shopify-orders',
      source: {
        provider: 'shopify',
        baseURL: sims.shopify?.url,
        apiVersion: '2024-07',
        resource: 'orders',
        credentialsRef: { name: 'shopify-acme', key: 'accessToken' },
      },
      destination: { url: `${destination}/orders/{id}`, method: 'PUT' },
    },
    {
      name: 'carrier-shipments',
      source: {
        provider: 'http',
        baseURL: sims.generic?.url,
        credentialsRef: { name: 'carrier-api', key: 'token' },
        http: {
          path: '/v1/shipments',
          recordsPath: 'data',
          pagination: { type: 'cursor', cursorPath: 'next_cursor', cursorParam: 'cursor' },
          updatedField: 'updated_at',
          auth: { type: 'bearer' },
        },
      },
      destination: { url: `${destination}/shipments/{id}`, method: 'PUT' },
      schema: {
        required: ['id', 'email'],
        properties: { id: { type: 'string' }, email: { type: 'string' } },
      },
    },
    webhookIntegration(simulators),
  ];
  for (const { name, ...spec } of integrations) {
    await custom.createNamespacedCustomObject({
      group: 'tributary.dev',
      version: 'v1alpha1',
      namespace: NAMESPACE,
      plural: 'integrations',
      body: {
        apiVersion: 'tributary.dev/v1alpha1',
        kind: 'Integration',
        metadata: { name },
        spec: { ...spec, overrides },
      },
    });
  }
}

async function waitUntilSynced(cluster: Cluster, limitMs: number): Promise<boolean> {
  const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const list = (await custom.listNamespacedCustomObject({
      group: 'tributary.dev',
      version: 'v1alpha1',
      namespace: NAMESPACE,
      plural: 'integrations',
    })) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] };
    const ready = list.items.filter((item) =>
      item.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    if (list.items.length > 0 && ready.length === list.items.length) return true;
    await sleep(2000);
  }
  return false;
}

/** Failed attempts kept in status.history, with their error: what retries absorbed. */
async function failedAttempts(cluster: Cluster): Promise<string> {
  const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  const list = (await custom.listNamespacedCustomObject({
    group: 'tributary.dev',
    version: 'v1alpha1',
    namespace: NAMESPACE,
    plural: 'integrations',
  })) as { items: { status?: IntegrationStatus }[] };
  const lines = list.items.flatMap((item) =>
    (item.status?.history ?? [])
      .filter((run) => run.outcome === 'Failed')
      .map((run) => `  ${run.jobName}: ${run.error?.class ?? ''} ${run.error?.message ?? ''}`),
  );
  return lines.length === 0
    ? 'no failed attempts'
    : `failed attempts, retried:\n${lines.join('\n')}`;
}

async function view(
  cluster: Cluster,
  simulators: RunningSimulators,
  webhooks: DemoWebhooks,
): Promise<string> {
  const table = await cluster.kubectl(['get', 'integrations', '-n', NAMESPACE, '-o', 'wide']);
  const jobs = await cluster.kubectl([
    'get',
    'jobs',
    '-n',
    NAMESPACE,
    '--sort-by=.metadata.creationTimestamp',
  ]);
  const stats = simulators.destination?.stats();
  const stored = ['customers', 'orders', 'shipments', DemoWebhooks.resource]
    .map((collection) => `${collection} ${simulators.destination?.records(collection).length ?? 0}`)
    .join(', ');
  return [
    `$ kubectl get integrations -n ${NAMESPACE} -o wide`,
    table.stdout.trimEnd() || table.stderr.trimEnd(),
    '',
    `$ kubectl get jobs -n ${NAMESPACE}`,
    jobs.stdout.trimEnd().split('\n').slice(-8).join('\n'),
    '',
    `destination: ${stored} records stored; ${JSON.stringify(stats?.requests ?? {})}`,
    '',
    await webhooks.view(cluster, NAMESPACE),
  ].join('\n');
}

main().catch(async (error: unknown) => {
  console.error(error);
  await cleanUp(1);
});
