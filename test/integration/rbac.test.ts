import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { cluster, createNamespace } from '../support/cluster.ts';

const client = cluster();
let namespace: string;

beforeAll(async () => {
  namespace = await createNamespace(client, 'rbac');
  const core = client.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'reader' } } });
});

/** Lists pods in the test namespace as the `reader` ServiceAccount; returns the HTTP status. */
async function listPodsAsReader(): Promise<number> {
  const token = await client.serviceAccountToken(namespace, 'reader');
  const core = client.kubeConfigFor(token).makeApiClient(CoreV1Api);
  try {
    await core.listNamespacedPod({ namespace });
    return 200;
  } catch (error) {
    return (error as { code?: number }).code ?? 0;
  }
}

describe('RBAC', () => {
  it('forbids a ServiceAccount without a binding, then allows it once bound', async () => {
    expect(await listPodsAsReader()).toBe(403);

    const rbac = client.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'pod-reader' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'reader-reads-pods' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
      },
    });
    expect(await listPodsAsReader()).toBe(200);
  });

  it('still forbids what the binding does not grant', async () => {
    const token = await client.serviceAccountToken(namespace, 'reader');
    const result = await client.kubectl(['get', 'secrets', '-n', namespace], { token });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('forbidden');
  });
});
