/**
 * Tenancy on a real API server: the install's aggregated ClusterRoles (tributary-edit,
 * tributary-view) fill the built-in admin/edit/view roles, so a namespace user bound only to the
 * built-in `edit` ClusterRole creates Integrations and ReconcilePolicies, one bound to `view`
 * reads them, and neither writes their status (the operator's).
 */
import { applyCrds } from '../../dev/cluster/operator.ts';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { waitFor } from '../../dev/cluster/processes.ts';
import { installObjects } from '../../manifests/src/app.ts';
import { TENANT_EDIT_ROLE, TENANT_VIEW_ROLE } from '../../manifests/src/tenant-roles.ts';
import { example } from '../fixtures/manifests.ts';
import { cluster, createNamespace } from '../support/cluster.ts';

const client = cluster();
const rbac = client.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
let namespace: string;

/** A ServiceAccount in the test namespace bound there to the built-in ClusterRole `role`. */
async function userBoundTo(role: 'edit' | 'view'): Promise<string> {
  const name = `team-${role}`;
  await client.kubectl(['create', 'serviceaccount', name, '-n', namespace]);
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  return client.serviceAccountToken(namespace, name);
}

/** `kubectl create` of `object` in the test namespace as the holder of `token`. */
const createAs = (token: string, object: unknown) =>
  client.kubectl(['create', '-n', namespace, '-f', '-'], { token, input: stringify(object) });

const tenantRoles = () =>
  installObjects().filter(
    (o) =>
      o.kind === 'ClusterRole' &&
      [TENANT_EDIT_ROLE, TENANT_VIEW_ROLE].includes((o.metadata as { name: string }).name),
  );

/** Whether the built-in role `role` has gained a rule on the Tributary kinds. */
async function aggregated(role: 'admin' | 'edit' | 'view'): Promise<boolean> {
  const found = await rbac.readClusterRole({ name: role });
  return (found.rules ?? []).some((rule) => rule.apiGroups?.includes('tributary.dev'));
}

let editor: string;
let viewer: string;

beforeAll(async () => {
  await applyCrds(client);
  namespace = await createNamespace(client, 'tenancy');
  [editor, viewer] = await Promise.all([userBoundTo('edit'), userBoundTo('view')]);
});

describe('tenancy: the aggregated ClusterRoles', () => {
  it('an edit user is refused Integrations until tributary-edit exists, then creates them', async () => {
    // Before the install's roles (another file may have applied the install: remove them), the
    // built-in edit role knows nothing of tributary.dev.
    const names = [TENANT_EDIT_ROLE, TENANT_VIEW_ROLE];
    await client.kubectl(['delete', 'clusterrole', ...names, '--ignore-not-found']);
    await waitFor('the built-in edit role without tributary.dev', async () =>
      (await aggregated('edit')) ? undefined : true,
    );
    const refused = await createAs(editor, example('Integration', 'carrier-shipments'));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('forbidden');

    const roles = await client.kubectl(['apply', '--server-side', '-f', '-'], {
      input: tenantRoles()
        .map((o) => stringify(o))
        .join('---\n'),
    });
    expect(roles.code, roles.stderr).toBe(0);
    for (const role of ['admin', 'edit', 'view'] as const) {
      await waitFor(`the built-in ${role} role aggregating tributary.dev`, async () =>
        (await aggregated(role)) ? true : undefined,
      );
    }

    const policy = await createAs(editor, example('ReconcilePolicy', 'standard'));
    expect(policy.code, policy.stderr).toBe(0);
    const integration = await createAs(editor, example('Integration', 'carrier-shipments'));
    expect(integration.code, integration.stderr).toBe(0);
    expect(integration.stdout).toContain('integration.tributary.dev/carrier-shipments created');
  });

  it('the edit user may not write status, which is the operator’s', async () => {
    const patched = await client.kubectl(
      [
        'patch',
        'integration',
        'carrier-shipments',
        '-n',
        namespace,
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"observedGeneration":99}}',
      ],
      { token: editor },
    );
    expect(patched.code).not.toBe(0);
    expect(patched.stderr).toContain('forbidden');
  });

  it('a view user reads Integrations and ReconcilePolicies and may not create them', async () => {
    const listed = await client.kubectl(
      ['get', 'integrations,reconcilepolicies', '-n', namespace, '-o', 'name'],
      { token: viewer },
    );
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('integration.tributary.dev/carrier-shipments');
    expect(listed.stdout).toContain('reconcilepolicy.tributary.dev/standard');
    const created = await createAs(viewer, example('ReconcilePolicy', 'nightly'));
    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain('forbidden');
  });
});
