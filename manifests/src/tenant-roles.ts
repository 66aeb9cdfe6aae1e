/**
 * The tenants' side of the RBAC, as a cdk8s construct: `tributary-edit` and `tributary-view`
 * ClusterRoles carrying the aggregation labels of the built-in user-facing roles, so whoever is
 * bound to `admin` or `edit` in a namespace may manage its Integrations and ReconcilePolicies, and
 * whoever is bound to `view` may read them. Status stays the operator's to write.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { PolicyRule } from './rbac.ts';

/** Name of the ClusterRole that aggregates into the built-in `admin` and `edit`. */
export const TENANT_EDIT_ROLE = 'tributary-edit';
/** Name of the ClusterRole that aggregates into the built-in `view`. */
export const TENANT_VIEW_ROLE = 'tributary-view';

const KINDS = ['integrations', 'reconcilepolicies'];
const STATUS = ['integrations/status', 'reconcilepolicies/status'];
const AGGREGATE = 'rbac.authorization.k8s.io/aggregate-to-';

/** What `edit` and `admin` gain: every verb on the Tributary kinds, read-only status. */
export const TENANT_EDIT_RULES: readonly PolicyRule[] = [
  {
    apiGroups: ['tributary.dev'],
    resources: KINDS,
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  },
  { apiGroups: ['tributary.dev'], resources: STATUS, verbs: ['get'] },
];

/** What `view` gains: reading the Tributary kinds and their status. */
export const TENANT_VIEW_RULES: readonly PolicyRule[] = [
  {
    apiGroups: ['tributary.dev'],
    resources: [...KINDS, ...STATUS],
    verbs: ['get', 'list', 'watch'],
  },
];

/** Props of {@link TenantRoles}. */
export interface TenantRolesProps {
  /** Labels on both ClusterRoles, besides the aggregation labels. */
  labels: Record<string, string>;
}

/** The aggregated ClusterRoles `tributary-edit` (into admin, edit) and `tributary-view` (into view). */
export class TenantRoles extends Construct {
  constructor(scope: Construct, id: string, props: TenantRolesProps) {
    super(scope, id);
    const role = (name: string, aggregateTo: string[], rules: readonly PolicyRule[]) => {
      const aggregation = Object.fromEntries(aggregateTo.map((to) => [AGGREGATE + to, 'true']));
      new ApiObject(this, name, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name, labels: { ...props.labels, ...aggregation } },
        rules,
      });
    };
    role(TENANT_EDIT_ROLE, ['admin', 'edit'], TENANT_EDIT_RULES);
    role(TENANT_VIEW_ROLE, ['view'], TENANT_VIEW_RULES);
  }
}
