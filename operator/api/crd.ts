/**
 * CustomResourceDefinitions generated from the zod schemas: zod's own JSON Schema output,
 * turned into a Kubernetes structural OpenAPI v3 schema. Pure; `scripts/generate.ts` writes
 * the result to `crds/`.
 */
import { z } from 'zod';
import { GROUP, VERSION } from './common.ts';
import { IntegrationSpec, IntegrationStatus } from './integration.ts';
import { ReconcilePolicySpec, ReconcilePolicyStatus } from './policy.ts';

/** A JSON Schema / OpenAPI node, loosely typed: the generator only reshapes it. */
type SchemaNode = { [key: string]: unknown };

const SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

/** Keys zod emits that a structural schema does not need or does not allow. */
const DROPPED_KEYS = new Set(['$schema', 'id']);

/**
 * Reshapes zod's JSON Schema into a structural schema: no `additionalProperties: false`
 * (the API server prunes and, with strict field validation, rejects unknown fields), free-form
 * nodes marked `x-kubernetes-preserve-unknown-fields`, no giant date-time regexes and no
 * default safe-integer bounds.
 */
function toStructural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toStructural);
  if (node === null || typeof node !== 'object') return node;
  const source = node as SchemaNode;
  if (Object.keys(source).length === 0) return { 'x-kubernetes-preserve-unknown-fields': true };

  const out: SchemaNode = {};
  for (const [key, value] of Object.entries(source)) {
    if (DROPPED_KEYS.has(key)) continue;
    if (key === 'additionalProperties' && (value === false || isFreeForm(source))) continue;
    if (key === 'pattern' && source.format === 'date-time') continue;
    if (key === 'minimum' && value === -SAFE_INTEGER) continue;
    if (key === 'maximum' && value === SAFE_INTEGER) continue;
    if (key === 'properties' || key === 'x-kubernetes-validations' || key === 'enum') {
      out[key] = key === 'properties' ? mapValues(value as SchemaNode, toStructural) : value;
      continue;
    }
    out[key] = toStructural(value);
  }
  return out;
}

function isFreeForm(node: SchemaNode): boolean {
  return node['x-kubernetes-preserve-unknown-fields'] === true;
}

function mapValues(record: SchemaNode, fn: (value: unknown) => unknown): SchemaNode {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, fn(value)]));
}

/** The structural OpenAPI schema of one zod schema, as accepted by apiextensions.k8s.io/v1. */
export function structuralSchema(schema: z.ZodType): SchemaNode {
  const jsonSchema = z.toJSONSchema(schema, {
    io: 'input',
    target: 'openapi-3.0',
    unrepresentable: 'throw',
  });
  return toStructural(jsonSchema) as SchemaNode;
}

/** A printer column of `kubectl get`. */
interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date' | 'number' | 'boolean';
  jsonPath: string;
  description: string;
  priority?: number;
}

/** What differs between the CRDs of the two kinds. */
interface KindDefinition {
  kind: string;
  plural: string;
  shortNames: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  printerColumns: PrinterColumn[];
}

const conditionColumn = (type: string, field: 'status' | 'reason' | 'message') =>
  `.status.conditions[?(@.type=="${type}")].${field}`;

const AGE: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since creation.',
};

const KINDS: readonly KindDefinition[] = [
  {
    kind: 'Integration',
    plural: 'integrations',
    shortNames: ['integ'],
    description:
      'An Integration connects an external system (Stripe, Shopify, any HTTP API) to the ' +
      'platform: the operator runs sync Jobs on a schedule, retries them by policy, checks both ' +
      'sides for drift and reports status conditions, Events and metrics.',
    spec: IntegrationSpec,
    status: IntegrationStatus,
    printerColumns: [
      {
        name: 'Ready',
        type: 'string',
        jsonPath: conditionColumn('Ready', 'status'),
        description: 'Whether the Integration is healthy.',
      },
      {
        name: 'Reason',
        type: 'string',
        jsonPath: conditionColumn('Ready', 'reason'),
        description: 'Why it is (not) Ready.',
      },
      {
        name: 'Last Sync',
        type: 'date',
        jsonPath: '.status.lastSuccessfulSyncTime',
        description: 'Time since the last successful sync.',
      },
      {
        name: 'Drift',
        type: 'integer',
        jsonPath: '.status.drift.total',
        description: 'Differences found by the last drift check.',
      },
      {
        name: 'Suspended',
        type: 'boolean',
        jsonPath: '.spec.suspend',
        description: 'Whether runs are suspended (spec.suspend); empty means false.',
      },
      AGE,
      {
        name: 'Next Sync',
        type: 'string',
        jsonPath: '.status.nextSyncTime',
        description: 'When the next sync is due.',
        priority: 1,
      },
      {
        name: 'Message',
        type: 'string',
        jsonPath: conditionColumn('Ready', 'message'),
        description: 'The Ready message.',
        priority: 1,
      },
    ],
  },
  {
    kind: 'ReconcilePolicy',
    plural: 'reconcilepolicies',
    shortNames: ['rpol'],
    description:
      'A ReconcilePolicy says how the Integrations that reference it are run: schedule, ' +
      'retries, timeouts, drift checks, freshness, quarantine, rate limit and history.',
    spec: ReconcilePolicySpec,
    status: ReconcilePolicyStatus,
    printerColumns: [
      {
        name: 'Ready',
        type: 'string',
        jsonPath: conditionColumn('Ready', 'status'),
        description: 'Whether the policy is valid.',
      },
      {
        name: 'Integrations',
        type: 'integer',
        jsonPath: '.status.integrationCount',
        description: 'Integrations using this policy.',
      },
      {
        name: 'Interval',
        type: 'string',
        jsonPath: '.spec.sync.interval',
        description: 'Sync interval.',
      },
      {
        name: 'Schedule',
        type: 'string',
        jsonPath: '.spec.sync.schedule',
        description: 'Sync schedule.',
      },
      AGE,
    ],
  },
];

/** The CustomResourceDefinition of one kind. */
function customResourceDefinition(definition: KindDefinition): SchemaNode {
  const { kind, plural, shortNames, description, spec, status, printerColumns } = definition;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'tributary', 'app.kubernetes.io/part-of': 'tributary' },
    },
    spec: {
      group: GROUP,
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular: kind.toLowerCase(),
        shortNames,
        categories: ['tributary'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: printerColumns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'APIVersion of the object.' },
                kind: { type: 'string', description: 'Kind of the object.' },
                metadata: { type: 'object' },
                spec: structuralSchema(spec),
                status: structuralSchema(status),
              },
            },
          },
        },
      ],
    },
  };
}

/** Every CRD of the project, keyed by the file name it is written to under `crds/`. */
export function customResourceDefinitions(): Map<string, SchemaNode> {
  return new Map(
    KINDS.map((definition) => [
      `${GROUP}_${definition.plural}.yaml`,
      customResourceDefinition(definition),
    ]),
  );
}
