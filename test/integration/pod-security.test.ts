import { CoreV1Api, type V1Pod, type V1PodSpec } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_NODE_IMAGE } from '../../dev/cluster/images.ts';
import { cluster, createNamespace } from '../support/cluster.ts';

const client = cluster();
const core = client.kubeConfig.makeApiClient(CoreV1Api);
let namespace: string;

beforeAll(async () => {
  namespace = await createNamespace(client, 'restricted', {
    'pod-security.kubernetes.io/enforce': 'restricted',
  });
});

const pod = (name: string, spec: Partial<V1PodSpec>): V1Pod => ({
  metadata: { name },
  spec: {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    containers: [{ name: 'main', image: TEST_NODE_IMAGE, args: ['-e', '0'] }],
    ...spec,
  },
});

describe('Pod Security admission (restricted)', () => {
  it('rejects a privileged pod', async () => {
    const privileged = pod('privileged', {
      containers: [
        {
          name: 'main',
          image: TEST_NODE_IMAGE,
          securityContext: { privileged: true },
        },
      ],
    });
    const error = await core.createNamespacedPod({ namespace, body: privileged }).then(
      () => undefined,
      (e: unknown) => e as { code: number; body: string },
    );
    expect(error?.code).toBe(403);
    expect(error?.body).toContain('violates PodSecurity');
    expect(error?.body).toContain('privileged');
  });

  it('admits a compliant pod', async () => {
    const compliant = pod('compliant', {
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65532,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'main',
          image: TEST_NODE_IMAGE,
          args: ['-e', '0'],
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
        },
      ],
    });
    const created = await core.createNamespacedPod({ namespace, body: compliant });
    expect(created.metadata?.name).toBe('compliant');
  });
});
