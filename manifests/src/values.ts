/**
 * The install's settings, defined once: they are the Helm chart's values (values.schema.json is
 * rendered from this schema) and the options of the cdk8s app that renders `manifests/`. A test
 * renders the chart and the app with the same values and compares the objects.
 */
import { z } from 'zod';
import { DNS_LABEL } from '../../operator/api/formats.ts';

const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;

const labelMap = (what: string) =>
  z.record(z.string().max(317), z.string().max(63)).default({}).describe(what);

const quantities = z
  .strictObject({
    cpu: z.string().regex(QUANTITY).optional().describe('CPU, e.g. `100m`.'),
    memory: z.string().regex(QUANTITY).optional().describe('Memory, e.g. `128Mi`.'),
  })
  .default({});

const Toleration = z.strictObject({
  key: z.string().max(317).optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().max(63).optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  tolerationSeconds: z.int().optional(),
});

const LabelSelector = z.strictObject({
  matchLabels: z.record(z.string().max(317), z.string().max(63)).optional(),
  matchExpressions: z
    .array(
      z.strictObject({
        key: z.string().max(317),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string().max(63)).optional(),
      }),
    )
    .optional(),
});

/** A NetworkPolicy peer, as `networking.k8s.io/v1` spells it. */
const NetworkPolicyPeer = z.strictObject({
  ipBlock: z
    .strictObject({ cidr: z.string().max(64), except: z.array(z.string().max(64)).optional() })
    .optional(),
  namespaceSelector: LabelSelector.optional(),
  podSelector: LabelSelector.optional(),
});

const port = (fallback: number, what: string) =>
  z.int().min(1024).max(65535).default(fallback).describe(what);

const IntakeValues = z.strictObject({
  enabled: z.boolean().default(true).describe('Run the webhook intake (`tributary intake`).'),
  replicas: z
    .int()
    .min(1)
    .max(20)
    .default(2)
    .describe('Intake replicas; each takes deliveries (no leader). 1 gets no PodDisruptionBudget.'),
  store: z
    .enum(['sqlite', 'jetstream'])
    .default('sqlite')
    .describe(
      'Where deliveries are stored before the 2xx: `sqlite` (a PersistentVolumeClaim per ' +
        'replica) or `jetstream` (a NATS JetStream stream; no volume).',
    ),
  port: port(8090, 'Port of POST /hooks/{namespace}/{name} (plain HTTP; TLS ends at the Ingress).'),
  metricsPort: port(8081, 'Port of /healthz, /readyz, /metrics and GET /stats.'),
  service: z
    .strictObject({
      port: z.int().min(1).max(65535).default(80).describe('Port of the hooks Service.'),
    })
    .default({ port: 80 }),
  workers: z.int().min(1).max(64).default(4).describe('Deliveries applied at once, per replica.'),
  maxBodyBytes: z
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024)
    .describe('Largest request body accepted (413 above).'),
  sqlite: z
    .strictObject({
      size: z.string().regex(QUANTITY).default('1Gi').describe('Size of each replica volume.'),
      storageClassName: z
        .string()
        .max(253)
        .default('')
        .describe("StorageClass of the volumes. Default: the cluster's default class."),
    })
    .default({ size: '1Gi', storageClassName: '' }),
  jetstream: z
    .strictObject({
      url: z
        .string()
        .max(2048)
        .default('')
        .describe(
          'NATS servers, `nats://host:4222[,nats://...]`; required with `store: jetstream`.',
        ),
      stream: z.string().max(255).default('TRIBUTARY_WEBHOOKS').describe('JetStream stream.'),
    })
    .default({ url: '', stream: 'TRIBUTARY_WEBHOOKS' }),
  resources: z
    .strictObject({ requests: quantities, limits: quantities })
    .default({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } })
    .describe('Resources of the intake container.'),
  terminationGracePeriodSeconds: z
    .int()
    .min(5)
    .max(600)
    .default(30)
    .describe('Time to finish in-flight requests and claimed deliveries after SIGTERM.'),
  networkPolicy: z
    .strictObject({
      hooksFrom: z
        .array(NetworkPolicyPeer)
        .default([])
        .describe('Who may reach the hooks port. Default (empty): anyone (the senders).'),
      metricsFrom: z
        .array(NetworkPolicyPeer)
        .default([
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
        ])
        .describe(
          'Who else may reach the metrics port, besides the operator and run pods: Prometheus.',
        ),
    })
    .default({
      hooksFrom: [],
      metricsFrom: [
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
      ],
    }),
});

/** Settings of the webhook intake (`intake.*`). */
export type IntakeValues = z.output<typeof IntakeValues>;

/** Settings of a Tributary install: the Helm chart's values. */
export const InstallValues = z
  .strictObject({
    fullnameOverride: z
      .string()
      .max(50)
      .regex(DNS_LABEL)
      .or(z.literal(''))
      .default('')
      .describe(
        'Name of the operator objects (ServiceAccount, ClusterRole, Deployment, Lease, ...). ' +
          'Default: `<release>-operator`.',
      ),
    image: z
      .strictObject({
        repository: z
          .string()
          .min(1)
          .max(200)
          .default('ghcr.io/tributary-dev/tributary')
          .describe('Image of the operator, also used for the built-in connector Jobs.'),
        tag: z
          .string()
          .max(128)
          .default('')
          .describe("Image tag. Default: the chart's appVersion."),
        pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
      })
      .default({
        repository: 'ghcr.io/tributary-dev/tributary',
        tag: '',
        pullPolicy: 'IfNotPresent',
      }),
    imagePullSecrets: z
      .array(z.strictObject({ name: z.string().regex(DNS_LABEL) }))
      .default([])
      .describe(
        'Secrets for pulling the image, for the operator and intake pods (the sync Jobs do not inherit them).',
      ),
    replicas: z
      .int()
      .min(1)
      .max(10)
      .default(2)
      .describe('Operator replicas. One leads (a Lease); the others stand by with warm caches.'),
    watchNamespaces: z
      .array(z.string().max(63).regex(DNS_LABEL))
      .max(100)
      .default([])
      .describe(
        'Watch Integrations in these namespaces only, with a Role in each instead of a ' +
          'ClusterRole. Default (empty): every namespace.',
      ),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
    workers: z.int().min(1).max(64).default(4).describe('Concurrent Integration reconciles.'),
    kubeApi: z
      .strictObject({
        qps: z
          .number()
          .positive()
          .max(100_000)
          .default(50)
          .describe('Sustained requests per second to the API server (`--kube-api-qps`).'),
        burst: z
          .int()
          .min(1)
          .max(100_000)
          .default(300)
          .describe('Requests to the API server at once after idling (`--kube-api-burst`).'),
      })
      .default({ qps: 50, burst: 300 })
      .describe(
        "The operator's client request budget toward the API server, as kube-controller-manager's flags.",
      ),
    flowSchema: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            "Create a FlowSchema (API Priority and Fairness) for the operator's ServiceAccount.",
          ),
        priorityLevel: z
          .string()
          .max(253)
          .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
          .default('workload-high')
          .describe(
            "The PriorityLevelConfiguration its requests go to: kube-controller-manager's by default.",
          ),
        matchingPrecedence: z
          .int()
          .min(1)
          .max(8999)
          .default(800)
          .describe('Lower is matched first; below the built-in service-accounts schema (9000).'),
      })
      .default({ enabled: true, priorityLevel: 'workload-high', matchingPrecedence: 800 })
      .describe(
        "Send the operator's requests to the priority level of kube-controller-manager instead of " +
          'the workload-low level every ServiceAccount gets (needs rights to create FlowSchemas).',
      ),
    resources: z
      .strictObject({ requests: quantities, limits: quantities })
      .default({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } })
      .describe('Resources of the operator container.'),
    metrics: z
      .strictObject({
        port: z.int().min(1024).max(65535).default(8080).describe('Port of /metrics and probes.'),
        serviceMonitor: z
          .strictObject({
            enabled: z
              .boolean()
              .default(false)
              .describe('Create a Prometheus Operator ServiceMonitor.'),
            interval: z
              .string()
              .regex(/^[0-9]+[smh]$/)
              .default('30s'),
            labels: labelMap('Extra labels, e.g. the one your Prometheus selects monitors by.'),
          })
          .default({ enabled: false, interval: '30s', labels: {} }),
      })
      .default({ port: 8080, serviceMonitor: { enabled: false, interval: '30s', labels: {} } }),
    prometheusRule: z
      .strictObject({
        enabled: z.boolean().default(false).describe('Create a PrometheusRule with the alerts.'),
        labels: labelMap('Extra labels, e.g. the one your Prometheus selects rules by.'),
      })
      .default({ enabled: false, labels: {} }),
    grafanaDashboard: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe('Create a ConfigMap holding the Grafana dashboard, for the Grafana sidecar.'),
        labels: z
          .record(z.string().max(317), z.string().max(63))
          .default({ grafana_dashboard: '1' })
          .describe('Labels the Grafana sidecar selects dashboards by.'),
      })
      .default({ enabled: false, labels: { grafana_dashboard: '1' } }),
    networkPolicy: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe('Deny ingress to the operator pods except to the metrics port.'),
      })
      .default({ enabled: true }),
    podDisruptionBudget: z
      .strictObject({ enabled: z.boolean().default(true) })
      .default({ enabled: true })
      .describe('Keep at least one replica through voluntary disruptions (needs replicas ≥ 2).'),
    commonLabels: labelMap('Extra labels on every object.'),
    podAnnotations: z
      .record(z.string().max(317), z.string().max(4096))
      .default({})
      .describe('Extra annotations on the operator and intake pods.'),
    nodeSelector: z.record(z.string().max(317), z.string().max(63)).default({}),
    tolerations: z
      .array(Toleration)
      .default([])
      .describe('Tolerations of the operator and intake pods.'),
    priorityClassName: z.string().max(253).default(''),
    intake: IntakeValues.default(() => IntakeValues.parse({})).describe(
      'The webhook intake: a StatefulSet taking provider webhooks, its Services, RBAC, ' +
        'PodDisruptionBudget and NetworkPolicy.',
    ),
  })
  .superRefine((values, context) => {
    const { enabled, store, jetstream } = values.intake;
    if (enabled && store === 'jetstream' && jetstream.url === '') {
      context.addIssue({
        code: 'custom',
        path: ['intake', 'jetstream', 'url'],
        message: 'intake.jetstream.url is required with intake.store=jetstream',
      });
    }
  })
  .describe('Values of the Tributary Helm chart.');

/** Values as written by a user (every field optional). */
export type InstallValuesInput = z.input<typeof InstallValues>;
/** Values with every default applied. */
export type InstallValues = z.output<typeof InstallValues>;

/**
 * Values with defaults applied, as a fresh object: zod hands out its `.default()` objects by
 * reference, so a caller changing the result must not change the next parse.
 */
export function parseValues(input: InstallValuesInput = {}): InstallValues {
  return structuredClone(InstallValues.parse(input));
}

/** The defaults: what `values.yaml` holds. */
export function defaultValues(): InstallValues {
  return parseValues({});
}

/** values.schema.json: what Helm checks `--set` and `-f` values against. */
export function valuesJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(InstallValues, { io: 'input', target: 'draft-7' });
}
