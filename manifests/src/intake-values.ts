/**
 * The webhook intake's settings in the install's values (`intake.*`, manifests/src/values.ts),
 * and the value types both share.
 */
import { z } from 'zod';

/** A Kubernetes quantity, e.g. `100m` or `128Mi`. */
export const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;

/** A label map (key ≤ 317, value ≤ 63 characters), empty by default, described as `what`. */
export const labelMap = (what: string) =>
  z.record(z.string().max(317), z.string().max(63)).default({}).describe(what);

/** CPU and memory of a container's requests or limits. */
export const quantities = z
  .strictObject({
    cpu: z.string().regex(QUANTITY).optional().describe('CPU, e.g. `100m`.'),
    memory: z.string().regex(QUANTITY).optional().describe('Memory, e.g. `128Mi`.'),
  })
  .default({});

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

export const IntakeValues = z.strictObject({
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
