/**
 * The install's settings, defined once: they are the Helm chart's values (values.schema.json is
 * rendered from this schema) and the options of the cdk8s app that renders `manifests/`. A test
 * renders the chart and the app with the same values and compares the objects.
 */
import { z } from 'zod';
import { DNS_LABEL } from '../../operator/api/formats.ts';
import {
  AffinityValues,
  ExtraEnvValues,
  GlobalValues,
  PodSecurityContextValues,
  SecurityContextValues,
  ServiceAccountValues,
} from './pod-values.ts';
import { IntakeValues, labelMap, quantities } from './intake-values.ts';

export type { IntakeValues } from './intake-values.ts';

const Toleration = z.strictObject({
  key: z.string().max(317).optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().max(63).optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  tolerationSeconds: z.int().optional(),
});

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
      .describe(
        'Keep at least one replica through voluntary disruptions; rendered only with replicas > 1 ' +
          '(with one replica it would block every node drain).',
      ),
    commonLabels: labelMap('Extra labels on every object.'),
    podAnnotations: z
      .record(z.string().max(317), z.string().max(4096))
      .default({})
      .describe('Extra annotations on the operator and intake pods.'),
    podLabels: labelMap('Extra labels on the operator pods (not on their selector).'),
    serviceAccount: ServiceAccountValues,
    podSecurityContext: PodSecurityContextValues,
    securityContext: SecurityContextValues,
    affinity: AffinityValues,
    extraEnv: ExtraEnvValues,
    nodeSelector: z.record(z.string().max(317), z.string().max(63)).default({}),
    tolerations: z
      .array(Toleration)
      .default([])
      .describe('Tolerations of the operator and intake pods.'),
    priorityClassName: z.string().max(253).default(''),
    crds: z
      .strictObject({
        templated: z
          .boolean()
          .default(false)
          .describe(
            'Render the CRDs from templates/ (upgraded with the chart, kept on uninstall by ' +
              '`helm.sh/resource-policy: keep`) instead of crds/; install with `--skip-crds`.',
          ),
      })
      .default({ templated: false })
      .describe('How the chart ships the CustomResourceDefinitions.'),
    aggregatedClusterRoles: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            'Create the `tributary-edit` and `tributary-view` ClusterRoles, which aggregate into ' +
              'the built-in admin, edit and view roles (off in a second release in the cluster).',
          ),
      })
      .default({ enabled: true })
      .describe(
        'Let namespace admins, editors and viewers use Integrations and ReconcilePolicies.',
      ),
    global: GlobalValues,
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
