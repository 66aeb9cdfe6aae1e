/**
 * The operator as installed, running in the cluster: `kubectl apply --server-side -f
 * manifests/install.yaml` makes its Deployment, whose pods the deployment and replicaset
 * controllers create and the process node runs (the operator image mapped to this checkout,
 * the ServiceAccount token mounted at the in-cluster path, readiness from /readyz). One replica
 * leads (the Lease), reconciles an Integration, and when its pod is deleted the other takes
 * over and the ReplicaSet replaces the pod.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  PolicyV1Api,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  installOperator,
  OPERATOR_DEPLOYMENT,
  operatorPodSelector,
} from '../../dev/cluster/operator.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import { ROOT } from '../fixtures/manifests.ts';
import { Integrations } from '../support/integrations.ts';
import { cluster, createNamespace, deleteNamespaces, RESTRICTED } from '../support/cluster.ts';

const client = cluster();
const apps = client.kubeConfig.makeApiClient(AppsV1Api);
const core = client.kubeConfig.makeApiClient(CoreV1Api);
const leases = client.kubeConfig.makeApiClient(CoordinationV1Api);
const policy = client.kubeConfig.makeApiClient(PolicyV1Api);
const { namespace, name } = OPERATOR_DEPLOYMENT;

beforeAll(async () => {
  const applied = await client.kubectl([
    'apply',
    '--server-side',
    '-f',
    join(ROOT, 'manifests', 'install.yaml'),
  ]);
  expect(applied.code, applied.stderr).toBe(0);
});

afterAll(async () => {
  await deleteNamespaces(client);
  // Back to 0 replicas: the next test files run the operator themselves.
  await installOperator(client);
});

/** The Deployment once it is Available with every replica updated and ready. */
async function available(replicas: number) {
  return waitFor(
    `deployment ${namespace}/${name} available with ${replicas} ready replicas`,
    async () => {
      const { spec, status } = await apps.readNamespacedDeployment({ namespace, name });
      const condition = status?.conditions?.find((c) => c.type === 'Available');
      const done =
        spec?.replicas === replicas &&
        status?.readyReplicas === replicas &&
        status.updatedReplicas === replicas &&
        status.replicas === replicas &&
        condition?.status === 'True';
      return done ? status : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}

async function runningPods(): Promise<V1Pod[]> {
  const labelSelector = await operatorPodSelector(client);
  const pods = await core.listNamespacedPod({ namespace, labelSelector });
  return pods.items.filter((pod) => pod.metadata?.deletionTimestamp === undefined);
}

/** The Lease's holder; undefined while nobody holds it (a released Lease has an empty one). */
async function holder(): Promise<string | undefined> {
  const lease = await leases.readNamespacedLease({ namespace, name });
  const identity = lease.spec?.holderIdentity;
  return identity === undefined || identity === '' ? undefined : identity;
}

describe('the installed Deployment, on the process node', () => {
  it('rolls out: kubectl rollout status succeeds, both replicas Ready with their own pod IP', async () => {
    const rollout = await client.kubectl([
      'rollout',
      'status',
      '-n',
      namespace,
      `deployment/${name}`,
      '--timeout=120s',
    ]);
    expect(rollout.code, rollout.stderr).toBe(0);
    expect(rollout.stdout).toContain('successfully rolled out');
    const status = await available(2);
    expect(status.availableReplicas).toBe(2);
    const pods = await runningPods();
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.spec?.nodeName).toBe('process-node');
      expect(pod.status?.phase).toBe('Running');
      expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      // The ServiceAccount admission plugin mounted the token; the pod reads it in-cluster.
      const mounts = pod.spec?.containers[0]?.volumeMounts ?? [];
      expect(mounts.map((m) => m.mountPath)).toContain(
        '/var/run/secrets/kubernetes.io/serviceaccount',
      );
    }
    const ips = pods.map((pod) => pod.status?.podIP);
    expect(new Set(ips).size).toBe(2);
    // Each replica serves /readyz and /metrics on its own IP at the container port.
    for (const ip of ips) {
      const ready = await fetch(`http://${ip}:8080/readyz`);
      expect(ready.status).toBe(200);
    }
  });

  it('one replica leads; the PodDisruptionBudget allows one disruption', async () => {
    const pods = (await runningPods()).map((pod) => pod.metadata?.name);
    const leader = await waitFor('a leader', holder);
    expect(pods).toContain(leader);
    const budget = await waitFor('the PodDisruptionBudget status', async () => {
      const pdb = await policy.readNamespacedPodDisruptionBudget({ namespace, name });
      return pdb.status?.currentHealthy === 2 ? pdb.status : undefined;
    });
    expect(budget.disruptionsAllowed).toBe(1);
  });

  it('the leader reconciles an Integration: a sync Job runs and status follows', async () => {
    const integrations = new Integrations(
      client,
      await createNamespace(client, 'in-cluster', RESTRICTED),
    );
    await integrations.create('orders', { read: 4 });
    const ready = await integrations.waitForCondition('orders', 'Ready', 'True', 'Succeeded');
    expect(ready.message).toContain('read 4');
    const stored = await integrations.get('orders');
    expect(stored.status?.observedGeneration).toBe(stored.metadata.generation);
    const [job] = await integrations.jobs('orders');
    expect(job?.status?.succeeded).toBe(1);
  });

  it('deleting the leading pod stops its process; the other replica takes over and a new pod replaces it', async () => {
    const leader = await waitFor('a leader', holder);
    const [before] = (await runningPods()).filter((pod) => pod.metadata?.name === leader);
    const uid = before?.metadata?.uid ?? '';
    await core.deleteNamespacedPod({ namespace, name: leader });
    const next = await waitFor(
      'another replica to take the Lease',
      async () => {
        const current = await holder();
        return current !== leader ? current : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    // The process node stopped the process (it released the Lease on SIGTERM), then the pod.
    await waitFor('the deleted pod to be gone', async () => {
      const pods = await core.listNamespacedPod({ namespace });
      return pods.items.some((pod) => pod.metadata?.uid === uid) ? undefined : true;
    });
    const log = readFileSync(
      join(client.info.nodeDir, 'logs', namespace, leader, 'operator.log'),
      'utf8',
    );
    expect(log).toContain('"msg":"released lease"');
    expect(log).toContain('"msg":"operator stopped"');
    // The ReplicaSet made a replacement, and the Deployment is whole again.
    await available(2);
    const names = (await runningPods()).map((pod) => pod.metadata?.name);
    expect(names).toHaveLength(2);
    expect(names).toContain(next);
    expect(names).not.toContain(leader);
    // The new leader reconciles too.
    const integrations = new Integrations(
      client,
      await createNamespace(client, 'in-cluster', RESTRICTED),
    );
    await integrations.create('refunds', { read: 1 });
    await integrations.waitForCondition('refunds', 'Ready', 'True', 'Succeeded');
    expect(await holder()).toBe(next);
  });
});
