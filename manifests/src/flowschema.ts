/**
 * The operator's FlowSchema (API Priority and Fairness), as a cdk8s construct: the operator's
 * requests go to the priority level where kube-controller-manager's own go (`workload-high`)
 * rather than the one the built-in `service-accounts` schema (precedence 9000) gives every
 * ServiceAccount (`workload-low`), so at scale the operator is queued like the CronJob
 * controller it stands beside, not behind every other workload's client.
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';

/** Props of {@link OperatorFlowSchema}. */
export interface OperatorFlowSchemaProps {
  /** Name of the FlowSchema. Required. */
  name: string;
  /** The operator's ServiceAccount, which it matches. Default: `name`. */
  serviceAccountName?: string;
  /** Namespace of the ServiceAccount. Required. */
  namespace: string;
  /** The PriorityLevelConfiguration to send to, e.g. `workload-high`. Required. */
  priorityLevel: string;
  /** Where it is matched among FlowSchemas, lower first; below 9000 (`service-accounts`). Required. */
  matchingPrecedence: number;
  /** Labels of the object. */
  labels?: Record<string, string>;
}

/** A `flowcontrol.apiserver.k8s.io/v1` FlowSchema for every request of the operator's ServiceAccount. */
export class OperatorFlowSchema extends Construct {
  constructor(scope: Construct, id: string, props: OperatorFlowSchemaProps) {
    super(scope, id);
    const { name, namespace } = props;
    new ApiObject(this, 'flow-schema', {
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
      kind: 'FlowSchema',
      metadata: { name, labels: props.labels ?? {} },
      spec: {
        priorityLevelConfiguration: { name: props.priorityLevel },
        matchingPrecedence: props.matchingPrecedence,
        // One flow per user: the operator's replicas share one ServiceAccount, so one flow.
        distinguisherMethod: { type: 'ByUser' },
        rules: [
          {
            subjects: [
              {
                kind: 'ServiceAccount',
                serviceAccount: { name: props.serviceAccountName ?? name, namespace },
              },
            ],
            resourceRules: [
              {
                verbs: ['*'],
                apiGroups: ['*'],
                resources: ['*'],
                namespaces: ['*'],
                clusterScope: true,
              },
            ],
            nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
          },
        ],
      },
    });
  }
}
