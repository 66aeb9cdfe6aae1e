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
      .describe('Secrets for pulling the operator image (the sync Jobs do not inherit them).'),
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
      .describe('Extra annotations on the operator pods.'),
    nodeSelector: z.record(z.string().max(317), z.string().max(63)).default({}),
    tolerations: z.array(Toleration).default([]).describe('Tolerations of the operator pods.'),
    priorityClassName: z.string().max(253).default(''),
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
