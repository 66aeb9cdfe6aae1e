/**
 * The shipped FlowSchema on the real API server: once manifests/install.yaml is applied, a
 * request made with the operator ServiceAccount's token is classified by API Priority and
 * Fairness into the `tributary-operator` FlowSchema and the built-in `workload-high` priority
 * level (kube-controller-manager's), as the response headers say, while another
 * ServiceAccount's requests still fall to the built-in `service-accounts` schema.
 */
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_NAMESPACE } from '../../manifests/src/app.ts';
import { waitFor } from '../../dev/cluster/processes.ts';
import { installOperator } from '../../dev/cluster/operator.ts';
import { KubeApi } from '../../operator/lib/kube/api.ts';
import { cluster } from '../support/cluster.ts';

const client = cluster();
const admin = new KubeApi({ kubeConfig: client.kubeConfig });
const tls = new Agent({ connect: { ca: client.info.ca } });
const FLOWCONTROL = '/apis/flowcontrol.apiserver.k8s.io/v1';

beforeAll(async () => {
  await installOperator(client);
}, 180_000);

afterAll(async () => {
  await tls.close();
});

/** The uid of a flowcontrol object, read as admin. */
async function uidOf(resource: 'flowschemas' | 'prioritylevelconfigurations', name: string) {
  const object = await admin.request<{ metadata: { uid: string } }>({
    path: `${FLOWCONTROL}/${resource}/${name}`,
  });
  return object.metadata.uid;
}

/** The APF headers of a list of Integrations made with `token` (the operator may list them). */
async function classification(token: string): Promise<{ flowSchema: string; level: string }> {
  const response = await fetch(`${client.info.server}/apis/tributary.dev/v1alpha1/integrations`, {
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
    dispatcher: tls,
  });
  await response.arrayBuffer();
  return {
    flowSchema: response.headers.get('x-kubernetes-pf-flowschema-uid') ?? '',
    level: response.headers.get('x-kubernetes-pf-prioritylevel-uid') ?? '',
  };
}

describe('the FlowSchema of the install', () => {
  it("puts the operator ServiceAccount's requests at workload-high, kube-controller-manager's level", async () => {
    const flowSchema = await uidOf('flowschemas', 'tributary-operator');
    const level = await uidOf('prioritylevelconfigurations', 'workload-high');
    const token = await client.serviceAccountToken(OPERATOR_NAMESPACE, 'tributary-operator');
    // The API server's flow-control configuration picks a new FlowSchema up within seconds.
    const seen = await waitFor(
      'the operator request classified by the tributary-operator FlowSchema',
      async () => {
        const headers = await classification(token);
        return headers.flowSchema === flowSchema ? headers : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(seen).toEqual({ flowSchema, level });
  }, 60_000);

  it('leaves other ServiceAccounts to the built-in service-accounts schema', async () => {
    const serviceAccounts = await uidOf('flowschemas', 'service-accounts');
    const workloadLow = await uidOf('prioritylevelconfigurations', 'workload-low');
    const token = await client.serviceAccountToken(OPERATOR_NAMESPACE, 'tributary-intake');
    expect(await classification(token)).toEqual({
      flowSchema: serviceAccounts,
      level: workloadLow,
    });
  });
});
