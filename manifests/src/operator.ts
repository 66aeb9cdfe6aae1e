/**
 * The operator's workload as a cdk8s construct: the Deployment (replicas with leader election,
 * probes, resources, the restricted security context, topology spread), the metrics Service, the
 * PodDisruptionBudget and the NetworkPolicy. The Helm chart's templates render the same objects
 * from the same values (a test compares them).
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { InstallValues } from './values.ts';

/** Props of {@link OperatorWorkload}. */
export interface OperatorWorkloadProps {
  /** Name of the Deployment, ServiceAccount and Lease. */
  name: string;
  namespace: string;
  /** Image reference `repository:tag` of the operator and the built-in connector. */
  image: string;
  /** Labels on every object. */
  labels: Record<string, string>;
  /** Labels that select the operator pods (a subset of `labels`, stable across upgrades). */
  selector: Record<string, string>;
  values: InstallValues;
}

/** Deployment, metrics Service, PodDisruptionBudget and NetworkPolicy of the operator. */
export class OperatorWorkload extends Construct {
  constructor(scope: Construct, id: string, props: OperatorWorkloadProps) {
    super(scope, id);
    const { name, namespace, labels, selector, values } = props;
    const port = values.metrics.port;
    const metadata = (suffix = '') => ({ name: name + suffix, namespace, labels });

    new ApiObject(this, 'deployment', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: metadata(),
      spec: {
        replicas: values.replicas,
        selector: { matchLabels: selector },
        // One replica leads; a new one must be Ready (caches synced) before an old one goes.
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: {
            labels: { ...labels, ...values.podLabels },
            ...(nonEmpty(values.podAnnotations) ? { annotations: values.podAnnotations } : {}),
          },
          spec: podSpec(props, port),
        },
      },
    });

    new ApiObject(this, 'metrics-service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadata('-metrics'),
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{ name: 'metrics', port, targetPort: 'metrics', protocol: 'TCP' }],
      },
    });

    // With one replica, minAvailable: 1 would block every node drain.
    if (values.podDisruptionBudget.enabled && values.replicas > 1) {
      new ApiObject(this, 'pdb', {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: metadata(),
        spec: { minAvailable: 1, selector: { matchLabels: selector } },
      });
    }

    if (values.networkPolicy.enabled) {
      // Ingress only to the metrics port (scrapes; kubelet probes are not subject to policies).
      // Egress stays open: the API server and the DNS server have no portable selector.
      new ApiObject(this, 'network-policy', {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: metadata(),
        spec: {
          podSelector: { matchLabels: selector },
          policyTypes: ['Ingress'],
          ingress: [{ ports: [{ protocol: 'TCP', port }] }],
        },
      });
    }
  }
}

function podSpec(props: OperatorWorkloadProps, port: number): Record<string, unknown> {
  const { name, image, selector, values } = props;
  // apiVersion spelled out: the API server defaults it, and fieldRef is atomic, so leaving it out
  // makes a second server-side applier (Helm, Argo CD) conflict with the first.
  const fieldRef = (fieldPath: string) => ({
    valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } },
  });
  // Absent rather than empty when every namespace is watched (an empty value is not stored).
  const watch = values.watchNamespaces.join(',');
  return {
    serviceAccountName: values.serviceAccount.name || name,
    ...(values.imagePullSecrets.length > 0 ? { imagePullSecrets: values.imagePullSecrets } : {}),
    ...(values.priorityClassName ? { priorityClassName: values.priorityClassName } : {}),
    securityContext: values.podSecurityContext,
    // The Lease is released on SIGTERM; a graceful stop takes well under this.
    terminationGracePeriodSeconds: 30,
    containers: [
      {
        name: 'operator',
        image,
        imagePullPolicy: values.image.pullPolicy,
        args: ['operator'],
        env: [
          { name: 'POD_NAMESPACE', ...fieldRef('metadata.namespace') },
          { name: 'POD_NAME', ...fieldRef('metadata.name') },
          { name: 'LEASE_NAME', value: name },
          { name: 'TRIBUTARY_IMAGE', value: image },
          ...(watch ? [{ name: 'WATCH_NAMESPACE', value: watch }] : []),
          { name: 'METRICS_PORT', value: String(port) },
          { name: 'LOG_LEVEL', value: values.logLevel },
          { name: 'WORKERS', value: String(values.workers) },
          { name: 'KUBE_API_QPS', value: String(values.kubeApi.qps) },
          { name: 'KUBE_API_BURST', value: String(values.kubeApi.burst) },
          ...values.extraEnv,
        ],
        ports: [{ name: 'metrics', containerPort: port, protocol: 'TCP' }],
        livenessProbe: {
          httpGet: { path: '/healthz', port: 'metrics' },
          periodSeconds: 10,
          timeoutSeconds: 5,
          failureThreshold: 3,
        },
        readinessProbe: {
          httpGet: { path: '/readyz', port: 'metrics' },
          periodSeconds: 5,
          timeoutSeconds: 5,
          failureThreshold: 3,
        },
        resources: values.resources,
        securityContext: values.securityContext,
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      },
    ],
    volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: selector },
      },
    ],
    ...(nonEmpty(values.nodeSelector) ? { nodeSelector: values.nodeSelector } : {}),
    ...(values.tolerations.length > 0 ? { tolerations: values.tolerations } : {}),
    ...(nonEmpty(values.affinity) ? { affinity: values.affinity } : {}),
  };
}

function nonEmpty(map: Record<string, unknown>): boolean {
  return Object.keys(map).length > 0;
}
