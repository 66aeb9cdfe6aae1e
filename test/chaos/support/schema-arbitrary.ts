/**
 * fast-check arbitraries derived from the generated CRDs' structural schemas (crds/), so the
 * generated objects follow the real shapes as they change: types, enums, patterns, lengths,
 * bounds, item and property counts, and the duration bounds of their CEL rules. Cross-field
 * rules are not derived here: arbitraries.ts repairs the objects with the zod schemas.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { ROOT } from '../../../dev/cluster/images.ts';
import {
  CRON_PATTERN,
  DURATION_PATTERN,
  formatDuration,
  parseDuration,
  PERCENT_PATTERN,
} from '../../../operator/api/formats.ts';

/** One node of a structural OpenAPI v3 schema, as the CRDs hold them. */
export interface SchemaNode {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: SchemaNode;
  items?: SchemaNode;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-validations'?: { rule: string }[];
  'x-kubernetes-list-type'?: string;
}

/** The `spec` schema of a CRD file under crds/. */
export function crdSpecSchema(file: string): SchemaNode {
  const crd = parse(readFileSync(join(ROOT, 'crds', file), 'utf8')) as {
    spec: { versions: { schema: { openAPIV3Schema: SchemaNode } }[] };
  };
  const root = crd.spec.versions[0]?.schema.openAPIV3Schema;
  const spec = root?.properties?.spec;
  if (spec === undefined) throw new Error(`${file} has no spec schema`);
  return spec;
}

/** Arbitraries that replace the derived one at a dotted path (`connector.image`) or a key. */
export type Overrides = Record<string, fc.Arbitrary<unknown>>;

/** Time zones the runtime knows; the pattern alone would draw names no database has. */
const ZONES = ['Etc/UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham'];
/** Cron expressions in range, none more often than every five minutes (the load stays low). */
const CRONS = ['*/15 * * * *', '0 3 * * 1-5', '30 2 1 * *', '0 0 * * 0', '5,35 */2 * * *'];

/** An arbitrary of values valid against `node` (CEL cross-field rules aside). */
export function fromSchema(
  node: SchemaNode,
  overrides: Overrides = {},
  path = '',
): fc.Arbitrary<unknown> {
  const key = path.slice(path.lastIndexOf('.') + 1);
  const override = overrides[path] ?? overrides[key];
  if (override !== undefined) return override;
  if (node.enum !== undefined) return fc.constantFrom(...node.enum);
  switch (node.type) {
    case 'object':
      return objectArbitrary(node, overrides, path);
    case 'array': {
      const items = fromSchema(node.items ?? {}, overrides, `${path}[]`);
      const constraints = {
        minLength: node.minItems ?? 0,
        maxLength: Math.min(node.maxItems ?? 3, 3),
      };
      return node['x-kubernetes-list-type'] === 'set'
        ? fc.uniqueArray(items, { ...constraints, selector: (v) => JSON.stringify(v) })
        : fc.array(items, constraints);
    }
    case 'string':
      return stringArbitrary(node);
    case 'integer':
      return fc.integer({ min: node.minimum ?? -1_000_000, max: node.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({
        min: node.minimum ?? -1e6,
        max: node.maximum ?? 1e6,
        minExcluded: node.exclusiveMinimum === true,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function objectArbitrary(node: SchemaNode, overrides: Overrides, path: string) {
  if (node['x-kubernetes-preserve-unknown-fields'] === true && node.properties === undefined)
    return fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), {
      maxKeys: 4,
    });
  if (node.properties === undefined) {
    const values = fromSchema(node.additionalProperties ?? {}, overrides, `${path}.*`);
    const maxKeys = Math.min(node.maxProperties ?? 3, 3);
    return fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/), values, { maxKeys });
  }
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, child] of Object.entries(node.properties))
    model[name] = fromSchema(child, overrides, path === '' ? name : `${path}.${name}`);
  return fc.record(model, { requiredKeys: node.required ?? [] });
}

function stringArbitrary(node: SchemaNode): fc.Arbitrary<string> {
  const { pattern } = node;
  if (pattern === DURATION_PATTERN) return durationArbitrary(node);
  if (pattern === PERCENT_PATTERN) return fc.integer({ min: 0, max: 100 }).map((n) => `${n}%`);
  if (pattern === CRON_PATTERN) return fc.constantFrom(...CRONS);
  if (pattern?.startsWith('^[A-Za-z][A-Za-z0-9_+-]*(\\/') === true)
    return fc.constantFrom(...ZONES);
  const minLength = node.minLength ?? 0;
  const maxLength = node.maxLength ?? 64;
  if (pattern === undefined) return fc.string({ minLength, maxLength: Math.min(maxLength, 32) });
  return fc
    .stringMatching(new RegExp(pattern))
    .filter((text) => text.length >= minLength && text.length <= maxLength);
}

/** A duration within the bounds of the node's CEL rule (`duration(self) >= duration('10s') ...`). */
function durationArbitrary(node: SchemaNode): fc.Arbitrary<string> {
  const rule = node['x-kubernetes-validations']?.[0]?.rule ?? '';
  const bounds = [...rule.matchAll(/duration\('([^']+)'\)/g)].map((m) => parseDuration(m[1] ?? ''));
  const min = bounds[0] ?? 1000;
  const max = bounds[1] ?? 24 * 3_600_000;
  return fc
    .oneof(
      fc.constantFrom(min, max),
      fc.integer({ min, max }).map((ms) => ms - (ms % 1000 || 0)),
    )
    .map((ms) => formatDuration(Math.max(min, ms)));
}
