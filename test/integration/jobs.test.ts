import { readFileSync } from 'node:fs';
import { BatchV1Api, CoreV1Api, type V1Job } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_NODE_IMAGE } from '../../dev/cluster/images.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import { ProcessNode } from '../../dev/cluster/process-node.ts';
import { cluster, createNamespace } from '../support/cluster.ts';

const client = cluster();
const batch = client.kubeConfig.makeApiClient(BatchV1Api);
const core = client.kubeConfig.makeApiClient(CoreV1Api);
let namespace: string;

beforeAll(async () => {
  namespace = await createNamespace(client, 'jobs');
});

/** A Job running `node -e <script>` once per pod. */
function nodeJob(name: string, script: string, backoffLimit = 0): V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit,
      template: {
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'main',
              image: TEST_NODE_IMAGE,
              args: ['-e', script],
              env: [{ name: 'RESULT_PATH', value: '/dev/termination-log' }],
            },
          ],
        },
      },
    },
  };
}

/** Waits until the Job has a true Complete or Failed condition; returns its type. */
function finished(name: string) {
  return waitFor(`Job ${name} to finish`, async () => {
    const job = await batch.readNamespacedJob({ name, namespace });
    return job.status?.conditions?.find(
      (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
    )?.type;
  });
}

const podsOf = async (job: string) =>
  (await core.listNamespacedPod({ namespace, labelSelector: `job-name=${job}` })).items;

describe('Jobs on the process node', () => {
  it('completes a Job whose pod succeeds, with its termination message', async () => {
    const script =
      "require('fs').writeFileSync(process.env.RESULT_PATH, 'done'); console.log('hello')";
    await batch.createNamespacedJob({ namespace, body: nodeJob('succeeds', script) });
    expect(await finished('succeeds')).toBe('Complete');

    const [pod] = await podsOf('succeeds');
    expect(pod?.status?.phase).toBe('Succeeded');
    const terminated = pod?.status?.containerStatuses?.[0]?.state?.terminated;
    expect(terminated).toMatchObject({ exitCode: 0, reason: 'Completed', message: 'done' });
    const log = readFileSync(nodeLogPath(pod?.metadata?.name ?? ''), 'utf8');
    expect(log).toContain('hello');
  });

  it('fails a Job whose pods exit 1 after backoffLimit retries', async () => {
    await batch.createNamespacedJob({
      namespace,
      body: nodeJob('fails', 'process.exit(1)', 1),
    });
    expect(await finished('fails')).toBe('Failed');
    const pods = await podsOf('fails');
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(1);
    }
    const job = await batch.readNamespacedJob({ name: 'fails', namespace });
    expect(job.status?.conditions?.find((c) => c.type === 'Failed')?.reason).toBe(
      'BackoffLimitExceeded',
    );
  });

  it('removes the pods of a deleted Job (garbage collector) and stops their processes', async () => {
    await batch.createNamespacedJob({
      namespace,
      body: nodeJob('deleted', 'setInterval(() => {}, 1000)'),
    });
    await waitFor('the pod to run', async () => {
      const [pod] = await podsOf('deleted');
      return pod?.status?.phase === 'Running' ? true : undefined;
    });
    await batch.deleteNamespacedJob({
      name: 'deleted',
      namespace,
      propagationPolicy: 'Background',
    });
    await waitFor('the pods to be gone', async () =>
      (await podsOf('deleted')).length === 0 ? true : undefined,
    );
  });

  it('deletes a namespace with finished Jobs completely', async () => {
    const doomed = await createNamespace(client, 'doomed');
    await batch.createNamespacedJob({ namespace: doomed, body: nodeJob('one', '0') });
    await core.deleteNamespace({ name: doomed });
    await waitFor('the namespace to be gone', async () => {
      const exists = await core.readNamespace({ name: doomed }).then(
        () => true,
        () => false,
      );
      return exists ? undefined : true;
    });
  });
});

/** The log file the process node keeps for a pod of the test namespace. */
function nodeLogPath(pod: string): string {
  const node = new ProcessNode({
    kubeConfig: client.kubeConfig,
    workDir: client.info.nodeDir,
    images: () => undefined,
  });
  return node.podLogPath(namespace, pod, 'main');
}
