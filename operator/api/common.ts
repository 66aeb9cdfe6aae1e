/**
 * Building blocks shared by both kinds: references, metav1.Condition, object metadata, and the
 * cross-field rules that are enforced both by zod and, as CEL, by the API server.
 */
import { z } from 'zod';
import { dataKey, dnsSubdomain } from './formats.ts';

/** The API group of every Tributary kind. */
export const GROUP = 'tributary.dev';
/** The served and stored version. */
export const VERSION = 'v1alpha1';
/** `apiVersion` of every Tributary object. */
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A reference to one key of a Secret in the object's own namespace. Never the value itself. */
export const SecretKeyRef = z
  .strictObject({
    name: dnsSubdomain().describe('Name of the Secret, in the same namespace as this object.'),
    key: dataKey().describe('Key within the Secret whose value is used.'),
  })
  .describe(
    'A key of a Secret in the same namespace. The operator never reads the value: it is ' +
      'handed to the run as an environment variable through secretKeyRef.',
  );
/** A reference to one key of a Secret in the object's own namespace. */
export type SecretKeyRef = z.infer<typeof SecretKeyRef>;

/** A reference by name to an object in the same namespace. */
export const LocalObjectRef = z.strictObject({
  name: dnsSubdomain().describe('Name of the object, in the same namespace.'),
});
/** A reference by name to an object in the same namespace. */
export type LocalObjectRef = z.infer<typeof LocalObjectRef>;

/** An RFC 3339 timestamp in UTC, as Kubernetes writes them (`2026-01-02T03:04:05Z`). */
export const timestamp = () =>
  z.string().max(64).meta({ format: 'date-time', description: 'An RFC 3339 timestamp.' });

/** Status of a condition, as in metav1.Condition. */
export const ConditionStatus = z.enum(['True', 'False', 'Unknown']);

/** One condition in metav1.Condition form, as read by kstatus, kubectl wait and Argo CD. */
export const Condition = z
  .strictObject({
    type: z
      .string()
      .max(316)
      .regex(
        /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/,
      )
      .describe('Type of the condition in CamelCase, e.g. Ready.'),
    status: ConditionStatus.describe('Status of the condition: True, False or Unknown.'),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('The metadata.generation the condition was computed from.'),
    lastTransitionTime: timestamp().describe(
      'When the condition last changed status, reason or message.',
    ),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .describe('Programmatic CamelCase identifier of why the condition is in its state.'),
    message: z.string().max(32768).describe('What happened and what to do about it, for humans.'),
  })
  .describe('A status condition in metav1.Condition form.');
/** One condition in metav1.Condition form. */
export type Condition = z.infer<typeof Condition>;

/** The list of conditions of a status, keyed by type. */
export const Conditions = () =>
  z
    .array(Condition)
    .max(16)
    .meta({
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      description:
        'Conditions in metav1.Condition form. Ready is the summary; Reconciling and Stalled are ' +
        'present only while true (kstatus).',
    });

/** The parts of ObjectMeta the operator reads; everything else is kept as it is. */
export const ObjectMeta = z.looseObject({
  name: z.string().max(253).describe('Name of the object.'),
  namespace: z.string().max(63).optional().describe('Namespace of the object.'),
  uid: z.string().optional().describe('Unique id assigned by the API server.'),
  generation: z.int().optional().describe('Sequence number of the desired state.'),
  resourceVersion: z.string().optional().describe('Opaque version of the object.'),
  annotations: z.record(z.string(), z.string()).optional().describe('Annotations.'),
  labels: z.record(z.string(), z.string()).optional().describe('Labels.'),
  creationTimestamp: z.string().optional().describe('When the object was created.'),
  deletionTimestamp: z.string().optional().describe('When deletion was requested.'),
});

/**
 * A custom resource of `kind` as stored in the API: apiVersion, kind, metadata, `spec` and an
 * optional `status`; other top-level fields are kept as they are (the API server owns them).
 */
export function resourceObject<K extends string, Spec extends z.ZodType, Status extends z.ZodType>(
  kind: K,
  spec: Spec,
  status: Status,
) {
  return z.looseObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(kind),
    metadata: ObjectMeta,
    spec,
    status: status.optional(),
  });
}

/**
 * A rule across several fields of one object, written once and enforced twice: as a zod check
 * (so objects read back from the API are judged the same way) and as a CEL
 * `x-kubernetes-validations` rule in the CRD (so admission rejects it first).
 */
export interface CrossFieldRule<T> {
  /** CEL expression evaluated with `self` bound to the object. Keep it cheap: `has()` and `==`. */
  readonly rule: string;
  /** What is wrong, naming the fields, and what to do. */
  readonly message: string;
  /** The field the message is about, relative to the object (`http` for `self.http`). */
  readonly field?: string;
  /** The same rule for zod; true when the value is acceptable. */
  readonly holds: (value: T) => boolean;
}

/** Attaches cross-field rules to an object schema, for both zod and the generated CRD. */
export function withRules<S extends z.ZodObject>(
  schema: S,
  rules: readonly CrossFieldRule<z.output<S>>[],
): S {
  const refined = schema.superRefine((value, ctx) => {
    for (const { holds, message, field } of rules) {
      if (!holds(value)) ctx.addIssue({ code: 'custom', message, path: field ? [field] : [] });
    }
  });
  return refined.meta({
    'x-kubernetes-validations': rules.map(({ rule, message, field }) => ({
      rule,
      message,
      ...(field === undefined ? {} : { fieldPath: `.${field}` }),
    })),
  });
}

/**
 * Levels of JSON nesting a free-form field may have. The API server admits thousands, but past a
 * few thousand JSON.stringify overflows the stack: the operator could not write the run input.
 */
export const MAX_JSON_DEPTH = 100;

/** True when `value` nests at most `limit` objects or arrays deep; walks without recursion. */
export function jsonDepthAtMost(value: unknown, limit: number): boolean {
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { node, depth } = item;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > limit) return false;
    for (const child of Object.values(node)) stack.push({ node: child, depth: depth + 1 });
  }
  return true;
}
