/**
 * Run pod settings on the real control plane: in a namespace whose LimitRange refuses the
 * default run pod (its memory limit is above the namespace's maximum), a ReconcilePolicy's
 * `spec.run` makes sync and drift-check pods admissible, and every setting reaches the pod.
 */
import { CoreV1Api, SchedulingV1Api, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DRIFT_CHECK_REQUESTED_ANNOTATION,
  Integration,
  resolvePolicy,
  type RunPolicy,
} from '../../operator/api/index.ts';
import { buildJob, JobLabel } from '../../operator/controller/plan/job.ts';
import { QUICK_CONNECTOR_IMAGE } from '../../dev/cluster/images.ts';
import { installOperator, OperatorProcess } from '../../dev/cluster/operator.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import { cluster, createNamespace, deleteNamespaces, RESTRICTED } from '../support/cluster.ts';
import { Integrations } from '../support/integrations.ts';

const client = cluster();
const core = client.kubeConfig.makeApiClient(CoreV1Api);
const scheduling = client.kubeConfig.makeApiClient(SchedulingV1Api);
const PRIORITY_CLASS = `tributary-runs-${String(process.pid)}`;
let operator: OperatorProcess;

beforeAll(async () => {
  await installOperator(client);
  await scheduling.createPriorityClass({
    body: { metadata: { name: PRIORITY_CLASS }, value: 100, description: 'run pods (test)' },
  });
  operator = await OperatorProcess.start(client, { identity: 'run-pods-test-operator' });
  await waitFor('the operator to be ready', async () =>
    (await operator.get('/readyz'))?.status === 200 ? true : undefined,
  );
});

afterEach(async () => {
  await deleteNamespaces(client);
});

afterAll(async () => {
  await operator.stop();
  await scheduling.deletePriorityClass({ name: PRIORITY_CLASS }).catch(() => undefined);
});

const RUN: RunPolicy = {
  resources: {
    requests: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '64Mi' },
    limits: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '256Mi' },
  },
  serviceAccountName: 'integrations',
  imagePullSecrets: [{ name: 'registry' }],
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [
    { key: 'dedicated', operator: 'Equal', value: 'integrations', effect: 'NoSchedule' },
  ],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] },
        ],
      },
    },
  },
  priorityClassName: PRIORITY_CLASS,
  podLabels: { team: 'payments' },
  podAnnotations: { 'example.com/owner': 'payments' },
};

/** A namespace whose LimitRange caps container memory at 256Mi (the default limit is 512Mi). */
async function limitedNamespace(): Promise<Integrations> {
  const integrations = new Integrations(
    client,
    await createNamespace(client, 'limits', RESTRICTED),
  );
  const { namespace } = integrations;
  await core.createNamespacedLimitRange({
    namespace,
    body: {
      metadata: { name: 'limits' },
      spec: { limits: [{ type: 'Container', max: { cpu: '1', memory: '256Mi' } }] },
    },
  });
  await core.createNamespacedServiceAccount({
    namespace,
    body: { metadata: { name: 'integrations' }, automountServiceAccountToken: false },
  });
  return integrations;
}

/** The pod of a Job once it finished, as the API server admitted it. */
function finishedPod(namespace: string, job: V1Job): Promise<V1Pod> {
  const name = job.metadata?.name ?? '';
  return waitFor(
    `the pod of ${name} to finish`,
    async () => {
      const pods = await core.listNamespacedPod({
        namespace,
        labelSelector: `batch.kubernetes.io/job-name=${name}`,
      });
      return pods.items.find((pod) => pod.status?.phase === 'Succeeded');
    },
    { timeoutMs: 90_000 },
  );
}

/** The first Job of `kind` of Integration `name`. */
function jobOf(integrations: Integrations, name: string, kind: string): Promise<V1Job> {
  return waitFor(`a ${kind} Job of ${name}`, async () =>
    (await integrations.jobs(name)).find(
      (job) => job.metadata?.labels?.[JobLabel.RunKind] === kind,
    ),
  );
}

function expectRunSettings(pod: V1Pod): void {
  const spec = pod.spec;
  expect(spec?.containers[0]?.resources).toEqual(RUN.resources);
  expect(spec?.serviceAccountName).toBe('integrations');
  expect(spec?.imagePullSecrets).toEqual(RUN.imagePullSecrets);
  expect(spec?.nodeSelector).toEqual(RUN.nodeSelector);
  expect(spec?.tolerations).toEqual(expect.arrayContaining(RUN.tolerations ?? []));
  expect(spec?.affinity).toEqual(RUN.affinity);
  expect(spec?.priorityClassName).toBe(PRIORITY_CLASS);
  expect(spec?.priority).toBe(100);
  expect(pod.metadata?.labels).toMatchObject({
    team: 'payments',
    [JobLabel.ManagedBy]: 'tributary',
  });
  expect(pod.metadata?.annotations).toMatchObject(RUN.podAnnotations ?? {});
}

describe('run pod settings', () => {
  it('run sync and drift-check pods in a namespace whose LimitRange refuses the default run pod', async () => {
    const integrations = await limitedNamespace();
    const { namespace } = integrations;

    // The control: the default run pod is refused there.
    const spec = { connector: { image: QUICK_CONNECTOR_IMAGE } };
    const parsed = Integration.parse({
      apiVersion: 'tributary.dev/v1alpha1',
      kind: 'Integration',
      metadata: { name: 'orders', namespace },
      spec,
    });
    const defaultJob = buildJob({
      integration: { metadata: { ...parsed.metadata, namespace, uid: 'u' }, spec: parsed.spec },
      policy: resolvePolicy(undefined, undefined),
      kind: 'sync',
      dueTime: new Date(),
      attempt: 1,
      operatorImage: QUICK_CONNECTOR_IMAGE,
    });
    const refused = await core
      .createNamespacedPod({
        namespace,
        dryRun: 'All',
        body: { metadata: { name: 'default-run' }, spec: defaultJob.spec?.template.spec },
      })
      .then(
        () => undefined,
        (error: unknown) => error as { code: number; body: string },
      );
    expect(refused?.code).toBe(403);
    expect(refused?.body).toContain('maximum memory usage per Container is 256Mi');

    await integrations.createObject('reconcilepolicies', {
      kind: 'ReconcilePolicy',
      metadata: { name: 'limited' },
      spec: { sync: { interval: '1h' }, drift: { interval: '1h' }, run: RUN },
    });
    await integrations.create('orders', {}, { ...spec, policyRef: { name: 'limited' } });
    await integrations.waitForCondition('orders', 'Ready', 'True', 'Succeeded');
    expect((await integrations.get('orders')).status?.effectivePolicy?.run).toEqual(RUN);
    expectRunSettings(await finishedPod(namespace, await jobOf(integrations, 'orders', 'sync')));

    await integrations.patch('orders', {
      metadata: { annotations: { [DRIFT_CHECK_REQUESTED_ANNOTATION]: 'now' } },
    });
    const drift = await jobOf(integrations, 'orders', 'drift-check');
    expectRunSettings(await finishedPod(namespace, drift));
    await waitFor('the drift check in status', async () =>
      (await integrations.get('orders')).status?.lastDriftCheck?.outcome === 'Succeeded'
        ? true
        : undefined,
    );
  }, 180_000);
});
