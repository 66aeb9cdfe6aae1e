import { CoreV1Api, type V1Pod, type V1PodSpec } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHART_DIR } from '../../manifests/src/app.ts';
import { TEST_NODE_IMAGE } from '../../dev/cluster/images.ts';
import { runTool } from '../tools/tools.ts';
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

  it("admits the chart's `helm test` pod (templates/tests/readyz.yaml)", async () => {
    const rendered = runTool('helm', [
      'template',
      'tributary',
      CHART_DIR,
      '--namespace',
      namespace,
      '--show-only',
      'templates/tests/readyz.yaml',
    ]);
    expect(rendered.code, rendered.stderr).toBe(0);
    const created = await client.kubectl(['create', '--dry-run=server', '-f', '-'], {
      input: rendered.stdout,
    });
    expect(created.stderr).not.toContain('violates PodSecurity');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('pod/tributary-operator-test-readyz created (server dry run)');
  });
});
