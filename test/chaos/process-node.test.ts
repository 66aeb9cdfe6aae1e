/**
 * Regression, found by the full control-plane restarts (2026-12-03, load-031): a run pod whose
 * container exited while kube-apiserver was down stayed Running in the API for ever, so its Job
 * stayed active until its deadline and the Integration was not Ready. The process node (the
 * kubelet's stand-in) wrote the pod's final status once and gave up on a refused connection; it
 * now writes it again with back-off until it lands, as the kubelet's status manager does. This
 * runs the case on purpose: a container exits in the middle of an API server outage.
 */
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../dev/cluster/cluster.ts';
import { defaultImages, TEST_NODE_IMAGE } from '../../dev/cluster/images.ts';
import { waitFor } from '../../dev/cluster/processes.ts';

const NAMESPACE = 'outage';
/** How long the container runs, ms; the API server goes down before it exits. */
const RUN_MS = 4000;
/** How long the API server stays down, ms: past the container's exit. */
const DOWN_MS = 8000;

let cluster: Cluster;
let core: CoreV1Api;

beforeAll(async () => {
  cluster = await startCluster({
    images: defaultImages(),
    keepDir: process.env.TRIBUTARY_KEEP_CLUSTER === '1',
  });
  core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
});

afterAll(async () => {
  await cluster.stop();
});

async function phaseOf(name: string): Promise<string | undefined> {
  const pod: V1Pod = await core.readNamespacedPod({ namespace: NAMESPACE, name });
  return pod.status?.phase;
}

describe('the process node during an API server outage', () => {
  it('reports a container that exited while kube-apiserver was down once it is back', async () => {
    const name = 'exits-in-outage';
    await core.createNamespacedPod({
      namespace: NAMESPACE,
      body: {
        metadata: { name },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'main',
              image: TEST_NODE_IMAGE,
              args: ['-e', `setTimeout(() => process.exit(0), ${RUN_MS})`],
            },
          ],
        },
      },
    });
    await waitFor(`pod ${name} Running`, async () =>
      (await phaseOf(name)) === 'Running' ? true : undefined,
    );
    const downAt = Date.now();
    await cluster.restart('kube-apiserver', { downMs: DOWN_MS });
    // The exit fell inside the outage: the first status write of it was refused.
    expect(Date.now() - downAt).toBeGreaterThanOrEqual(DOWN_MS);
    const phase = await waitFor(
      `pod ${name} to be reported Succeeded`,
      async () => {
        const seen = await phaseOf(name).catch(() => undefined);
        return seen === 'Succeeded' || seen === 'Failed' ? seen : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(phase).toBe('Succeeded');
  });
});
