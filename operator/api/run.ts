/**
 * `ReconcilePolicy.spec.run`: the settings of every run pod (sync and drift-check) — resources,
 * identity, image pull secrets, scheduling and pod metadata — and how they resolve across the
 * layers. Pure: no I/O.
 */
import { z } from 'zod';
import { LocalObjectRef, withRules, type CrossFieldRule } from './common.ts';
import {
  QUALIFIED_NAME_PATTERN,
  dnsSubdomain,
  isQualifiedName,
  labelValue,
  parseQuantity,
  QUANTITY_PATTERN,
  quantity,
} from './formats.ts';

/**
 * Label keys the operator sets on every run Job and pod (controller/plan/job.ts `JobLabel`) or
 * the Job controller does: a pod label may not set them, nor any key under a reserved prefix.
 */
export const RESERVED_POD_LABELS = [
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/name',
  'controller-uid',
  'job-name',
] as const;
/** Key prefixes reserved on run pods: Tributary's own and the Job controller's. */
export const RESERVED_POD_LABEL_PREFIXES = ['tributary.dev/', 'batch.kubernetes.io/'] as const;

/** Whether a pod label key is one the operator or the Job controller owns. */
export function isReservedPodKey(key: string): boolean {
  return (
    (RESERVED_POD_LABELS as readonly string[]).includes(key) ||
    RESERVED_POD_LABEL_PREFIXES.some((prefix) => key.startsWith(prefix))
  );
}

const RESOURCE_NAMES = ['cpu', 'memory', 'ephemeral-storage'] as const;
type ResourceName = (typeof RESOURCE_NAMES)[number];

/** Quantities of the three resources a run pod asks for. */
const ResourceList = z
  .strictObject({
    cpu: quantity().optional().describe('CPU, e.g. 100m or 0.5.'),
    memory: quantity().optional().describe('Memory, e.g. 128Mi or 1Gi.'),
    'ephemeral-storage': quantity()
      .optional()
      .describe("Local scratch space, e.g. 1Gi (the run's /tmp is an emptyDir)."),
  })
  .describe('Quantities of cpu, memory and ephemeral-storage.');

/** CEL name of a field: the API server escapes `-` in property names as `__dash__`. */
const celField = (name: ResourceName) => name.replaceAll('-', '__dash__');

/** A request may not exceed its limit within one object (the API server would refuse the pod). */
function requestWithinLimit(name: ResourceName): CrossFieldRule<RunResources> {
  const f = celField(name);
  return {
    rule:
      `!has(self.requests) || !has(self.limits) || !has(self.requests.${f}) || ` +
      `!has(self.limits.${f}) || ` +
      // The pattern first (CEL's || stops at true): quantity() on a huge exponent takes minutes.
      `!self.requests.${f}.matches('${QUANTITY_PATTERN}') || ` +
      `!self.limits.${f}.matches('${QUANTITY_PATTERN}') || ` +
      `quantity(self.requests.${f}).compareTo(quantity(self.limits.${f})) <= 0`,
    message: `requests.${name} must not exceed limits.${name}`,
    field: name === 'ephemeral-storage' ? `requests['${name}']` : `requests.${name}`,
    holds: ({ requests, limits }) => {
      const request = parseQuantity(requests?.[name] ?? '');
      const limit = parseQuantity(limits?.[name] ?? '');
      return request === undefined || limit === undefined || request <= limit;
    },
  };
}

type RunResources = {
  requests?: z.output<typeof ResourceList> | undefined;
  limits?: z.output<typeof ResourceList> | undefined;
};

/** Requests and limits of the run container. */
export const RunResources = withRules(
  z.strictObject({
    requests: ResourceList.optional().describe(
      'What the scheduler reserves for the run. Default: cpu 100m, memory 128Mi.',
    ),
    limits: ResourceList.optional().describe(
      'What the run may use at most. Default: memory 512Mi. A limit below the request in force ' +
        'is raised to it.',
    ),
  }),
  RESOURCE_NAMES.map(requestWithinLimit),
).describe(
  'Requests and limits of the run container, merged per quantity across the layers. Set limits ' +
    'where a LimitRange or ResourceQuota demands them.',
);

/** A map whose keys must be label keys, with a CEL rule and the same check in zod. */
function keysAreQualifiedNames<T extends object>(
  field: keyof T & string,
  what: string,
): CrossFieldRule<T> {
  return {
    rule:
      `!has(self.${field}) || self.${field}.all(k, size(k) <= 317 && ` +
      `k.matches('${QUALIFIED_NAME_PATTERN.replaceAll('\\', '\\\\')}'))`,
    message: `${field}: every key must be a valid ${what} key ([prefix/]name, name at most 63 characters)`,
    field,
    holds: (value) =>
      Object.keys((value[field] as object | undefined) ?? {}).every((key) => isQualifiedName(key)),
  };
}

/** No key the operator or the Job controller owns. */
function keysNotReserved<T extends object>(field: keyof T & string): CrossFieldRule<T> {
  const names = RESERVED_POD_LABELS.map((name) => `'${name}'`).join(', ');
  const prefixes = RESERVED_POD_LABEL_PREFIXES.map((p) => `k.startsWith('${p}')`).join(' || ');
  return {
    rule: `!has(self.${field}) || self.${field}.all(k, !(k in [${names}]) && !(${prefixes}))`,
    message:
      `${field} must not set keys the operator or the Job controller sets on run pods: ` +
      `${RESERVED_POD_LABELS.join(', ')} or any ${RESERVED_POD_LABEL_PREFIXES.join(' or ')} key`,
    field,
    holds: (value) =>
      Object.keys((value[field] as object | undefined) ?? {}).every((k) => !isReservedPodKey(k)),
  };
}

/** A free-form object passed to the pod spec as it is. */
const passThrough = (description: string) =>
  z
    .record(z.string(), z.unknown())
    .optional()
    .meta({ 'x-kubernetes-preserve-unknown-fields': true })
    .describe(description);

/** A toleration of a node taint, as in the pod spec. */
export const Toleration = withRules(
  z.strictObject({
    key: z
      .string()
      .max(317)
      .optional()
      .describe('Taint key to tolerate; empty with operator Exists tolerates every taint.'),
    operator: z
      .enum(['Exists', 'Equal'])
      .optional()
      .describe('Equal matches key and value; Exists matches any value. Default: Equal.'),
    value: labelValue().optional().describe('Taint value, with operator Equal.'),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])
      .optional()
      .describe('Taint effect to tolerate. Default: all effects.'),
    tolerationSeconds: z
      .int()
      .min(0)
      .max(31_536_000)
      .optional()
      .describe('With effect NoExecute: how long the pod stays bound after the taint appears.'),
  }),
  [
    {
      rule: "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
      message: 'value must be empty when operator is Exists',
      field: 'value',
      holds: (t) => t.operator !== 'Exists' || !t.value,
    },
    {
      rule: "(has(self.key) && self.key != '') || (has(self.operator) && self.operator == 'Exists')",
      message: 'a toleration without key must have operator Exists',
      field: 'operator',
      holds: (t) => !!t.key || t.operator === 'Exists',
    },
  ],
).describe('A toleration of a node taint (pod spec tolerations).');

const runShape = z.strictObject({
  resources: RunResources.optional(),
  serviceAccountName: dnsSubdomain()
    .optional()
    .describe(
      'ServiceAccount run pods use; its token is never mounted, but its imagePullSecrets and ' +
        "identity apply. Default: the namespace's default.",
    ),
  imagePullSecrets: z
    .array(LocalObjectRef.describe('A Secret of type kubernetes.io/dockerconfigjson.'))
    .max(16)
    .optional()
    .describe('Secrets (in the same namespace) used to pull a private connector image.'),
  nodeSelector: z
    .record(z.string(), labelValue().describe('The node label value.'))
    .optional()
    .meta({ maxProperties: 32 })
    .describe('Node labels a run pod must be scheduled on, e.g. {pool: integrations}.'),
  tolerations: z
    .array(Toleration)
    .max(32)
    .optional()
    .describe('Taints run pods tolerate, e.g. of a dedicated node pool.'),
  affinity: z
    .strictObject({
      nodeAffinity: passThrough('Node affinity, as in the pod spec.'),
      podAffinity: passThrough('Pod affinity, as in the pod spec.'),
      podAntiAffinity: passThrough('Pod anti-affinity, as in the pod spec.'),
    })
    .optional()
    .describe('Pod spec affinity, passed to run pods as it is.'),
  priorityClassName: dnsSubdomain()
    .optional()
    .describe('PriorityClass of run pods. Default: none (the cluster default).'),
  podLabels: z
    .record(z.string(), labelValue().describe('The label value.'))
    .optional()
    .meta({ maxProperties: 64 })
    .describe(
      'Extra labels of run pods. Keys the operator sets (tributary.dev/*, app.kubernetes.io/' +
        "managed-by, app.kubernetes.io/name) and the Job controller's are refused.",
    ),
  podAnnotations: z
    .record(z.string(), z.string().max(4096).describe('The annotation value.'))
    .optional()
    .meta({ maxProperties: 64 })
    .describe('Extra annotations of run pods. tributary.dev/* keys are refused.'),
});

/** The settings of every run pod (sync and drift-check). */
export const RunPolicy = withRules(runShape, [
  keysAreQualifiedNames('nodeSelector', 'label'),
  keysAreQualifiedNames('podLabels', 'label'),
  keysNotReserved('podLabels'),
  keysAreQualifiedNames('podAnnotations', 'annotation'),
  {
    rule: "!has(self.podAnnotations) || self.podAnnotations.all(k, !k.startsWith('tributary.dev/'))",
    message: 'podAnnotations must not set tributary.dev/ keys: the operator owns them',
    field: 'podAnnotations',
    holds: (run) =>
      Object.keys(run.podAnnotations ?? {}).every((k) => !k.startsWith('tributary.dev/')),
  },
]).describe(
  'Settings of every run pod, sync and drift-check. Each field comes from the highest layer ' +
    'that sets it (resources: per quantity).',
);
/** The settings of every run pod. */
export type RunPolicy = z.infer<typeof RunPolicy>;

/** The built-in run settings: today's requests and limit, the namespace's default account. */
export const RUN_DEFAULTS = {
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
} as const satisfies RunPolicy;

type Quantities = Partial<Record<ResourceName, string>>;

function mergeQuantities(lists: readonly (Quantities | undefined)[]): Quantities {
  const merged: Quantities = {};
  for (const list of lists) {
    for (const name of RESOURCE_NAMES) if (list?.[name] !== undefined) merged[name] = list[name];
  }
  return merged;
}

/** A limit below the request in force (a request raised by a higher layer) is raised to it. */
function limitsAtLeastRequests(requests: Quantities, limits: Quantities): Quantities {
  const raised = { ...limits };
  for (const name of RESOURCE_NAMES) {
    const request = parseQuantity(requests[name] ?? '');
    const limit = parseQuantity(limits[name] ?? '');
    if (request !== undefined && limit !== undefined && limit < request) {
      raised[name] = requests[name];
    }
  }
  return raised;
}

/**
 * Resolves the run settings from the layers, lowest first: each field from the highest layer
 * that sets it, resources per quantity. The result always has resources.
 */
export function resolveRun(layers: readonly (RunPolicy | undefined)[]): RunPolicy {
  const run: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer ?? {}) as [string, unknown][]) {
      if (value !== undefined && key !== 'resources') run[key] = structuredClone(value);
    }
  }
  const requests = mergeQuantities(layers.map((layer) => layer?.resources?.requests));
  const limits = mergeQuantities(layers.map((layer) => layer?.resources?.limits));
  return {
    ...(run as RunPolicy),
    resources: { requests, limits: limitsAtLeastRequests(requests, limits) },
  };
}
