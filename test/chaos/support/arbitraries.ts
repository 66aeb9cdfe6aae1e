/**
 * Integrations and ReconcilePolicies for the hostile-specs scenario: valid ones derived from the
 * CRDs' schemas (schema-arbitrary.ts) and repaired with the operator's own zod schemas until they
 * parse, and hostile ones made from a valid one by one mutation — huge strings, unicode, deep
 * nesting and ~1 MiB objects in connector.config, extreme numbers, wrong types, unknown fields,
 * odd durations, cron expressions and time zones, hostile annotations and names.
 */
import fc from 'fast-check';
import type { z } from 'zod';
import { QUICK_CONNECTOR_IMAGE } from '../../../dev/cluster/images.ts';
import { IntegrationSpec } from '../../../operator/api/integration.ts';
import { ReconcilePolicySpec } from '../../../operator/api/policy.ts';
import { applyMutation, mutation, serialize } from './mutations.ts';
import { crdSpecSchema, fromSchema, type Overrides, type SchemaNode } from './schema-arbitrary.ts';

/** The Secret every generated credentialsRef names (a sentinel Secret), and its keys. */
export const CREDENTIALS = { name: 'fuzz-credentials', keys: ['apiKey', 'token', 'password'] };
/** Names of the policies of a batch; an Integration's policyRef picks one, or a missing one. */
export const POLICY_NAMES = ['policy-0', 'policy-1', 'policy-2'];

/** One object of a batch, as sent to the API server. */
export interface Case {
  kind: 'Integration' | 'ReconcilePolicy';
  /** What was done to the valid object, e.g. `valid` or `huge-string spec.source.resource`. */
  mutation: string;
  /** Whether the operator's zod schema accepts the spec (after the mutation). */
  zodValid: boolean;
  body: Record<string, unknown>;
}

const integrationSchema = crdSpecSchema('tributary.dev_integrations.yaml');
const policySchema = crdSpecSchema('tributary.dev_reconcilepolicies.yaml');

const overrides: Overrides = {
  credentialsRef: fc.record({
    name: fc.constant(CREDENTIALS.name),
    key: fc.constantFrom(...CREDENTIALS.keys),
  }),
  policyRef: fc.record({ name: fc.constantFrom(...POLICY_NAMES, 'no-such-policy') }),
  'connector.image': fc.oneof(
    { weight: 4, arbitrary: fc.constant(QUICK_CONNECTOR_IMAGE) },
    { weight: 1, arbitrary: fc.constantFrom('ghcr.io/acme/none:1', 'registry.invalid/x@sha256:0') },
  ),
  suspend: fc.boolean(),
};

/** Removes what `schema` refuses, one issue at a time (the parent when the field is absent). */
export function repair(schema: z.ZodType, value: Record<string, unknown>) {
  const object = structuredClone(value);
  for (let round = 0; round < 20; round++) {
    const result = schema.safeParse(object);
    if (result.success) return { object, valid: true };
    const issue = result.error.issues[0];
    const path = (issue?.path ?? []).map((part) =>
      typeof part === 'number' ? part : String(part),
    );
    if (path.length === 0 || !removeAt(object, path)) {
      if (path.length <= 1) return { object, valid: false };
      removeAt(object, path.slice(0, -1));
    }
  }
  return { object, valid: schema.safeParse(object).success };
}

function removeAt(root: unknown, path: readonly (string | number)[]): boolean {
  const parent = path.slice(0, -1).reduce<unknown>((node, key) => child(node, key), root);
  const last = path[path.length - 1];
  if (last === undefined || parent === null || typeof parent !== 'object') return false;
  if (Array.isArray(parent) && typeof last === 'number') {
    if (last >= parent.length) return false;
    parent.splice(last, 1);
    return true;
  }
  if (!Object.hasOwn(parent, last)) return false;
  Reflect.deleteProperty(parent, last);
  return true;
}

function child(node: unknown, key: string | number): unknown {
  return node !== null && typeof node === 'object'
    ? (node as Record<string, unknown>)[key]
    : undefined;
}

/** A valid Integration spec: derived, always with a connector (the quick shell), repaired. */
export const validIntegrationSpec = fromSchema(integrationSchema, overrides)
  .map((spec) => {
    const object = spec as Record<string, unknown>;
    object.connector ??= { image: QUICK_CONNECTOR_IMAGE };
    return repair(IntegrationSpec, object);
  })
  .filter((repaired) => repaired.valid)
  .map((repaired) => repaired.object);

/** A valid ReconcilePolicy spec, derived and repaired. */
export const validPolicySpec = fromSchema(policySchema, overrides)
  .map((spec) => repair(ReconcilePolicySpec, spec as Record<string, unknown>))
  .filter((repaired) => repaired.valid)
  .map((repaired) => repaired.object);

/** Every schema path of `node` whose string is a duration, cron or time zone, by kind. */
function pathsOf(
  node: SchemaNode,
  test: (n: SchemaNode) => boolean,
  prefix: string[] = [],
): string[][] {
  const own = test(node) ? [prefix] : [];
  const children = Object.entries(node.properties ?? {}).flatMap(([name, sub]) =>
    pathsOf(sub, test, [...prefix, name]),
  );
  return [...own, ...children];
}

const isDuration = (n: SchemaNode) => n.pattern?.startsWith('^([0-9]+(\\.[0-9]+)?') === true;
const isCron = (n: SchemaNode) => n.pattern?.includes('[0-9A-Za-z*?,/-]') === true;
const isZone = (n: SchemaNode) => n.pattern?.startsWith('^[A-Za-z][A-Za-z0-9_+-]*(\\/') === true;

/** Schema paths (under spec) by the kind of string they hold, for an Integration or a policy. */
function targets(kind: Case['kind']) {
  const schema = kind === 'Integration' ? integrationSchema : policySchema;
  return {
    durations: pathsOf(schema, isDuration),
    crons: pathsOf(schema, isCron),
    zones: pathsOf(schema, isZone),
  };
}

const TARGETS = {
  Integration: targets('Integration'),
  ReconcilePolicy: targets('ReconcilePolicy'),
};

/** One object of kind `kind` named `name`: valid (a quarter of them) or mutated once. */
function caseOf(kind: Case['kind'], name: string): fc.Arbitrary<Case> {
  const spec = kind === 'Integration' ? validIntegrationSpec : validPolicySpec;
  const schema = kind === 'Integration' ? IntegrationSpec : ReconcilePolicySpec;
  return fc.tuple(spec, fc.option(mutation(TARGETS[kind]), { freq: 4 })).map(([valid, change]) => {
    const body: Record<string, unknown> = {
      apiVersion: 'tributary.dev/v1alpha1',
      kind,
      metadata: { name },
      spec: valid,
    };
    const described = change === null ? 'valid' : applyMutation(body, change);
    const zodValid = schema.safeParse(body.spec).success;
    const item: Case = { kind, mutation: described, zodValid, body };
    // fast-check prints counterexamples: short, whatever the size or depth of the body.
    return Object.defineProperty(item, fc.toStringMethod, {
      value: () => `${kind}(${described}) ${printable(body)}`,
    });
  });
}

/** The start of `body` as JSON; what is nested too deep to print within a stack is elided. */
function printable(body: unknown): string {
  try {
    return serialize(body).slice(0, 300);
  } catch {
    return '(too deep to print)';
  }
}

/** A batch for one fresh namespace: 0–2 policies (created first), then 1–3 Integrations. */
export const batch: fc.Arbitrary<Case[]> = fc
  .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 3 }))
  .chain(([policies, integrations]) =>
    fc.tuple(
      ...Array.from({ length: policies }, (_, i) =>
        caseOf('ReconcilePolicy', POLICY_NAMES[i] ?? 'p'),
      ),
      ...Array.from({ length: integrations }, (_, i) => caseOf('Integration', `integration-${i}`)),
    ),
  );
