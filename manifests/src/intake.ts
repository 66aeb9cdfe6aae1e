/**
 * The webhook intake's workload as a cdk8s construct: the StatefulSet (`tributary intake`, the
 * restricted security context, probes, a volume per replica with the SQLite store), the hooks
 * Service (for the Ingress the user adds), the headless metrics Service that governs the
 * StatefulSet, the PodDisruptionBudget and the NetworkPolicy. The Helm chart's templates render
 * the same objects from the same values (a test compares them).
 */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { InstallValues } from './values.ts';

/** Labels every Tributary Job's pods carry (operator/controller/plan/job.ts). */
export const RUN_POD_LABELS = { 'app.kubernetes.io/managed-by': 'tributary' } as const;

/** Where the SQLite inbox lives in the intake container (`--data-dir`). */
export const INTAKE_DATA_DIR = '/var/lib/tributary-intake';

/** Props of {@link IntakeWorkload}. */
export interface IntakeWorkloadProps {
  /** Name of the StatefulSet, ServiceAccount and hooks Service. */
  name: string;
  namespace: string;
  /** The operator's image `repository:tag`: the intake is a command of the same image. */
  image: string;
  /** Labels on every object. */
  labels: Record<string, string>;
  /** Labels that select the intake pods (a subset of `labels`). */
  selector: Record<string, string>;
  /** Labels that select the operator pods: they read every replica's `/stats`. */
  operatorSelector: Record<string, string>;
  values: InstallValues;
}

/** StatefulSet, Services, PodDisruptionBudget and NetworkPolicy of the intake. */
export class IntakeWorkload extends Construct {
  constructor(scope: Construct, id: string, props: IntakeWorkloadProps) {
    super(scope, id);
    const { name, namespace, labels, selector, values } = props;
    const intake = values.intake;
    const metadata = (suffix = '') => ({ name: name + suffix, namespace, labels });

    new ApiObject(this, 'stateful-set', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: metadata(),
      spec: {
        replicas: intake.replicas,
        serviceName: `${name}-metrics`,
        // Replicas are peers (no ordinal matters): start and replace them all at once.
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: selector },
        template: {
          metadata: {
            labels,
            ...(nonEmpty(values.podAnnotations) ? { annotations: values.podAnnotations } : {}),
          },
          spec: intakePodSpec(props),
        },
        ...(intake.store === 'sqlite' ? { volumeClaimTemplates: [claimTemplate(values)] } : {}),
      },
    });

    new ApiObject(this, 'service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadata(),
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{ name: 'hooks', port: intake.service.port, targetPort: 'hooks', protocol: 'TCP' }],
      },
    });

    // Headless: it governs the StatefulSet (a DNS name per replica) and is what a ServiceMonitor
    // selects; the operator and the run pods call each replica's /stats by pod IP.
    new ApiObject(this, 'metrics-service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadata('-metrics'),
      spec: {
        clusterIP: 'None',
        selector,
        ports: [
          { name: 'metrics', port: intake.metricsPort, targetPort: 'metrics', protocol: 'TCP' },
        ],
      },
    });

    // With one replica a minAvailable of 1 would block every node drain: no budget then.
    if (values.podDisruptionBudget.enabled && intake.replicas > 1) {
      new ApiObject(this, 'pdb', {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: metadata(),
        spec: { minAvailable: 1, selector: { matchLabels: selector } },
      });
    }

    if (values.networkPolicy.enabled) {
      new ApiObject(this, 'network-policy', {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: metadata(),
        spec: intakeNetworkPolicySpec(props),
      });
    }
  }
}

/**
 * Ingress: the hooks port from anyone (or `intake.networkPolicy.hooksFrom`); the metrics port
 * from the operator pods, from run pods in any namespace (gap detection reads /stats) and from
 * `intake.networkPolicy.metricsFrom` (Prometheus). Egress stays open, as the operator's: the API
 * server and DNS have no portable selector, and fetch mode and destination writes go wherever
 * the Integrations say.
 */
export function intakeNetworkPolicySpec(props: IntakeWorkloadProps): Record<string, unknown> {
  const { selector, operatorSelector, values } = props;
  const { port, metricsPort, networkPolicy } = values.intake;
  const hooks: Record<string, unknown> = { ports: [{ protocol: 'TCP', port }] };
  if (networkPolicy.hooksFrom.length > 0) hooks.from = networkPolicy.hooksFrom;
  return {
    podSelector: { matchLabels: selector },
    policyTypes: ['Ingress'],
    ingress: [
      hooks,
      {
        from: [
          { podSelector: { matchLabels: operatorSelector } },
          { namespaceSelector: {}, podSelector: { matchLabels: RUN_POD_LABELS } },
          ...networkPolicy.metricsFrom,
        ],
        ports: [{ protocol: 'TCP', port: metricsPort }],
      },
    ],
  };
}

function claimTemplate(values: InstallValues): Record<string, unknown> {
  const { size, storageClassName } = values.intake.sqlite;
  // No labels: a StatefulSet's claim templates are immutable, and labels change on upgrade.
  // What the API server defaults is spelled out: the list is atomic, so a defaulted field makes
  // a second server-side applier (Helm, Argo CD) conflict with the first.
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data' },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(storageClassName ? { storageClassName } : {}),
      volumeMode: 'Filesystem',
      resources: { requests: { storage: size } },
    },
    status: { phase: 'Pending' },
  };
}

function intakePodSpec(props: IntakeWorkloadProps): Record<string, unknown> {
  const { name, selector, values } = props;
  return {
    serviceAccountName: name,
    ...(values.imagePullSecrets.length > 0 ? { imagePullSecrets: values.imagePullSecrets } : {}),
    ...(values.priorityClassName ? { priorityClassName: values.priorityClassName } : {}),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      // The volume's files belong to the intake's group, so the non-root process can write.
      fsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    // SIGTERM: stop accepting, finish in-flight requests (each is acknowledged only once
    // stored), release claimed deliveries. A sender's timeout is seconds (Shopify's 5 s).
    terminationGracePeriodSeconds: values.intake.terminationGracePeriodSeconds,
    containers: [intakeContainer(props)],
    volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              topologyKey: 'kubernetes.io/hostname',
              labelSelector: { matchLabels: selector },
            },
          },
        ],
      },
    },
    ...(nonEmpty(values.nodeSelector) ? { nodeSelector: values.nodeSelector } : {}),
    ...(values.tolerations.length > 0 ? { tolerations: values.tolerations } : {}),
  };
}

function intakeContainer(props: IntakeWorkloadProps): Record<string, unknown> {
  const { image, values } = props;
  const intake = values.intake;
  const sqlite = intake.store === 'sqlite';
  return {
    name: 'intake',
    image,
    imagePullPolicy: values.image.pullPolicy,
    args: ['intake'],
    env: intakeEnv(values),
    ports: [
      { name: 'hooks', containerPort: intake.port, protocol: 'TCP' },
      { name: 'metrics', containerPort: intake.metricsPort, protocol: 'TCP' },
    ],
    livenessProbe: {
      httpGet: { path: '/healthz', port: 'metrics' },
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
    },
    // 503 while the store is unavailable: the Service stops sending deliveries here.
    readinessProbe: {
      httpGet: { path: '/readyz', port: 'metrics' },
      periodSeconds: 5,
      timeoutSeconds: 5,
      failureThreshold: 2,
    },
    resources: intake.resources,
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      ...(sqlite ? [{ name: 'data', mountPath: INTAKE_DATA_DIR }] : []),
    ],
  };
}

/** The intake's command line, as the environment variables `tributary intake` reads. */
function intakeEnv(values: InstallValues): Record<string, unknown>[] {
  const intake = values.intake;
  const fieldRef = (fieldPath: string) => ({
    valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } },
  });
  const watch = values.watchNamespaces.join(',');
  const store =
    intake.store === 'sqlite'
      ? [{ name: 'INTAKE_DATA_DIR', value: INTAKE_DATA_DIR }]
      : [
          { name: 'NATS_URL', value: intake.jetstream.url },
          { name: 'NATS_STREAM', value: intake.jetstream.stream },
        ];
  return [
    { name: 'POD_NAMESPACE', ...fieldRef('metadata.namespace') },
    { name: 'POD_NAME', ...fieldRef('metadata.name') },
    { name: 'INTAKE_PORT', value: String(intake.port) },
    { name: 'METRICS_PORT', value: String(intake.metricsPort) },
    { name: 'INTAKE_STORE', value: intake.store },
    ...store,
    ...(watch ? [{ name: 'WATCH_NAMESPACE', value: watch }] : []),
    { name: 'WORKERS', value: String(intake.workers) },
    { name: 'INTAKE_MAX_BODY_BYTES', value: String(intake.maxBodyBytes) },
    { name: 'LOG_LEVEL', value: values.logLevel },
  ];
}

function nonEmpty(map: Record<string, string>): boolean {
  return Object.keys(map).length > 0;
}
