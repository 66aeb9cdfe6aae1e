/**
 * The operator's identity and least-privilege RBAC, as a cdk8s construct: what the operator
 * needs and nothing more. Tests run the operator with exactly these rules.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';

/** One RBAC policy rule. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Props of {@link OperatorRbac}. */
export interface OperatorRbacProps {
  /** Namespace the operator runs in (ServiceAccount, Lease). */
  namespace: string;
  /** Name of the ServiceAccount, ClusterRole and bindings. Default `tributary-operator`. */
  name?: string;
  /** Name of the leader-election Lease. Default `tributary-operator`. */
  leaseName?: string;
  /** Labels on every object. */
  labels?: Record<string, string>;
  /** Name of the ServiceAccount the rules are bound to. Default: `name`. */
  serviceAccountName?: string;
  /** Create the ServiceAccount (false: it exists already). Default true. */
  createServiceAccount?: boolean;
  /** Annotations of the ServiceAccount, e.g. a cloud workload identity. Default none. */
  serviceAccountAnnotations?: Record<string, string>;
  /**
   * The namespaces the operator watches. Empty (default): a ClusterRole bound cluster-wide.
   * Otherwise a Role and RoleBinding in each, and nothing cluster-wide.
   */
  watchNamespaces?: readonly string[];
}

/** Rules where Integrations live: read the Tributary kinds, write their status, run Jobs, read pods. */
export const WATCH_RULES: readonly PolicyRule[] = [
  {
    apiGroups: ['tributary.dev'],
    resources: ['integrations', 'reconcilepolicies'],
    verbs: ['get', 'list', 'watch'],
  },
  {
    apiGroups: ['tributary.dev'],
    resources: ['integrations/status', 'reconcilepolicies/status'],
    verbs: ['get', 'update', 'patch'],
  },
  // Run Jobs are owned by their Integration (blockOwnerDeletion needs update on finalizers
  // where OwnerReferencesPermissionEnforcement is enabled).
  { apiGroups: ['tributary.dev'], resources: ['integrations/finalizers'], verbs: ['update'] },
  {
    apiGroups: ['batch'],
    resources: ['jobs'],
    verbs: ['get', 'list', 'watch', 'create', 'delete'],
  },
  // Pods: the result of a run is its pod's termination message.
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  // Secrets: a metadata-only GET to report a missing Secret by name; never list or watch.
  { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];

/** Rules in the operator's own namespace: the leader-election Lease. */
export function leaseRules(leaseName: string): PolicyRule[] {
  return [
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    {
      apiGroups: ['coordination.k8s.io'],
      resources: ['leases'],
      verbs: ['get', 'update'],
      resourceNames: [leaseName],
    },
  ];
}

/**
 * ServiceAccount; {@link WATCH_RULES} as a ClusterRole + binding, or as a Role + binding in each
 * watched namespace; and a Role + binding for the Lease in the operator's namespace.
 */
export class OperatorRbac extends Construct {
  /** Name of the ServiceAccount. */
  readonly serviceAccountName: string;

  constructor(scope: Construct, id: string, props: OperatorRbacProps) {
    super(scope, id);
    const name = props.name ?? 'tributary-operator';
    const { namespace } = props;
    const labels = props.labels ?? {};
    const account = props.serviceAccountName ?? name;
    this.serviceAccountName = account;
    const subject = { kind: 'ServiceAccount', name: account, namespace };

    if (props.createServiceAccount ?? true) {
      const annotations = props.serviceAccountAnnotations ?? {};
      new ApiObject(this, 'service-account', {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: {
          name: account,
          namespace,
          labels,
          ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
        },
      });
    }
    const watched = props.watchNamespaces ?? [];
    if (watched.length === 0) {
      new ApiObject(this, 'cluster-role', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name, labels },
        rules: WATCH_RULES,
      });
      new ApiObject(this, 'cluster-role-binding', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects: [subject],
      });
    }
    for (const watchedNamespace of watched) {
      const metadata = { name, namespace: watchedNamespace, labels };
      new ApiObject(this, `role-${watchedNamespace}`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata,
        rules: WATCH_RULES,
      });
      new ApiObject(this, `role-binding-${watchedNamespace}`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata,
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [subject],
      });
    }
    new ApiObject(this, 'lease-role', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: `${name}-leader-election`, namespace, labels },
      rules: leaseRules(props.leaseName ?? 'tributary-operator'),
    });
    new ApiObject(this, 'lease-role-binding', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${name}-leader-election`, namespace, labels },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: `${name}-leader-election`,
      },
      subjects: [subject],
    });
  }
}
