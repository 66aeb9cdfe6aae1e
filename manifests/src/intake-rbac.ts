/**
 * The webhook intake's identity and least-privilege RBAC, as a cdk8s construct: read
 * Integrations (the route's webhook spec), and `get` the Secrets an Integration names, one by
 * name; nothing else. Plus the one thing the operator needs for the intake that its own rules
 * may not give: listing the intake pods in its own namespace (to read each replica's /stats).
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { PolicyRule } from './rbac.ts';

/**
 * What the intake may do where Integrations live. Secrets: `get` only, by the names an
 * Integration gives (webhook signing secrets; in fetch mode the source credentials; the
 * destination credentials); never list or watch, so it never holds a namespace's Secrets.
 */
export const INTAKE_RULES: readonly PolicyRule[] = [
  { apiGroups: ['tributary.dev'], resources: ['integrations'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
];

/** In the operator's namespace: find the intake replicas whose /stats it reads. */
export const INTAKE_DISCOVERY_RULES: readonly PolicyRule[] = [
  { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
];

/** Props of {@link IntakeRbac}. */
export interface IntakeRbacProps {
  /** Namespace of the intake (and of the operator). */
  namespace: string;
  /** Name of the intake's ServiceAccount, ClusterRole and bindings. */
  name: string;
  /** Name prefix of the operator's Roles. */
  operatorName: string;
  /** The operator's ServiceAccount. Default: `operatorName`. */
  operatorServiceAccount?: string;
  labels: Record<string, string>;
  /** Empty: a ClusterRole bound cluster-wide. Otherwise a Role and RoleBinding in each. */
  watchNamespaces: readonly string[];
}

const RBAC = 'rbac.authorization.k8s.io';

/**
 * ServiceAccount; {@link INTAKE_RULES} cluster-wide or in each watched namespace; and, when the
 * operator watches some namespaces only (so its rules do not reach its own), a Role letting it
 * list pods in its namespace.
 */
export class IntakeRbac extends Construct {
  constructor(scope: Construct, id: string, props: IntakeRbacProps) {
    super(scope, id);
    const { name, namespace, labels, operatorName } = props;
    const subject = { kind: 'ServiceAccount', name, namespace };
    new ApiObject(this, 'service-account', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, namespace, labels },
    });
    if (props.watchNamespaces.length === 0) {
      this.#grant('cluster', 'Cluster', { name, labels }, INTAKE_RULES, subject);
    }
    for (const watched of props.watchNamespaces) {
      this.#grant(watched, '', { name, namespace: watched, labels }, INTAKE_RULES, subject);
    }
    if (props.watchNamespaces.length > 0) {
      const metadata = { name: `${operatorName}-intake-discovery`, namespace, labels };
      const account = props.operatorServiceAccount ?? operatorName;
      const operator = { kind: 'ServiceAccount', name: account, namespace };
      this.#grant('discovery', '', metadata, INTAKE_DISCOVERY_RULES, operator);
    }
  }

  #grant(
    id: string,
    scope: 'Cluster' | '',
    metadata: { name: string; namespace?: string; labels: Record<string, string> },
    rules: readonly PolicyRule[],
    subject: Record<string, string>,
  ): void {
    const role = `${scope}Role`;
    new ApiObject(this, `${id}-role`, { apiVersion: `${RBAC}/v1`, kind: role, metadata, rules });
    new ApiObject(this, `${id}-binding`, {
      apiVersion: `${RBAC}/v1`,
      kind: `${role}Binding`,
      metadata,
      roleRef: { apiGroup: RBAC, kind: role, name: metadata.name },
      subjects: [subject],
    });
  }
}
